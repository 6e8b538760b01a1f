/*
 * fathom.h: the whole C ABI of Fathom's native core, and the only header the
 * JavaCPP preset parses. It is flat C on purpose: fixed-width ints, floats,
 * opaque handles and POD structs cross it; no C++ type or exception does.
 *
 * Conventions (enforced in native/src/api/c_api.cpp):
 *  - every entry point returns fathom_status; on failure the thread-local
 *    fathom_last_error() names the entry point and the offending sizes;
 *  - callers allocate outputs and pass their lengths so that native code can
 *    refuse a too-small buffer instead of writing past it;
 *  - enums and structs are append-only; fathom_abi_version() grows with them.
 */
#ifndef FATHOM_FATHOM_H
#define FATHOM_FATHOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(FATHOM_BUILDING)
#define FATHOM_API __declspec(dllexport)
#elif defined(_WIN32)
#define FATHOM_API __declspec(dllimport)
#else
#define FATHOM_API __attribute__((visibility("default")))
#endif

/* Bumped whenever an entry point, enum value or struct field is appended. */
#define FATHOM_ABI_VERSION 1

typedef enum fathom_status {
    FATHOM_OK = 0,
    FATHOM_INVALID_ARGUMENT = 1, /* bad sizes, null or too-small buffers */
    FATHOM_OUT_OF_MEMORY = 2,
    FATHOM_UNSUPPORTED = 3,      /* e.g. a backend this build or machine lacks */
    FATHOM_BACKEND_ERROR = 4,    /* oneDNN, OpenBLAS or CUDA reported a failure */
    FATHOM_INTERNAL_ERROR = 5
} fathom_status;

typedef enum fathom_gemm_backend {
    FATHOM_GEMM_AUTO = 0,     /* pick per shape (see native/src/ops/gemm.cpp) */
    FATHOM_GEMM_REFERENCE = 1,/* naive loops: the specification, slow */
    FATHOM_GEMM_OPENBLAS = 2, /* cblas_sgemm */
    FATHOM_GEMM_ONEDNN = 3,   /* dnnl matmul, primitives cached per shape */
    FATHOM_GEMM_CUDA = 4      /* only in -DFATHOM_CUDA=ON builds with a GPU */
} fathom_gemm_backend;

/*
 * Strided-batched row-major GEMM, for i in [0, batch):
 *   C_i = alpha * op(A_i) * op(B_i) + beta * C_i
 * op(A_i) is (m,k): A_i = a + i*stride_a is stored (m,k) with row stride lda,
 * or (k,m) when trans_a != 0. op(B_i) is (k,n): B_i stored (k,n) with ldb, or
 * (n,k) when trans_b. C_i = c + i*stride_c is (m,n) with row stride ldc.
 * stride_a or stride_b may be 0 (the same matrix for every batch entry).
 * beta == 0 overwrites C without reading it (NaNs in C do not propagate).
 */
typedef struct fathom_gemm_params {
    int32_t trans_a;
    int32_t trans_b;
    int64_t m;
    int64_t n;
    int64_t k;
    float alpha;
    float beta;
    int64_t lda;
    int64_t ldb;
    int64_t ldc;
    int64_t batch;
    int64_t stride_a;
    int64_t stride_b;
    int64_t stride_c;
} fathom_gemm_params;

FATHOM_API int32_t fathom_abi_version(void);

/* Message of the last failed call on this thread ("" if none). Owned by the library. */
FATHOM_API const char* fathom_last_error(void);

/*
 * Runtime description as "key=value" lines (library and ABI version, oneDNN
 * version and ISA, OpenBLAS core and config, threads, CUDA). Writes at most
 * capacity bytes including the terminating NUL into buf and sets *needed to
 * the full size; buf may be null to query the size.
 */
FATHOM_API fathom_status fathom_runtime_info(char* buf, int64_t capacity, int64_t* needed);

/*
 * Intra-op threads for oneDNN and OpenBLAS together (n >= 1), process-wide.
 * Concurrent callers share this budget: each call runs on
 * max(1, n / concurrent_calls) threads, so k JVM threads never run more than
 * about n + k native threads in total.
 */
FATHOM_API fathom_status fathom_set_num_threads(int32_t n);
FATHOM_API fathom_status fathom_get_num_threads(int32_t* out);

/* a, b, c hold a_len, b_len, c_len floats; see fathom_gemm_params. */
FATHOM_API fathom_status fathom_sgemm(int32_t backend, const fathom_gemm_params* params,
                                      const float* a, int64_t a_len,
                                      const float* b, int64_t b_len,
                                      float* c, int64_t c_len);

/* Double-precision reference GEMM (alpha, beta as in params): the oracle for tests. */
FATHOM_API fathom_status fathom_dgemm_reference(const fathom_gemm_params* params,
                                                const double* a, int64_t a_len,
                                                const double* b, int64_t b_len,
                                                double* c, int64_t c_len);

/*
 * Benchmark helper: runs fathom_sgemm `iterations` times in a C++ loop and
 * stores the wall time in *seconds, so Java can compare its own call path
 * against the direct native call on the same buffers in the same process.
 */
FATHOM_API fathom_status fathom_sgemm_timed(int32_t backend, const fathom_gemm_params* params,
                                            const float* a, int64_t a_len,
                                            const float* b, int64_t b_len,
                                            float* c, int64_t c_len,
                                            int32_t iterations, double* seconds);

#ifdef __cplusplus
}
#endif

#endif /* FATHOM_FATHOM_H */
