// Reference convolution: the specification of fathom_conv2d_forward,
// _backward_data and _backward_weights, as direct sums over contiguous NCHW
// buffers. Every output element is one sum accumulated in double (so the f32
// result is the correctly rounded one, a fair oracle) by one thread; OpenMP
// only splits the outer loops, so results do not depend on the thread count.
// Not fast: oneDNN (ops/dnnl/conv2d_dnnl.cpp) is the fast path.
//
// Notation (ops/conv2d.h): G groups, Cg = C/G input and Kg = K/G output
// channels per group; output channel k belongs to group g = k / Kg and reads
// input channels g*Cg + c for c in [0, Cg). Input row and column of output
// (oh, ow) under kernel tap (i, j):
//   ih = oh*sh - ph + i*dh,   iw = ow*sw - pw + j*dw
// Taps that land outside [0,H) x [0,W) read the zero padding, i.e. add nothing.
#include <algorithm>

#include "ops/conv2d.h"

namespace fathom {

namespace {

// src (N,C,H,W), weights (K,Cg,KH,KW), bias (K) or null -> dst (N,K,OH,OW):
//   dst[n][k][oh][ow] = bias[k] + sum_{c,i,j} src[n][g*Cg+c][ih][iw] * w[k][c][i][j]
// and with post_relu, dst = relu(that) (NaN stays NaN).
template <typename T>
void forward(const Conv2dParams& p, const T* src, const T* w, const T* bias, T* dst) {
    const int64_t N = p.n, C = p.c, H = p.h, W = p.w, K = p.k, KH = p.kh, KW = p.kw;
    const int64_t OH = p.oh, OW = p.ow, Cg = p.cg(), Kg = p.kg();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) {
            const int64_t g = k / Kg;
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double acc = bias ? static_cast<double>(bias[k]) : 0.0;
                    for (int64_t c = 0; c < Cg; ++c)
                        for (int64_t i = 0; i < KH; ++i) {
                            const int64_t ih = oh * p.sh - p.ph + i * p.dh;
                            if (ih < 0 || ih >= H) continue;
                            for (int64_t j = 0; j < KW; ++j) {
                                const int64_t iw = ow * p.sw - p.pw + j * p.dw;
                                if (iw < 0 || iw >= W) continue;
                                const T x = src[((n * C + g * Cg + c) * H + ih) * W + iw];
                                const T wt = w[((k * Cg + c) * KH + i) * KW + j];
                                acc += static_cast<double>(x) * static_cast<double>(wt);
                            }
                        }
                    if (p.post_relu && acc < 0.0) acc = 0.0;
                    dst[((n * K + k) * OH + oh) * OW + ow] = static_cast<T>(acc);
                }
        }
}

// diff_dst (N,K,OH,OW), weights (K,Cg,KH,KW) -> diff_src (N,C,H,W).
// dst is linear in src, and src[n][g*Cg+c][ih][iw] enters dst[n][k][oh][ow]
// with factor w[k][c][i][j] exactly when ih = oh*sh - ph + i*dh and
// iw = ow*sw - pw + j*dw (k in group g). By the chain rule
//   diff_src[n][g*Cg+c][ih][iw] = sum_{k in g} sum_{i,j} diff_dst[n][k][oh][ow] * w[k][c][i][j]
// over the taps (i, j) for which oh = (ih + ph - i*dh) / sh and
// ow = (iw + pw - j*dw) / sw divide exactly and land in [0,OH) x [0,OW).
// (A transposed convolution: stride becomes a dilation of diff_dst.)
// Gathered per diff_src element, so each is written once: no zeroing, no races.
template <typename T>
void backward_data(const Conv2dParams& p, const T* diff_dst, const T* w, T* diff_src) {
    const int64_t N = p.n, C = p.c, H = p.h, W = p.w, K = p.k, KH = p.kh, KW = p.kw;
    const int64_t OH = p.oh, OW = p.ow, Cg = p.cg(), Kg = p.kg();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t cc = 0; cc < C; ++cc) {
            const int64_t g = cc / Cg, c = cc % Cg;
            for (int64_t ih = 0; ih < H; ++ih)
                for (int64_t iw = 0; iw < W; ++iw) {
                    double acc = 0.0;
                    for (int64_t k = g * Kg; k < (g + 1) * Kg; ++k)
                        for (int64_t i = 0; i < KH; ++i) {
                            const int64_t th = ih + p.ph - i * p.dh;  // = oh * sh
                            if (th < 0 || th % p.sh != 0 || th / p.sh >= OH) continue;
                            const int64_t oh = th / p.sh;
                            for (int64_t j = 0; j < KW; ++j) {
                                const int64_t tw = iw + p.pw - j * p.dw;  // = ow * sw
                                if (tw < 0 || tw % p.sw != 0 || tw / p.sw >= OW) continue;
                                const int64_t ow = tw / p.sw;
                                const T dy = diff_dst[((n * K + k) * OH + oh) * OW + ow];
                                const T wt = w[((k * Cg + c) * KH + i) * KW + j];
                                acc += static_cast<double>(dy) * static_cast<double>(wt);
                            }
                        }
                    diff_src[((n * C + cc) * H + ih) * W + iw] = static_cast<T>(acc);
                }
        }
}

