// GEMM validation and dispatch. Validation lives here, once, so every backend
// (and the C ABI) refuses the same inputs with the same message.
#include "ops/gemm.h"

#include <limits>
#include <sstream>

#include "core/cpu_rules.h"
#include "core/error.h"
#include "core/threads.h"

namespace fathom {

std::string describe_gemm(const fathom_gemm_params& p) {
    std::ostringstream os;
    os << "m=" << p.m << " n=" << p.n << " k=" << p.k << " batch=" << p.batch
       << " trans_a=" << (p.trans_a != 0) << " trans_b=" << (p.trans_b != 0) << " lda=" << p.lda
       << " ldb=" << p.ldb << " ldc=" << p.ldc << " stride_a=" << p.stride_a
       << " stride_b=" << p.stride_b << " stride_c=" << p.stride_c;
    return os.str();
}

int64_t gemm_required_len(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld) {
    if (batch == 0 || rows == 0 || cols == 0) return 0;
    // Overflow is ruled out by the caller's checks on each factor (< 2^31 dims, strides < 2^62).
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}

namespace {

void check_buffer(const char* op, const char* name, const void* ptr, int64_t len, int64_t need,
                  const fathom_gemm_params& p) {
    if (need > 0 && ptr == nullptr)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " is null but ", need,
             " elements are required (", describe_gemm(p), ")");
    if (len < need)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " holds ", len, " elements but ", need,
             " are required (", describe_gemm(p), ")");
}

}  // namespace

