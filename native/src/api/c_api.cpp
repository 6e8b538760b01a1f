// Where C++ meets C (with c_api_conv.cpp for the CNN kernels): validate,
// dispatch, catch, return a status. No exception leaves these files (api/guarded.h);
// every failure sets the thread-local message.
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "api/guarded.h"
#include "core/allocator.h"
#include "core/device.h"
#include "core/error.h"
#include "core/runtime_info.h"
#include "core/threads.h"
#include "fathom/fathom.h"
#include "fathom/fathom_bench.h"  // the benchmark-only entry points are defined here too
#include "ops/elementwise.h"
#include "ops/gemm.h"
#include "ops/index.h"
#include "ops/matmul.h"
#include "ops/op_table.h"
#include "ops/random.h"
#include "ops/reduce.h"

using fathom::fail;
using fathom::guarded;

namespace {

const fathom_gemm_params& require_params(const char* op, const fathom_gemm_params* p) {
    if (p == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    return *p;
}

fathom_gemm_backend require_backend(const char* op, int32_t backend) {
    if (backend < FATHOM_GEMM_AUTO || backend > FATHOM_GEMM_CUDA)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown backend ", backend);
    return static_cast<fathom_gemm_backend>(backend);
}

template <typename T>
T* address_of(int64_t address) {
    return reinterpret_cast<T*>(static_cast<intptr_t>(address));
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

// --- Tensors (ABI 2) ---------------------------------------------------------

fathom_status fathom_alloc(int64_t bytes, int64_t* address) {
    return guarded("alloc", [&] {
        if (!address) fail(FATHOM_INVALID_ARGUMENT, "alloc: address is null");
        *address = static_cast<int64_t>(reinterpret_cast<intptr_t>(fathom::tensor_alloc(bytes)));
    });
}

fathom_status fathom_free(int64_t address) {
    return guarded("free", [&] { fathom::tensor_free(address_of<void>(address)); });
}

fathom_status fathom_live_bytes(int64_t* out) {
    return guarded("live_bytes", [&] {
        if (!out) fail(FATHOM_INVALID_ARGUMENT, "live_bytes: out is null");
        *out = fathom::tensor_live_bytes();
    });
}

fathom_status fathom_set_memory_limit(int64_t bytes) {
    return guarded("set_memory_limit", [&] { fathom::set_tensor_memory_limit(bytes); });
}

fathom_status fathom_memory_limit(int64_t* out) {
    return guarded("memory_limit", [&] {
        if (!out) fail(FATHOM_INVALID_ARGUMENT, "memory_limit: out is null");
        *out = fathom::tensor_memory_limit();
    });
}

fathom_status fathom_device_count(int32_t type, int32_t* count) {
    return guarded("device_count", [&] {
        if (!count) fail(FATHOM_INVALID_ARGUMENT, "device_count: count is null");
        *count = fathom::device_count(type);
    });
}

fathom_status fathom_device_alloc(int32_t device, int64_t bytes, int64_t* address) {
    return guarded("device_alloc", [&] {
        if (!address) fail(FATHOM_INVALID_ARGUMENT, "device_alloc: address is null");
        *address = static_cast<int64_t>(
            reinterpret_cast<intptr_t>(fathom::device_alloc(device, bytes)));
    });
}

fathom_status fathom_device_free(int32_t device, int64_t address) {
    return guarded("device_free",
                   [&] { fathom::device_free(device, address_of<void>(address)); });
}

fathom_status fathom_device_copy(int32_t dst_device, int64_t dst, int32_t src_device, int64_t src,
                                 int64_t bytes) {
    return guarded("device_copy", [&] {
        fathom::device_copy(dst_device, address_of<void>(dst), src_device,
                            address_of<const void>(src), bytes);
    });
}

fathom_status fathom_device_memory(int32_t device, int64_t* live, int64_t* cached) {
    return guarded("device_memory", [&] {
        if (!live || !cached) fail(FATHOM_INVALID_ARGUMENT, "device_memory: an output is null");
        *live = fathom::device_live_bytes(device);
        *cached = fathom::device_cached_bytes(device);
    });
}

namespace {

// The device a tensor call runs on: its output's (the checks then require
// every other operand there too); a code of no known device is refused here,
// before the operand checks would word it as a mismatch.
int32_t call_device(const char* family, const fathom_tensor_desc* dst) {
    const int32_t device = dst ? dst->device : FATHOM_DEVICE_CPU;
    fathom::require_known_device(family, device);
    return device;
}

}  // namespace

fathom_status fathom_unary(int32_t op, const fathom_tensor_desc* src,
                           const fathom_tensor_desc* dst, double alpha, double beta) {
    return guarded("unary", [&] {
        const int32_t device = call_device("unary", dst);
        if (device != FATHOM_DEVICE_CPU) {
            const auto args = fathom::check_unary(op, src, dst, device);
            fathom::require_cuda_device(args.name.c_str(), device);
            fathom::unary_forward_cuda(op, args.src, args.dst, alpha, beta);
            return;
        }
        const auto args = fathom::check_unary(op, src, dst);
        fathom::unary_forward(op, args.src, args.dst, alpha, beta);
    });
}

fathom_status fathom_binary(int32_t op, const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                            const fathom_tensor_desc* dst) {
    return guarded("binary", [&] {
        const int32_t device = call_device("binary", dst);
        if (device != FATHOM_DEVICE_CPU) {
            const auto args = fathom::check_binary(op, a, b, dst, device);
            fathom::require_cuda_device(args.name.c_str(), device);
            fathom::binary_forward_cuda(op, args.a, args.b, args.dst);
            return;
        }
        const auto args = fathom::check_binary(op, a, b, dst);
        fathom::binary_forward(op, args.a, args.b, args.dst);
    });
}

fathom_status fathom_where(const fathom_tensor_desc* cond, const fathom_tensor_desc* a,
                           const fathom_tensor_desc* b, const fathom_tensor_desc* dst) {
    return guarded("where", [&] {
        const auto args = fathom::check_where(cond, a, b, dst);
        fathom::where_forward(args.cond, args.a, args.b, args.dst);
    });
}

fathom_status fathom_reduce(int32_t op, const fathom_tensor_desc* src,
                            const fathom_tensor_desc* dst, const fathom_tensor_desc* indices) {
    return guarded("reduce", [&] {
        const int32_t device = call_device("reduce", dst);
        if (device != FATHOM_DEVICE_CPU) {
            const auto args = fathom::check_reduce(op, src, dst, indices, device);
            fathom::require_cuda_device(args.name.c_str(), device);
            fathom::reduce_forward_cuda(op, args.src, args.dst,
                                        args.has_indices ? &args.indices : nullptr);
            return;
        }
        const auto args = fathom::check_reduce(op, src, dst, indices);
        fathom::reduce_forward(op, args.src, args.dst,
                               args.has_indices ? &args.indices : nullptr);
    });
}

fathom_status fathom_op_name(int32_t kind, int32_t code, const char** name) {
    return guarded("op_name", [&] {
        if (!name) fail(FATHOM_INVALID_ARGUMENT, "op_name: name is null");
        if (kind < FATHOM_OP_KIND_UNARY || kind > FATHOM_OP_KIND_REDUCE)
            fail(FATHOM_INVALID_ARGUMENT, "op_name: unknown kind ", kind);
        const char* found = fathom::op_name(kind, code);
        if (!found) fail(FATHOM_INVALID_ARGUMENT, "op_name: kind ", kind, " has no op ", code);
        *name = found;
    });
}

fathom_status fathom_index_select(const fathom_tensor_desc* src, int32_t dim,
                                  const fathom_tensor_desc* index,
                                  const fathom_tensor_desc* dst) {
    return guarded("index_select", [&] {
        fathom::index_select_forward(fathom::check_index_select(src, dim, index, dst));
    });
}

fathom_status fathom_index_add(const fathom_tensor_desc* dst, int32_t dim,
                               const fathom_tensor_desc* index, const fathom_tensor_desc* src) {
    return guarded("index_add", [&] {
        fathom::index_add_forward(fathom::check_index_add(dst, dim, index, src));
    });
}

fathom_status fathom_gather(const fathom_tensor_desc* src, int32_t dim,
                            const fathom_tensor_desc* index, const fathom_tensor_desc* dst) {
    return guarded("gather",
                   [&] { fathom::gather_forward(fathom::check_gather(src, dim, index, dst)); });
}

fathom_status fathom_scatter_add(const fathom_tensor_desc* dst, int32_t dim,
                                 const fathom_tensor_desc* index, const fathom_tensor_desc* src) {
    return guarded("scatter_add", [&] {
        fathom::scatter_add_forward(fathom::check_scatter_add(dst, dim, index, src));
    });
}

fathom_status fathom_random(int32_t op, int64_t seed, int64_t offset,
                            const fathom_tensor_desc* dst, double alpha, double beta) {
    return guarded("random", [&] {
        const auto args = fathom::check_random(op, offset, dst, alpha, beta);
        fathom::random_forward(op, static_cast<uint64_t>(seed), static_cast<uint64_t>(offset),
                               args.dst, alpha, beta);
    });
}

fathom_status fathom_matmul(const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                            const fathom_tensor_desc* dst) {
    return guarded("matmul", [&] {
        const int32_t device = call_device("matmul", dst);
        if (device != FATHOM_DEVICE_CPU) {
            const auto args = fathom::check_matmul(a, b, dst, device);
            fathom::require_cuda_device("matmul", device);
            fathom::matmul_forward_cuda(args);
            return;
        }
        fathom::matmul_forward(fathom::check_matmul(a, b, dst));
    });
}

fathom_status fathom_bench_plain_loop(int32_t unary, int32_t op, int64_t a, int64_t b,
                                      int64_t dst, int64_t n, int32_t iterations,
                                      double* seconds) {
    return guarded("bench_plain_loop", [&] {
        const char* name = "bench_plain_loop";
        if (unary != 0 && op != FATHOM_UNARY_RELU && op != FATHOM_UNARY_EXP)
            fail(FATHOM_INVALID_ARGUMENT, name, ": unary op ", op, " is not relu or exp");
        if (unary == 0 && op != FATHOM_BINARY_ADD)
            fail(FATHOM_INVALID_ARGUMENT, name, ": binary op ", op, " is not add");
        if (n < 0) fail(FATHOM_INVALID_ARGUMENT, name, ": n=", n);
        if (iterations < 1) fail(FATHOM_INVALID_ARGUMENT, name, ": iterations=", iterations);
        if (!seconds) fail(FATHOM_INVALID_ARGUMENT, name, ": seconds is null");
        if (n > 0 && (a == 0 || dst == 0 || (unary == 0 && b == 0)))
            fail(FATHOM_INVALID_ARGUMENT, name, ": null buffer for n=", n);
        const float* x = address_of<const float>(a);
        const float* y = address_of<const float>(b);
        float* out = address_of<float>(dst);
        // NOTE: deliberately naive (one thread, no ThreadGrant, no strided walk):
        // the floor against which Java measures what its tensor ops add or gain.
        const auto start = std::chrono::steady_clock::now();
        for (int32_t it = 0; it < iterations; ++it) {
            if (unary == 0)
                for (int64_t i = 0; i < n; ++i) out[i] = x[i] + y[i];
            else if (op == FATHOM_UNARY_RELU)
                for (int64_t i = 0; i < n; ++i) out[i] = x[i] < 0.0f ? 0.0f : x[i];
            else
                for (int64_t i = 0; i < n; ++i) out[i] = std::exp(x[i]);
        }
        *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
}

}  // extern "C"
