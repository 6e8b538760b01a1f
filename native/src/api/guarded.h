// guarded(): the exception-to-status wrapper of every C ABI file. Runs fn and
// turns anything it throws into a fathom_status plus the thread-local message,
// so no exception crosses the C boundary. Same function as in c_api.cpp.
#pragma once

#include <new>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "fathom/fathom.h"

#ifdef FATHOM_WITH_DNNL
#include <dnnl.hpp>
#endif

namespace {

template <typename Fn>
fathom_status guarded(const char* op, Fn&& fn) noexcept {
    try {
        fn();
        return FATHOM_OK;
    } catch (const fathom::Error& e) {
        fathom::set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc&) {
        fathom::set_last_error(std::string(op) + ": out of memory");
        return FATHOM_OUT_OF_MEMORY;
#ifdef FATHOM_WITH_DNNL
    } catch (const dnnl::error& e) {
        fathom::set_last_error(std::string(op) + ": oneDNN error " +
                               std::to_string(static_cast<int>(e.status)) + ": " + e.what());
        return e.status == dnnl_out_of_memory ? FATHOM_OUT_OF_MEMORY : FATHOM_BACKEND_ERROR;
#endif
    } catch (const std::exception& e) {
        fathom::set_last_error(std::string(op) + ": " + e.what());
        return FATHOM_INTERNAL_ERROR;
    } catch (...) {
        fathom::set_last_error(std::string(op) + ": unknown C++ exception");
        return FATHOM_INTERNAL_ERROR;
    }
}

}  // namespace
