// Error plumbing between the C++ core and the C ABI: kernels throw fathom::Error
// (or let oneDNN/std exceptions escape); c_api.cpp turns every exception into a
// fathom_status plus a thread-local message. Nothing here crosses the ABI.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

#include "fathom/fathom.h"

namespace fathom {

class Error : public std::runtime_error {
public:
    Error(fathom_status status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    fathom_status status() const { return status_; }

private:
    fathom_status status_;
};

void set_last_error(const std::string& message);
void clear_last_error();
const char* last_error();

// Builds a message from streamable parts: fail(FATHOM_INVALID_ARGUMENT, "gemm: m=", m).
template <typename... Parts>
[[noreturn]] void fail(fathom_status status, const Parts&... parts) {
    std::ostringstream os;
    (os << ... << parts);
    throw Error(status, os.str());
}

}  // namespace fathom
