// Batch-norm backward for F32 (N,C,S) with S > 1 (after a convolution), by
// hand. oneDNN 3.11's plain-layout backward (ncsp_bnorm) measured 118 ms on
// 256x64x48x48 with 2 threads against PyTorch's 69 ms; a blocked layout would
// need reorders on both sides. This kernel does what PyTorch's does: channels
// in parallel, two vectorised passes over each channel's contiguous rows (the
// two sums, then dx), so every element is read twice and written once.
// One thread owns each channel and sums in double, so results do not depend
// on the thread count (oneDNN's dense kernel split N across threads, so its F32
// results varied in the last bits with the thread count).
//
// nChw16c activations (the descriptors' layout, S > 1) have kernels of
// their own: the same sums with the 16 channels of a block in vector lanes.
//
// Forward (any S) and the dense case S == 1 (N,C rows, as after ResNet-18's
// last stage at 28x28, 512x1x1) are here too. oneDNN's bnorm_jit on 256x512
// took 0.13 ms alone but a median of 16-24 ms (2 threads) while other
// processes ran: it synchronises its threads several times per call, and each
// barrier waits for a descheduled thread. In a ResNet-18 training step at 28x28
// the four 512x1x1 batch norms took 63 ms forward and 31 ms backward of a
// 636 ms step (ONEDNN_VERBOSE=profile_exec). These kernels have one parallel
// loop over channels and no barrier inside it. S == 1 walks rows (channels
// contiguous) in blocks of kDenseBlock channels per thread. With them that step
// took 517-528 ms instead of 624-633 (two alternating runs each), and the
// 256x64x48x48 forward 58-60 ms instead of oneDNN's ncsp_bnorm 101-107 ms
// (same machine, same time, busy). oneDNN's batch-norm primitives were removed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ops/batch_norm.h"

namespace fathom {

namespace {

constexpr int64_t kDenseBlock = 64;

// The F32 operands of one call, typed once (nullable ones stay null).
struct ForwardOperands {
    const float *x, *gamma, *beta, *running_mean, *running_var;
    float* y;
    explicit ForwardOperands(const BatchNormArgs& a)
        : x(reinterpret_cast<const float*>(a.src)),
          gamma(reinterpret_cast<const float*>(a.gamma)),
          beta(reinterpret_cast<const float*>(a.beta)),
          running_mean(reinterpret_cast<const float*>(a.running_mean)),
          running_var(reinterpret_cast<const float*>(a.running_var)),
          y(reinterpret_cast<float*>(a.dst)) {}
};

struct BackwardOperands {
    const float *x, *dy, *gamma, *mean, *invstd;
    float *dx, *dgamma, *dbeta;
    explicit BackwardOperands(const BatchNormArgs& a)
        : x(reinterpret_cast<const float*>(a.src)),
          dy(reinterpret_cast<const float*>(a.diff_dst)),
          gamma(reinterpret_cast<const float*>(a.gamma)),
          mean(reinterpret_cast<const float*>(a.save_mean)),
          invstd(reinterpret_cast<const float*>(a.save_invstd)),
          dx(reinterpret_cast<float*>(a.dst)),
          dgamma(reinterpret_cast<float*>(a.diff_gamma)),
          dbeta(reinterpret_cast<float*>(a.diff_beta)) {}
};


// S == 1: x is (N, C) row-major. Channels [c0, c1) per block, sums over rows
// in double (each channel's sum in row order: thread-count independent).
void backward_dense(const BatchNormArgs& a, int threads) {
    const BatchNormParams& p = a.p;
    const BackwardOperands o(a);
    const auto *x = o.x, *dy = o.dy, *gamma = o.gamma, *mean = o.mean, *invstd = o.invstd;
    auto *dx = o.dx, *dgamma = o.dgamma, *dbeta = o.dbeta;
    const int64_t n_count = p.n, c_count = p.c;
    const double m = static_cast<double>(n_count);
    const bool training = p.training != 0;
    const int64_t blocks = (c_count + kDenseBlock - 1) / kDenseBlock;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * kDenseBlock;
        const int64_t len = std::min(kDenseBlock, c_count - c0);
        double sum_dy[kDenseBlock] = {}, sum_dy_xc[kDenseBlock] = {};
        for (int64_t n = 0; n < n_count; ++n) {
            const float* xr = x + n * c_count + c0;
            const float* dyr = dy + n * c_count + c0;
            const float* mu = mean + c0;
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) {
                sum_dy[j] += dyr[j];
                sum_dy_xc[j] += static_cast<double>(dyr[j] * (xr[j] - mu[j]));
            }
        }
        float k_dy[kDenseBlock], k_x[kDenseBlock], k_0[kDenseBlock];
        for (int64_t j = 0; j < len; ++j) {
            const int64_t c = c0 + j;
            const double is = invstd[c];
            const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
            k_dy[j] = static_cast<float>(g * is);
            k_x[j] = training ? static_cast<float>(-g * is * is * is * sum_dy_xc[j] / m) : 0.0f;
            k_0[j] = training ? static_cast<float>(-g * is * sum_dy[j] / m) : 0.0f;
            if (dgamma) dgamma[c] = static_cast<float>(sum_dy_xc[j] * is);
            if (dbeta) dbeta[c] = static_cast<float>(sum_dy[j]);
        }
        for (int64_t n = 0; n < n_count; ++n) {
            const float* xr = x + n * c_count + c0;
            const float* dyr = dy + n * c_count + c0;
            const float* mu = mean + c0;
            float* dxr = dx + n * c_count + c0;
#pragma omp simd
            for (int64_t j = 0; j < len; ++j)
                dxr[j] = k_dy[j] * dyr[j] + k_x[j] * (xr[j] - mu[j]) + k_0[j];
        }
    }
}

