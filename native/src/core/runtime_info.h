#pragma once
#include <string>

namespace fathom {
std::string runtime_info_text();
}