void validate_gemm(const char* op, const fathom_gemm_params& p, const void* a, int64_t a_len,
                   const void* b, int64_t b_len, const void* c, int64_t c_len) {
    constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
    constexpr int64_t kMaxStride = int64_t{1} << 40;
    if (p.m < 0 || p.n < 0 || p.k < 0 || p.batch < 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": negative dimension (", describe_gemm(p), ")");
    if (p.m > kMaxDim || p.n > kMaxDim || p.k > kMaxDim || p.batch > kMaxDim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dimension above 2^31-1 (", describe_gemm(p), ")");
    if (p.lda > kMaxStride || p.ldb > kMaxStride || p.ldc > kMaxStride ||
        p.stride_a > kMaxStride || p.stride_b > kMaxStride || p.stride_c > kMaxStride)
        fail(FATHOM_INVALID_ARGUMENT, op, ": stride above 2^40 (", describe_gemm(p), ")");
    // Stored shapes: A is (m,k) or (k,m), B is (k,n) or (n,k), C is (m,n).
    const int64_t a_rows = p.trans_a ? p.k : p.m, a_cols = p.trans_a ? p.m : p.k;
    const int64_t b_rows = p.trans_b ? p.n : p.k, b_cols = p.trans_b ? p.k : p.n;
    if (p.lda < std::max<int64_t>(1, a_cols))
        fail(FATHOM_INVALID_ARGUMENT, op, ": lda=", p.lda, " is smaller than the ", a_cols,
             " columns of stored A (", describe_gemm(p), ")");
    if (p.ldb < std::max<int64_t>(1, b_cols))
        fail(FATHOM_INVALID_ARGUMENT, op, ": ldb=", p.ldb, " is smaller than the ", b_cols,
             " columns of stored B (", describe_gemm(p), ")");
    if (p.ldc < std::max<int64_t>(1, p.n))
        fail(FATHOM_INVALID_ARGUMENT, op, ": ldc=", p.ldc, " is smaller than n (",
             describe_gemm(p), ")");
    if (p.stride_a < 0 || p.stride_b < 0 || p.stride_c < 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": negative batch stride (", describe_gemm(p), ")");
    if (p.batch > 1 && p.stride_c < (p.m - 1) * p.ldc + p.n)
        fail(FATHOM_INVALID_ARGUMENT, op, ": stride_c=", p.stride_c,
             " makes batch outputs overlap (", describe_gemm(p), ")");
    const bool empty_out = p.m == 0 || p.n == 0 || p.batch == 0;
    const int64_t k_used = empty_out ? 0 : p.k;
    check_buffer(op, "a", a, a_len,
                 gemm_required_len(empty_out ? 0 : p.batch, p.stride_a, a_rows,
                                   k_used == 0 ? 0 : a_cols, p.lda), p);
    check_buffer(op, "b", b, b_len,
                 gemm_required_len(empty_out ? 0 : p.batch, p.stride_b, b_rows,
                                   k_used == 0 ? 0 : b_cols, p.ldb), p);
    check_buffer(op, "c", c, c_len, gemm_required_len(p.batch, p.stride_c, p.m, p.n, p.ldc), p);
}

void gemm_scale_output(const fathom_gemm_params& p, float* c) {
    for (int64_t i = 0; i < p.batch; ++i)
        for (int64_t r = 0; r < p.m; ++r) {
            float* row = c + i * p.stride_c + r * p.ldc;
            for (int64_t j = 0; j < p.n; ++j) row[j] = p.beta == 0.0f ? 0.0f : p.beta * row[j];
        }
}

fathom_gemm_backend resolve_gemm_backend(const fathom_gemm_params& p) {
#ifdef FATHOM_WITH_DNNL
    // oneDNN's JIT wins on large products and MLP shapes; below a threshold its
    // per-call overhead loses to OpenBLAS. The threshold is per CPU (cpu_rules.h,
    // docs/cpu-rules.md); an OpenBLAS held to AVX2 kernels (OPENBLAS_CORETYPE=
    // Haswell) is 2x slower at 64^3, so then only tiny products go to it.
#ifdef FATHOM_WITH_OPENBLAS
    const double flops = 2.0 * static_cast<double>(p.m) * p.n * p.k * p.batch;
    static const double openblas_below = openblas_has_avx512_kernels()
                                             ? cpu_rules().gemm_openblas_below_flops
                                             : cpu_rules().gemm_openblas_below_flops_avx2;
    if (flops < openblas_below) return FATHOM_GEMM_OPENBLAS;
#else
    (void)p;
#endif
    return FATHOM_GEMM_ONEDNN;
#elif defined(FATHOM_WITH_OPENBLAS)
    (void)p;
    return FATHOM_GEMM_OPENBLAS;
#else
    (void)p;
    return FATHOM_GEMM_REFERENCE;
#endif
}

void sgemm(fathom_gemm_backend backend, const fathom_gemm_params& p, const float* a,
           const float* b, float* c) {
    if (backend == FATHOM_GEMM_AUTO) backend = resolve_gemm_backend(p);
    if (p.m == 0 || p.n == 0 || p.batch == 0) return;
    if (p.k == 0 || p.alpha == 0.0f) {  // no product to add: C = beta * C
        gemm_scale_output(p, c);
        return;
    }
    const double flops = 2.0 * static_cast<double>(p.m) * p.n * p.k * p.batch;
    switch (backend) {
        case FATHOM_GEMM_REFERENCE:
            gemm_forward_ref(p, a, b, c);
            return;
        case FATHOM_GEMM_OPENBLAS: {
#ifdef FATHOM_WITH_OPENBLAS
            ThreadGrant grant(flops);
            gemm_forward_openblas(p, a, b, c, grant.threads());
            return;
#else
            fail(FATHOM_UNSUPPORTED, "sgemm: this build has no OpenBLAS backend");
#endif
        }
        case FATHOM_GEMM_ONEDNN: {
#ifdef FATHOM_WITH_DNNL
            ThreadGrant grant(flops);
            gemm_forward_dnnl(p, a, b, c, grant.threads());
            return;
#else
            fail(FATHOM_UNSUPPORTED, "sgemm: this build has no oneDNN backend");
#endif
        }
        case FATHOM_GEMM_CUDA:
            if (!cuda_gemm_available())
                fail(FATHOM_UNSUPPORTED,
                     "sgemm: CUDA backend requested but this build or machine has no CUDA GPU");
            gemm_forward_cuda(p, a, b, c);
            return;
        default:
            fail(FATHOM_INVALID_ARGUMENT, "sgemm: unknown backend ", static_cast<int>(backend));
    }
}

}  // namespace fathom