// Per channel: the statistics y uses (batch: two passes, mean then biased
// variance; inference: running), recorded in mean_out/var_out.
void forward_channels(const BatchNormArgs& a, int threads, double* mean_out, double* var_out) {
    const BatchNormParams& p = a.p;
    const ForwardOperands o(a);
    const auto *x = o.x, *gamma = o.gamma, *beta = o.beta;
    const auto *running_mean = o.running_mean, *running_var = o.running_var;
    auto* y = o.y;
    const int64_t n_count = p.n, c_count = p.c, s_count = p.s;
    const double m = static_cast<double>(n_count) * static_cast<double>(s_count);
    const bool training = p.training != 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < c_count; ++c) {
        double mean, var;
        if (training) {
            double sum = 0.0;
            for (int64_t n = 0; n < n_count; ++n) {
                const float* xr = x + (n * c_count + c) * s_count;
                float row = 0.0f;
#pragma omp simd reduction(+ : row)
                for (int64_t s = 0; s < s_count; ++s) row += xr[s];
                sum += row;
            }
            mean = sum / m;
            const float mu = static_cast<float>(mean);
            double sq = 0.0;
            for (int64_t n = 0; n < n_count; ++n) {
                const float* xr = x + (n * c_count + c) * s_count;
                float row = 0.0f;
#pragma omp simd reduction(+ : row)
                for (int64_t s = 0; s < s_count; ++s) {
                    const float d = xr[s] - mu;
                    row += d * d;
                }
                sq += row;
            }
            var = sq / m;
        } else {
            mean = running_mean[c];
            var = running_var[c];
        }
        mean_out[c] = mean;
        var_out[c] = var;
        const double invstd = 1.0 / std::sqrt(var + p.eps);
        const float mu = static_cast<float>(mean);
        const float scale = static_cast<float>((gamma ? gamma[c] : 1.0) * invstd);
        const float shift = beta ? beta[c] : 0.0f;
        for (int64_t n = 0; n < n_count; ++n) {
            const float* xr = x + (n * c_count + c) * s_count;
            float* yr = y + (n * c_count + c) * s_count;
#pragma omp simd
            for (int64_t s = 0; s < s_count; ++s) yr[s] = (xr[s] - mu) * scale + shift;
        }
    }
}

