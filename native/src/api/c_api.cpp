// The only place where C++ meets C: validate, dispatch, catch, return a status.
// No exception leaves this file; every failure sets the thread-local message.
#include <chrono>
#include <cstring>
#include <new>
#include <string>

#include "core/error.h"
#include "core/runtime_info.h"
#include "core/threads.h"
#include "fathom/fathom.h"
#include "ops/gemm.h"

#ifdef FATHOM_WITH_DNNL
#include <dnnl.hpp>
#endif

using fathom::fail;

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

const fathom_gemm_params& require_params(const char* op, const fathom_gemm_params* p) {
    if (p == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    return *p;
}

fathom_gemm_backend require_backend(const char* op, int32_t backend) {
    if (backend < FATHOM_GEMM_AUTO || backend > FATHOM_GEMM_CUDA)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown backend ", backend);
    return static_cast<fathom_gemm_backend>(backend);
}

}  // namespace

extern "C" {

int32_t fathom_abi_version(void) { return FATHOM_ABI_VERSION; }

const char* fathom_last_error(void) { return fathom::last_error(); }

fathom_status fathom_runtime_info(char* buf, int64_t capacity, int64_t* needed) {
    return guarded("runtime_info", [&] {
        if (capacity < 0) fail(FATHOM_INVALID_ARGUMENT, "runtime_info: capacity=", capacity);
        if (capacity > 0 && buf == nullptr)
            fail(FATHOM_INVALID_ARGUMENT, "runtime_info: buf is null but capacity=", capacity);
        const std::string text = fathom::runtime_info_text();
        const int64_t size = static_cast<int64_t>(text.size()) + 1;
        if (needed) *needed = size;
        if (capacity > 0) {
            const int64_t n = std::min<int64_t>(capacity - 1, size - 1);
            std::memcpy(buf, text.data(), static_cast<size_t>(n));
            buf[n] = '\0';
        }
    });
}

fathom_status fathom_set_num_threads(int32_t n) {
    return guarded("set_num_threads", [&] {
        if (n < 1) fail(FATHOM_INVALID_ARGUMENT, "set_num_threads: n=", n, " (must be >= 1)");
        fathom::set_num_threads(n);
    });
}

fathom_status fathom_get_num_threads(int32_t* out) {
    return guarded("get_num_threads", [&] {
        if (!out) fail(FATHOM_INVALID_ARGUMENT, "get_num_threads: out is null");
        *out = fathom::num_threads();
    });
}

fathom_status fathom_sgemm(int32_t backend, const fathom_gemm_params* params, const float* a,
                           int64_t a_len, const float* b, int64_t b_len, float* c, int64_t c_len) {
    return guarded("sgemm", [&] {
        const auto& p = require_params("sgemm", params);
        const auto be = require_backend("sgemm", backend);
        fathom::validate_gemm("sgemm", p, a, a_len, b, b_len, c, c_len);
        fathom::sgemm(be, p, a, b, c);
    });
}

fathom_status fathom_dgemm_reference(const fathom_gemm_params* params, const double* a,
                                     int64_t a_len, const double* b, int64_t b_len, double* c,
                                     int64_t c_len) {
    return guarded("dgemm_reference", [&] {
        const auto& p = require_params("dgemm_reference", params);
        fathom::validate_gemm("dgemm_reference", p, a, a_len, b, b_len, c, c_len);
        if (p.m == 0 || p.n == 0 || p.batch == 0) return;
        fathom::gemm_forward_ref(p, a, b, c);
    });
}

fathom_status fathom_sgemm_timed(int32_t backend, const fathom_gemm_params* params,
                                 const float* a, int64_t a_len, const float* b, int64_t b_len,
                                 float* c, int64_t c_len, int32_t iterations, double* seconds) {
    return guarded("sgemm_timed", [&] {
        const auto& p = require_params("sgemm_timed", params);
        const auto be = require_backend("sgemm_timed", backend);
        if (iterations < 1)
            fail(FATHOM_INVALID_ARGUMENT, "sgemm_timed: iterations=", iterations);
        if (!seconds) fail(FATHOM_INVALID_ARGUMENT, "sgemm_timed: seconds is null");
        // Same validation as fathom_sgemm on every iteration, so the comparison
        // with the Java path measures only what Java adds.
        const auto start = std::chrono::steady_clock::now();
        for (int32_t i = 0; i < iterations; ++i) {
            fathom::validate_gemm("sgemm_timed", p, a, a_len, b, b_len, c, c_len);
            fathom::sgemm(be, p, a, b, c);
        }
        *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
}

}  // extern "C"
