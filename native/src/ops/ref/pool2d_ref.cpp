// Reference 2-D pooling: the specification of fathom_pool2d_forward/_backward
// (conventions in ops/pool2d.h). Plain loops over each dst element's window,
// f32 and f64; serial on purpose, it is the oracle the oneDNN kernels are
// tested against, and the F64 path for gradient checks.
#include <algorithm>
#include <limits>

#include "core/error.h"
#include "ops/pool2d.h"
#include "ops/reduce.h"

namespace fathom {

namespace {

// The window of dst element (oh, ow) clipped to src: rows [h0, h1), cols [w0, w1).
struct Window {
    int64_t h0, h1, w0, w1;
};

Window window_of(const Pool2dParams& p, int64_t oh, int64_t ow) {
    const int64_t hs = oh * p.sh - p.ph, ws = ow * p.sw - p.pw;
    return {std::max<int64_t>(hs, 0), std::min<int64_t>(hs + p.kh, p.h),
            std::max<int64_t>(ws, 0), std::min<int64_t>(ws + p.kw, p.w)};
}

// Divisor of an average: kh*kw with padding counted, else the in-bounds count.
// NOTE: padding <= kernel/2 keeps every window inside the padded input, so
// counting padding always gives kh*kw (PyTorch clips at H + ph, never hit here).
int64_t divisor_of(const Pool2dParams& p, const Window& win) {
    if (p.algorithm == FATHOM_POOL_AVG_INCLUDE_PADDING) return p.kh * p.kw;
    return (win.h1 - win.h0) * (win.w1 - win.w0);
}

template <typename T>
void forward(const Pool2dParams& p, const T* src, T* dst, int32_t* argmax) {
    const int64_t oh_n = pool2d_out_h(p), ow_n = pool2d_out_w(p);
    for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
        const T* x = src + plane * p.h * p.w;
        T* y = dst + plane * oh_n * ow_n;
        int32_t* idx = argmax ? argmax + plane * oh_n * ow_n : nullptr;
        for (int64_t oh = 0; oh < oh_n; ++oh)
            for (int64_t ow = 0; ow < ow_n; ++ow) {
                const Window win = window_of(p, oh, ow);
                if (p.algorithm == FATHOM_POOL_MAX) {
                    // Row-major scan, strictly greater replaces: the first maximum
                    // wins ties; a NaN wins (the first one), as in reduce.
                    T best = -std::numeric_limits<T>::infinity();
                    int64_t best_pos = win.h0 * p.w + win.w0;
                    for (int64_t h = win.h0; h < win.h1; ++h)
                        for (int64_t w = win.w0; w < win.w1; ++w)
                            if (replaces_extreme<true>(x[h * p.w + w], best)) {
                                best = x[h * p.w + w];
                                best_pos = h * p.w + w;
                            }
                    y[oh * ow_n + ow] = best;
                    if (idx) idx[oh * ow_n + ow] = static_cast<int32_t>(best_pos);
                } else {
                    double sum = 0.0;
                    for (int64_t h = win.h0; h < win.h1; ++h)
                        for (int64_t w = win.w0; w < win.w1; ++w) sum += x[h * p.w + w];
                    y[oh * ow_n + ow] = static_cast<T>(sum / divisor_of(p, win));
                }
            }
    }
}

// Max:     dL/dx[argmax(o)] += dL/dy[o]           (only the winner of each window)
// Average: dL/dx[i] += dL/dy[o] / divisor(o)      for every i in window(o)
template <typename T>
void backward(const Pool2dParams& p, const T* diff_dst, const int32_t* argmax,
              T* diff_src) {
    const int64_t oh_n = pool2d_out_h(p), ow_n = pool2d_out_w(p);
    for (int64_t plane = 0; plane < p.n * p.c; ++plane) {
        const T* dy = diff_dst + plane * oh_n * ow_n;
        T* dx = diff_src + plane * p.h * p.w;
        for (int64_t i = 0; i < p.h * p.w; ++i) dx[i] = T(0);
        for (int64_t oh = 0; oh < oh_n; ++oh)
            for (int64_t ow = 0; ow < ow_n; ++ow) {
                const int64_t o = oh * ow_n + ow;
                if (p.algorithm == FATHOM_POOL_MAX) {
                    // The workspace is the caller's memory: refuse an argmax
                    // outside its plane rather than write through it.
                    const int64_t at = argmax[plane * oh_n * ow_n + o];
                    if (at < 0 || at >= p.h * p.w)
                        fail(FATHOM_INVALID_ARGUMENT,
                             "pool2d_backward: the workspace holds an argmax outside its plane "
                             "(it was changed after pool2d_forward wrote it)");
                    dx[at] += dy[o];
                    continue;
                }
                const Window win = window_of(p, oh, ow);
                const T g = static_cast<T>(dy[o] / static_cast<T>(divisor_of(p, win)));
                for (int64_t h = win.h0; h < win.h1; ++h)
                    for (int64_t w = win.w0; w < win.w1; ++w) dx[h * p.w + w] += g;
            }
    }
}

}  // namespace

void pool2d_forward_ref(const Pool2dParams& p, const float* src, float* dst,
                        int32_t* argmax) {
    forward(p, src, dst, argmax);
}
void pool2d_forward_ref(const Pool2dParams& p, const double* src, double* dst,
                        int32_t* argmax) {
    forward(p, src, dst, argmax);
}
void pool2d_backward_ref(const Pool2dParams& p, const float* diff_dst,
                         const int32_t* argmax, float* diff_src) {
    backward(p, diff_dst, argmax, diff_src);
}
void pool2d_backward_ref(const Pool2dParams& p, const double* diff_dst,
                         const int32_t* argmax, double* diff_src) {
    backward(p, diff_dst, argmax, diff_src);
}

}  // namespace fathom