// S == 1, (N, C) rows: the same statistics, channel blocks per thread.
void forward_dense(const BatchNormArgs& a, int threads, double* mean_out, double* var_out) {
    const BatchNormParams& p = a.p;
    const ForwardOperands o(a);
    const auto *x = o.x, *gamma = o.gamma, *beta = o.beta;
    const auto *running_mean = o.running_mean, *running_var = o.running_var;
    auto* y = o.y;
    const int64_t n_count = p.n, c_count = p.c;
    const double m = static_cast<double>(n_count);
    const bool training = p.training != 0;
    const int64_t blocks = (c_count + kDenseBlock - 1) / kDenseBlock;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * kDenseBlock;
        const int64_t len = std::min(kDenseBlock, c_count - c0);
        double* mean = mean_out + c0;
        double* var = var_out + c0;
        if (training) {
            double sum[kDenseBlock] = {}, sq[kDenseBlock] = {};
            for (int64_t n = 0; n < n_count; ++n) {
                const float* xr = x + n * c_count + c0;
#pragma omp simd
                for (int64_t j = 0; j < len; ++j) sum[j] += xr[j];
            }
            float mu[kDenseBlock];
            for (int64_t j = 0; j < len; ++j) {
                mean[j] = sum[j] / m;
                mu[j] = static_cast<float>(mean[j]);
            }
            for (int64_t n = 0; n < n_count; ++n) {
                const float* xr = x + n * c_count + c0;
#pragma omp simd
                for (int64_t j = 0; j < len; ++j) {
                    const float d = xr[j] - mu[j];
                    sq[j] += static_cast<double>(d * d);
                }
            }
            for (int64_t j = 0; j < len; ++j) var[j] = sq[j] / m;
        } else {
            for (int64_t j = 0; j < len; ++j) {
                mean[j] = running_mean[c0 + j];
                var[j] = running_var[c0 + j];
            }
        }
        float mu[kDenseBlock], scale[kDenseBlock], shift[kDenseBlock];
        for (int64_t j = 0; j < len; ++j) {
            const int64_t c = c0 + j;
            mu[j] = static_cast<float>(mean[j]);
            scale[j] = static_cast<float>((gamma ? gamma[c] : 1.0) / std::sqrt(var[j] + p.eps));
            shift[j] = beta ? beta[c] : 0.0f;
        }
        for (int64_t n = 0; n < n_count; ++n) {
            const float* xr = x + n * c_count + c0;
            float* yr = y + n * c_count + c0;
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) yr[j] = (xr[j] - mu[j]) * scale[j] + shift[j];
        }
    }
}

// nChw16c with S > 1: x is (N, C/16, S, 16). One thread per block of 16
// channels, the 16 lanes side by side; per (n, block), partial sums over S in
// float and then in double, as the NCHW kernel sums each (n, c) row.
void forward_blocked(const BatchNormArgs& a, int threads, double* mean_out, double* var_out) {
    const BatchNormParams& p = a.p;
    const ForwardOperands o(a);
    const auto *x = o.x, *gamma = o.gamma, *beta = o.beta;
    const auto *running_mean = o.running_mean, *running_var = o.running_var;
    auto* y = o.y;
    const int64_t n_count = p.n, cb_count = p.c / 16, s_count = p.s;
    const double m = static_cast<double>(n_count) * static_cast<double>(s_count);
    const bool training = p.training != 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t cb = 0; cb < cb_count; ++cb) {
        double* mean = mean_out + cb * 16;
        double* var = var_out + cb * 16;
        if (training) {
            double sum[16] = {}, sq[16] = {};
            for (int64_t n = 0; n < n_count; ++n) {
                const float* xb = x + (n * cb_count + cb) * s_count * 16;
                float row[16] = {};
                for (int64_t s = 0; s < s_count; ++s)
#pragma omp simd
                    for (int l = 0; l < 16; ++l) row[l] += xb[s * 16 + l];
                for (int l = 0; l < 16; ++l) sum[l] += row[l];
            }
            float mu[16];
            for (int l = 0; l < 16; ++l) {
                mean[l] = sum[l] / m;
                mu[l] = static_cast<float>(mean[l]);
            }
            for (int64_t n = 0; n < n_count; ++n) {
                const float* xb = x + (n * cb_count + cb) * s_count * 16;
                float row[16] = {};
                for (int64_t s = 0; s < s_count; ++s)
#pragma omp simd
                    for (int l = 0; l < 16; ++l) {
                        const float d = xb[s * 16 + l] - mu[l];
                        row[l] += d * d;
                    }
                for (int l = 0; l < 16; ++l) sq[l] += row[l];
            }
            for (int l = 0; l < 16; ++l) var[l] = sq[l] / m;
        } else {
            for (int l = 0; l < 16; ++l) {
                mean[l] = running_mean[cb * 16 + l];
                var[l] = running_var[cb * 16 + l];
            }
        }
        float mu[16], scale[16], shift[16];
        for (int l = 0; l < 16; ++l) {
            const int64_t c = cb * 16 + l;
            mu[l] = static_cast<float>(mean[l]);
            scale[l] = static_cast<float>((gamma ? gamma[c] : 1.0) / std::sqrt(var[l] + p.eps));
            shift[l] = beta ? beta[c] : 0.0f;
        }
        for (int64_t n = 0; n < n_count; ++n) {
            const int64_t at = (n * cb_count + cb) * s_count * 16;
            const float* xb = x + at;
            float* yb = y + at;
            for (int64_t s = 0; s < s_count; ++s)
#pragma omp simd
                for (int l = 0; l < 16; ++l)
                    yb[s * 16 + l] = (xb[s * 16 + l] - mu[l]) * scale[l] + shift[l];
        }
    }
}

