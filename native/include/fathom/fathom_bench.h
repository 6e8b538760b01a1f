/*
 * fathom_bench.h: entry points that exist only for Fathom's benchmarks, apart
 * from the product's C ABI (fathom.h) so that the public surface holds only
 * what a model needs. Bound by their own JavaCPP preset (fathom_bench); the
 * same conventions as fathom.h (status codes, fathom_last_error()).
 */
#ifndef FATHOM_FATHOM_BENCH_H
#define FATHOM_FATHOM_BENCH_H

#include "fathom/fathom.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/*
 * Benchmark baseline: a plain single-threaded C++ loop over n contiguous floats
 * (op: FATHOM_BINARY_ADD on a and b, or FATHOM_UNARY_RELU / FATHOM_UNARY_EXP
 * on a when unary != 0), repeated iterations times.
 */
FATHOM_API fathom_status fathom_bench_plain_loop(int32_t unary, int32_t op, int64_t a, int64_t b,
                                                 int64_t dst, int64_t n, int32_t iterations,
                                                 double* seconds);

#ifdef __cplusplus
}
#endif

#endif /* FATHOM_FATHOM_BENCH_H */
