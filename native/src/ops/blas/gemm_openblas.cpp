// OpenBLAS backend: one cblas_sgemm per batch entry (row-major). OpenBLAS's
// blasint is 32-bit in the bytedeco build, which validate_gemm guarantees for
// dimensions; leading dimensions are checked here.
#include "ops/blas/openblas_cblas.h"

#include <cstring>
#include <limits>

#include "core/error.h"
#include "ops/gemm.h"

namespace fathom {

bool openblas_has_avx512_kernels() {
    const char* core = openblas_get_corename();
    if (core == nullptr) return false;
    for (const char* name : {"SkylakeX", "Cooperlake", "SapphireRapids", "Zen4", "Zen5"})
        if (std::strstr(core, name) != nullptr) return true;
    return false;
}

void gemm_forward_openblas(const fathom_gemm_params& p, const float* a, const float* b, float* c,
                           int threads) {
    constexpr int64_t kMax = std::numeric_limits<blasint>::max();
    if (p.lda > kMax || p.ldb > kMax || p.ldc > kMax)
        fail(FATHOM_INVALID_ARGUMENT, "sgemm[openblas]: leading dimension above 2^31-1 (",
             describe_gemm(p), ")");
    // NOTE: per-calling-thread count (OpenBLAS >= 0.3.27), so concurrent JVM
    // callers do not overwrite each other's setting.
    openblas_set_num_threads_local(threads);
    const CBLAS_TRANSPOSE ta = p.trans_a ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE tb = p.trans_b ? CblasTrans : CblasNoTrans;
    for (int64_t i = 0; i < p.batch; ++i)
        cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(p.m), static_cast<blasint>(p.n),
                    static_cast<blasint>(p.k), p.alpha, a + i * p.stride_a,
                    static_cast<blasint>(p.lda), b + i * p.stride_b, static_cast<blasint>(p.ldb),
                    p.beta, c + i * p.stride_c, static_cast<blasint>(p.ldc));
}

}  // namespace fathom