void backward_blocked(const BatchNormArgs& a, int threads) {
    const BatchNormParams& p = a.p;
    const BackwardOperands o(a);
    const auto *x = o.x, *dy = o.dy, *gamma = o.gamma, *mean = o.mean, *invstd = o.invstd;
    auto *dx = o.dx, *dgamma = o.dgamma, *dbeta = o.dbeta;
    const int64_t n_count = p.n, cb_count = p.c / 16, s_count = p.s;
    const double m = static_cast<double>(n_count) * static_cast<double>(s_count);
    const bool training = p.training != 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t cb = 0; cb < cb_count; ++cb) {
        const float* mu = mean + cb * 16;
        double sum_dy[16] = {}, sum_dy_xc[16] = {};
        for (int64_t n = 0; n < n_count; ++n) {
            const int64_t at = (n * cb_count + cb) * s_count * 16;
            const float* xb = x + at;
            const float* dyb = dy + at;
            float row_dy[16] = {}, row_dy_xc[16] = {};
            for (int64_t s = 0; s < s_count; ++s)
#pragma omp simd
                for (int l = 0; l < 16; ++l) {
                    row_dy[l] += dyb[s * 16 + l];
                    row_dy_xc[l] += dyb[s * 16 + l] * (xb[s * 16 + l] - mu[l]);
                }
            for (int l = 0; l < 16; ++l) {
                sum_dy[l] += row_dy[l];
                sum_dy_xc[l] += row_dy_xc[l];
            }
        }
        // The NCHW kernel's coefficients, per lane.
        float k_dy[16], k_x[16], k_0[16];
        for (int l = 0; l < 16; ++l) {
            const int64_t c = cb * 16 + l;
            const double is = invstd[c];
            const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
            k_dy[l] = static_cast<float>(g * is);
            k_x[l] = training ? static_cast<float>(-g * is * is * is * sum_dy_xc[l] / m) : 0.0f;
            k_0[l] = training ? static_cast<float>(-g * is * sum_dy[l] / m) : 0.0f;
            if (dgamma) dgamma[c] = static_cast<float>(sum_dy_xc[l] * is);
            if (dbeta) dbeta[c] = static_cast<float>(sum_dy[l]);
        }
        for (int64_t n = 0; n < n_count; ++n) {
            const int64_t at = (n * cb_count + cb) * s_count * 16;
            const float* xb = x + at;
            const float* dyb = dy + at;
            float* dxb = dx + at;
            for (int64_t s = 0; s < s_count; ++s)
#pragma omp simd
                for (int l = 0; l < 16; ++l)
                    dxb[s * 16 + l] =
                        k_dy[l] * dyb[s * 16 + l] + k_x[l] * (xb[s * 16 + l] - mu[l]) + k_0[l];
        }
    }
}

}  // namespace

