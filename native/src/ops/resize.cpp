// Bilinear resize: checks and the fast kernel for F32 and F64. It precomputes
// each axis's taps once (ops/resize.h) and runs OpenMP over the N*C planes; its
// arithmetic is the reference's, in the same order, so the two agree bit for bit.
//
// NOTE: not oneDNN's resampling_forward(resampling_linear). It computes the
// source index as (o + 0.5) * in / out - 0.5, where PyTorch rounds in / out
// first, and on values in [-1, 1] it differed from PyTorch's float formula by
// 1.4e-5 (96x96 -> 28x28) and 1.2e-4 (1000 -> 999), above the 1e-5 we hold it
// to. This kernel was as fast (2 threads, 28 -> 224: 0.16 ms vs 0.17 ms;
// 1000 -> 999: 1.0 ms vs 1.7 ms).
#include "ops/resize.h"

#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "ops/nchw_args.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

template <typename T>
void resize_fast(const TensorView& src, const TensorView& dst, int threads) {
    const int64_t planes = src.shape[0] * src.shape[1];
    const int64_t h = src.shape[2], w = src.shape[3], oh_n = dst.shape[2], ow_n = dst.shape[3];
    std::vector<LinearTap<T>> rows(static_cast<size_t>(oh_n)), cols(static_cast<size_t>(ow_n));
    for (int64_t o = 0; o < oh_n; ++o) rows[o] = linear_tap<T>(o, h, oh_n);
    for (int64_t o = 0; o < ow_n; ++o) cols[o] = linear_tap<T>(o, w, ow_n);
    const T* xs = reinterpret_cast<const T*>(src.data);
    T* ys = reinterpret_cast<T*>(dst.data);
    const int team = static_cast<int>(std::min<int64_t>(threads, planes));
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
    for (int64_t plane = 0; plane < planes; ++plane) {
        const T* x = xs + plane * h * w;
        T* y = ys + plane * oh_n * ow_n;
        for (int64_t oh = 0; oh < oh_n; ++oh) {
            const LinearTap<T> th = rows[oh];
            const T* r0 = x + th.i0 * w;
            const T* r1 = x + th.i1 * w;
            T* out = y + oh * ow_n;
            for (int64_t ow = 0; ow < ow_n; ++ow) {
                const LinearTap<T>& tw = cols[ow];
                const T top = tw.l0 * r0[tw.i0] + tw.l1 * r0[tw.i1];
                const T bottom = tw.l0 * r1[tw.i0] + tw.l1 * r1[tw.i1];
                out[ow] = th.l0 * top + th.l1 * bottom;
            }
        }
    }
}

}  // namespace

ResizeArgs check_resize_bilinear(const fathom_tensor_desc* src, const fathom_tensor_desc* dst) {
    const char* op = "resize_bilinear";
    ResizeArgs a;
    a.src = input_view(op, "src", src);
    a.dst = output_view(op, "dst", dst);
    require_float(op, a.src, "src");
    require_same_dtype(op, a.dst, "dst", a.src, "src");
    if (a.src.ndim != 4)
        fail(FATHOM_INVALID_ARGUMENT, op, ": src ", shape_str(a.src), " must be 4-D (N,C,H,W)");
    if (a.dst.ndim != 4)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dst ", shape_str(a.dst), " must be 4-D (N,C,OH,OW)");
    for (int d = 0; d < 4; ++d)
        if (a.src.shape[d] < 1 || a.dst.shape[d] < 1)
            fail(FATHOM_INVALID_ARGUMENT, op, ": sizes must be positive (src ", shape_str(a.src),
                 ", dst ", shape_str(a.dst), ")");
    require_exact_shape(op, a.dst, "dst",
                        {a.src.shape[0], a.src.shape[1], a.dst.shape[2], a.dst.shape[3]});
    require_contiguous(op, a.src, "src");
    require_contiguous(op, a.dst, "dst");
    return a;
}

void resize_bilinear(const ResizeArgs& a) {
    // Four multiply-adds per dst element, memory-bound: two cheap elements' worth.
    ThreadGrant grant(2.0 * static_cast<double>(a.dst.numel()) *
                      (kFlopsPerThread / kCheapElementsPerThread));
    resize_bilinear_fast(a.src, a.dst, grant.threads());
}

void resize_bilinear_fast(const TensorView& src, const TensorView& dst, int threads) {
    with_float_dtype(src.dtype,
                     [&](auto zero) { resize_fast<decltype(zero)>(src, dst, threads); });
}

}  // namespace fathom
