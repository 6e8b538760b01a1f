// One value of fathom_runtime_info ("key=value" lines) for the tests.
#pragma once

#include <string>

#include "fathom/fathom.h"

namespace fathom_test {

// The value after "key=", or "" when the key is missing.
inline std::string runtime_info_value(const std::string& key) {
    int64_t needed = 0;
    fathom_runtime_info(nullptr, 0, &needed);
    std::string info(static_cast<size_t>(needed), '\0');
    fathom_runtime_info(info.data(), needed, &needed);
    const std::string text = "\n" + info;
    const size_t at = text.find("\n" + key + "=");
    if (at == std::string::npos) return "";
    const size_t start = at + key.size() + 2;
    const size_t end = text.find('\n', start);
    return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace fathom_test
