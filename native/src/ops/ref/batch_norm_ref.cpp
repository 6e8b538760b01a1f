// Reference batch normalization: the specification of fathom_batch_norm_*
// (semantics in ops/batch_norm.h). Plain per-channel loops in double, f32 and
// f64, serial: the oracle for the oneDNN kernels and the F64 path.
#include <cmath>
#include <vector>

#include "ops/batch_norm.h"

namespace fathom {

namespace {

// Element (n, c, s) of an (N,C,S) tensor.
inline int64_t at(const BatchNormParams& p, int64_t n, int64_t c, int64_t s) {
    return (n * p.c + c) * p.s + s;
}

template <typename T>
void forward(const BatchNormParams& p, const T* src, const T* gamma, const T* beta,
             T* running_mean, T* running_var, T* save_mean, T* save_invstd, T* dst) {
    const double m = static_cast<double>(p.n) * static_cast<double>(p.s);
    std::vector<double> batch_mean(p.c), batch_var(p.c);
    for (int64_t c = 0; c < p.c; ++c) {
        double mean, var;
        if (p.training) {
            // Two passes: the mean, then the biased variance around it.
            double sum = 0.0;
            for (int64_t n = 0; n < p.n; ++n)
                for (int64_t s = 0; s < p.s; ++s) sum += src[at(p, n, c, s)];
            mean = sum / m;
            double sq = 0.0;
            for (int64_t n = 0; n < p.n; ++n)
                for (int64_t s = 0; s < p.s; ++s) {
                    const double d = src[at(p, n, c, s)] - mean;
                    sq += d * d;
                }
            var = sq / m;
        } else {
            mean = running_mean[c];
            var = running_var[c];
        }
        batch_mean[c] = mean;
        batch_var[c] = var;
        const double invstd = 1.0 / std::sqrt(var + p.eps);
        const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
        const double b = beta ? static_cast<double>(beta[c]) : 0.0;
        for (int64_t n = 0; n < p.n; ++n)
            for (int64_t s = 0; s < p.s; ++s) {
                const int64_t i = at(p, n, c, s);
                dst[i] = static_cast<T>(g * (src[i] - mean) * invstd + b);
            }
        if (save_mean) save_mean[c] = static_cast<T>(mean);
        if (save_invstd) save_invstd[c] = static_cast<T>(invstd);
    }
    if (p.training) batch_norm_update_running(p, batch_mean.data(), batch_var.data(), running_mean,
                                              running_var);
}

// Training: with xhat = (x - mean) * invstd and M = N*S values per channel,
//   y = gamma * xhat + beta, and mean and invstd depend on every x of the channel:
//   dbeta  = sum(dy)
//   dgamma = sum(dy * xhat)
//   dxhat  = gamma * dy
//   dvar   = sum(dxhat * (x - mean)) * -1/2 * invstd^3
//   dmean  = -invstd * sum(dxhat)            (the dvar term vanishes: sum(x - mean) = 0)
//   dx     = dxhat * invstd + dvar * 2 (x - mean) / M + dmean / M
//          = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
// Inference (statistics are constants): dx = gamma * invstd * dy; the same dgamma, dbeta.
template <typename T>
void backward(const BatchNormParams& p, const T* src, const T* diff_dst, const T* gamma,
              const T* save_mean, const T* save_invstd, T* diff_src, T* diff_gamma,
              T* diff_beta) {
    const double m = static_cast<double>(p.n) * static_cast<double>(p.s);
    for (int64_t c = 0; c < p.c; ++c) {
        const double mean = save_mean[c], invstd = save_invstd[c];
        const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t n = 0; n < p.n; ++n)
            for (int64_t s = 0; s < p.s; ++s) {
                const int64_t i = at(p, n, c, s);
                sum_dy += diff_dst[i];
                sum_dy_xhat += diff_dst[i] * (src[i] - mean) * invstd;
            }
        for (int64_t n = 0; n < p.n; ++n)
            for (int64_t s = 0; s < p.s; ++s) {
                const int64_t i = at(p, n, c, s);
                if (p.training) {
                    const double xhat = (src[i] - mean) * invstd;
                    diff_src[i] = static_cast<T>(g * invstd / m *
                                                 (m * diff_dst[i] - sum_dy - xhat * sum_dy_xhat));
                } else {
                    diff_src[i] = static_cast<T>(g * invstd * diff_dst[i]);
                }
            }
        if (diff_gamma) diff_gamma[c] = static_cast<T>(sum_dy_xhat);
        if (diff_beta) diff_beta[c] = static_cast<T>(sum_dy);
    }
}

}  // namespace

void batch_norm_forward_ref(const BatchNormParams& p, const float* src,
                            const float* gamma, const float* beta, float* running_mean,
                            float* running_var, float* save_mean, float* save_invstd, float* dst) {
    forward(p, src, gamma, beta, running_mean, running_var, save_mean, save_invstd, dst);
}
void batch_norm_forward_ref(const BatchNormParams& p, const double* src,
                            const double* gamma, const double* beta, double* running_mean,
                            double* running_var, double* save_mean, double* save_invstd,
                            double* dst) {
    forward(p, src, gamma, beta, running_mean, running_var, save_mean, save_invstd, dst);
}
void batch_norm_backward_ref(const BatchNormParams& p, const float* src,
                             const float* diff_dst, const float* gamma, const float* save_mean,
                             const float* save_invstd, float* diff_src, float* diff_gamma,
                             float* diff_beta) {
    backward(p, src, diff_dst, gamma, save_mean, save_invstd, diff_src, diff_gamma, diff_beta);
}
void batch_norm_backward_ref(const BatchNormParams& p, const double* src,
                             const double* diff_dst, const double* gamma,
                             const double* save_mean, const double* save_invstd,
                             double* diff_src, double* diff_gamma, double* diff_beta) {
    backward(p, src, diff_dst, gamma, save_mean, save_invstd, diff_src, diff_gamma, diff_beta);
}

}  // namespace fathom