// src (N,C,H,W), diff_dst (N,K,OH,OW) -> diff_weights (K,Cg,KH,KW), diff_bias (K) or null.
// w[k][c][i][j] multiplies src[n][g*Cg+c][ih][iw] in every dst[n][k][oh][ow], so
//   diff_w[k][c][i][j] = sum_{n,oh,ow} diff_dst[n][k][oh][ow] * src[n][g*Cg+c][ih][iw]
// (in-bounds taps only), and bias[k] enters every dst[n][k][.][.] with factor 1:
//   diff_b[k] = sum_{n,oh,ow} diff_dst[n][k][oh][ow]
template <typename T>
void backward_weights(const Conv2dParams& p, const T* src, const T* diff_dst, T* diff_w,
                      T* diff_b) {
    const int64_t N = p.n, C = p.c, H = p.h, W = p.w, K = p.k, KH = p.kh, KW = p.kw;
    const int64_t OH = p.oh, OW = p.ow, Cg = p.cg(), Kg = p.kg();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t k = 0; k < K; ++k)
        for (int64_t c = 0; c < Cg; ++c) {
            const int64_t cc = (k / Kg) * Cg + c;
            for (int64_t i = 0; i < KH; ++i)
                for (int64_t j = 0; j < KW; ++j) {
                    double acc = 0.0;
                    for (int64_t n = 0; n < N; ++n)
                        for (int64_t oh = 0; oh < OH; ++oh) {
                            const int64_t ih = oh * p.sh - p.ph + i * p.dh;
                            if (ih < 0 || ih >= H) continue;
                            for (int64_t ow = 0; ow < OW; ++ow) {
                                const int64_t iw = ow * p.sw - p.pw + j * p.dw;
                                if (iw < 0 || iw >= W) continue;
                                const T dy = diff_dst[((n * K + k) * OH + oh) * OW + ow];
                                const T x = src[((n * C + cc) * H + ih) * W + iw];
                                acc += static_cast<double>(dy) * static_cast<double>(x);
                            }
                        }
                    diff_w[((k * Cg + c) * KH + i) * KW + j] = static_cast<T>(acc);
                }
        }
    if (!diff_b) return;
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < K; ++k) {
        double acc = 0.0;
        for (int64_t n = 0; n < N; ++n) {
            const T* plane = diff_dst + (n * K + k) * OH * OW;
            for (int64_t q = 0; q < OH * OW; ++q) acc += static_cast<double>(plane[q]);
        }
        diff_b[k] = static_cast<T>(acc);
    }
}

}  // namespace

void conv2d_forward_ref(const Conv2dParams& p, const float* src, const float* weights,
                        const float* bias, float* dst) {
    forward(p, src, weights, bias, dst);
}
void conv2d_forward_ref(const Conv2dParams& p, const double* src, const double* weights,
                        const double* bias, double* dst) {
    forward(p, src, weights, bias, dst);
}
void conv2d_backward_data_ref(const Conv2dParams& p, const float* diff_dst, const float* weights,
                              float* diff_src) {
    backward_data(p, diff_dst, weights, diff_src);
}
void conv2d_backward_data_ref(const Conv2dParams& p, const double* diff_dst,
                              const double* weights, double* diff_src) {
    backward_data(p, diff_dst, weights, diff_src);
}
void conv2d_backward_weights_ref(const Conv2dParams& p, const float* src, const float* diff_dst,
                                 float* diff_weights, float* diff_bias) {
    backward_weights(p, src, diff_dst, diff_weights, diff_bias);
}
void conv2d_backward_weights_ref(const Conv2dParams& p, const double* src,
                                 const double* diff_dst, double* diff_weights,
                                 double* diff_bias) {
    backward_weights(p, src, diff_dst, diff_weights, diff_bias);
}

}  // namespace fathom
