// Reference GEMM: the readable specification every fast backend is tested
// against. Accumulates in double for both element types so that the f32
// result is the correctly rounded one, which makes it a fair oracle.
//   C[i][r][j] = alpha * sum_p opA[r][p] * opB[p][j] + beta * C[i][r][j]
#include "ops/gemm.h"

namespace fathom {

namespace {

template <typename T>
void gemm_ref_impl(const fathom_gemm_params& p, const T* a, const T* b, T* c) {
    for (int64_t i = 0; i < p.batch; ++i) {
        const T* ai = a + i * p.stride_a;
        const T* bi = b + i * p.stride_b;
        T* ci = c + i * p.stride_c;
        for (int64_t r = 0; r < p.m; ++r)
            for (int64_t j = 0; j < p.n; ++j) {
                double acc = 0.0;
                for (int64_t q = 0; q < p.k; ++q) {
                    const T av = p.trans_a ? ai[q * p.lda + r] : ai[r * p.lda + q];
                    const T bv = p.trans_b ? bi[j * p.ldb + q] : bi[q * p.ldb + j];
                    acc += static_cast<double>(av) * static_cast<double>(bv);
                }
                T& out = ci[r * p.ldc + j];
                // beta == 0 must not read C (it may hold NaN or garbage).
                const double prior = p.beta == 0.0f ? 0.0 : static_cast<double>(p.beta) * out;
                out = static_cast<T>(static_cast<double>(p.alpha) * acc + prior);
            }
    }
}

}  // namespace

void gemm_forward_ref(const fathom_gemm_params& p, const float* a, const float* b, float* c) {
    gemm_ref_impl(p, a, b, c);
}

void gemm_forward_ref(const fathom_gemm_params& p, const double* a, const double* b, double* c) {
    gemm_ref_impl(p, a, b, c);
}

}  // namespace fathom
