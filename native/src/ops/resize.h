// Bilinear resize (fathom_resize_bilinear): checks, dispatch and kernels.
// The formula is PyTorch's interpolate(mode="bilinear", align_corners=False)
// for a given output size, computed in the tensor's dtype as PyTorch does:
//   scale = in / out (float for F32), src = scale * (dst + 0.5) - 0.5, then
//   src < 0 -> 0; i0 = min(floor(src), in - 1); i1 = i0 + (i0 < in - 1);
//   l1 = clamp(src - i0, 0, 1), l0 = 1 - l1   (per axis)
//   dst = l0h * (l0w * x[i0h][i0w] + l1w * x[i0h][i1w])
//       + l1h * (l0w * x[i1h][i0w] + l1w * x[i1h][i1w])
// Not here: align_corners=True, a scale_factor different from out/in
// (recompute_scale_factor=False with a non-integral size), antialiasing, backward.
#pragma once

#include <cstdint>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

struct ResizeArgs {
    TensorView src, dst;  // contiguous NCHW, one float dtype, same N and C
};
ResizeArgs check_resize_bilinear(const fathom_tensor_desc* src, const fathom_tensor_desc* dst);
// F32 and F64 through resize_bilinear_fast (see resize.cpp for why not oneDNN).
void resize_bilinear(const ResizeArgs& a);

// One axis of the formula above, for dst index o: neighbours i0, i1, weights l0, l1.
template <typename T>
struct LinearTap {
    int64_t i0, i1;
    T l0, l1;
};
template <typename T>
LinearTap<T> linear_tap(int64_t o, int64_t in, int64_t out) {
    const T scale = static_cast<T>(in) / static_cast<T>(out);
    T real = scale * (static_cast<T>(o) + T(0.5)) - T(0.5);
    if (real < T(0)) real = T(0);
    LinearTap<T> t;
    t.i0 = static_cast<int64_t>(real);  // floor: real >= 0
    if (t.i0 > in - 1) t.i0 = in - 1;
    t.i1 = t.i0 + (t.i0 < in - 1 ? 1 : 0);
    T l1 = real - static_cast<T>(t.i0);
    t.l1 = l1 < T(0) ? T(0) : (l1 > T(1) ? T(1) : l1);
    t.l0 = T(1) - t.l1;
    return t;
}

// --- kernels -------------------------------------------------------------------
// src (N,C,H,W) -> dst (N,C,OH,OW), both contiguous and of one dtype.
void resize_bilinear_ref(const TensorView& src, const TensorView& dst);   // the specification
void resize_bilinear_fast(const TensorView& src, const TensorView& dst, int threads);

}  // namespace fathom