void batch_norm_forward_nchw(const BatchNormArgs& a, int threads) {
    const BatchNormParams& p = a.p;
    std::vector<double> mean(p.c), var(p.c);
    if (p.s == 1)
        forward_dense(a, threads, mean.data(), var.data());
    else if (p.layout == FATHOM_LAYOUT_NCHW16C)
        forward_blocked(a, threads, mean.data(), var.data());
    else
        forward_channels(a, threads, mean.data(), var.data());
    auto* save_mean = reinterpret_cast<float*>(a.save_mean);
    auto* save_invstd = reinterpret_cast<float*>(a.save_invstd);
    for (int64_t c = 0; c < p.c; ++c) {
        if (save_mean) save_mean[c] = static_cast<float>(mean[c]);
        if (save_invstd) save_invstd[c] = static_cast<float>(1.0 / std::sqrt(var[c] + p.eps));
    }
    if (p.training)
        batch_norm_update_running(p, mean.data(), var.data(),
                                  reinterpret_cast<float*>(a.running_mean),
                                  reinterpret_cast<float*>(a.running_var));
}

void batch_norm_backward_nchw(const BatchNormArgs& a, int threads) {
    if (a.p.s == 1) {
        backward_dense(a, threads);
        return;
    }
    if (a.p.layout == FATHOM_LAYOUT_NCHW16C) {
        backward_blocked(a, threads);
        return;
    }
    const BatchNormParams& p = a.p;
    const BackwardOperands o(a);
    const auto *x = o.x, *dy = o.dy, *gamma = o.gamma, *mean = o.mean, *invstd = o.invstd;
    auto *dx = o.dx, *dgamma = o.dgamma, *dbeta = o.dbeta;
    const int64_t n_count = p.n, c_count = p.c, s_count = p.s;
    const double m = static_cast<double>(n_count) * static_cast<double>(s_count);
    const bool training = p.training != 0;

#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < c_count; ++c) {
        const float mu = mean[c];
        const double is = invstd[c];
        double sum_dy = 0.0, sum_dy_xc = 0.0;  // sum(dy), sum(dy * (x - mean))
        for (int64_t n = 0; n < n_count; ++n) {
            const float* xr = x + (n * c_count + c) * s_count;
            const float* dyr = dy + (n * c_count + c) * s_count;
            float row_dy = 0.0f, row_dy_xc = 0.0f;  // one row's partial sums, vectorised
#pragma omp simd reduction(+ : row_dy, row_dy_xc)
            for (int64_t s = 0; s < s_count; ++s) {
                row_dy += dyr[s];
                row_dy_xc += dyr[s] * (xr[s] - mu);
            }
            sum_dy += row_dy;
            sum_dy_xc += row_dy_xc;
        }
        const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
        const double sum_dy_xhat = sum_dy_xc * is;
        // Training: dx = g*is*dy - g*is/M*sum_dy - (x - mean) * g*is^3/M*sum(dy*(x-mean))
        //          = k_dy*dy + k_x*(x - mean) + k_0. Inference: dx = g*is*dy.
        const float k_dy = static_cast<float>(g * is);
        const float k_x = training ? static_cast<float>(-g * is * is * is * sum_dy_xc / m) : 0.0f;
        const float k_0 = training ? static_cast<float>(-g * is * sum_dy / m) : 0.0f;
        for (int64_t n = 0; n < n_count; ++n) {
            const int64_t row = (n * c_count + c) * s_count;
            const float* xr = x + row;
            const float* dyr = dy + row;
            float* dxr = dx + row;
#pragma omp simd
            for (int64_t s = 0; s < s_count; ++s)
                dxr[s] = k_dy * dyr[s] + k_x * (xr[s] - mu) + k_0;
        }
        if (dgamma) dgamma[c] = static_cast<float>(sum_dy_xhat);
        if (dbeta) dbeta[c] = static_cast<float>(sum_dy);
    }
}

}  // namespace fathom
