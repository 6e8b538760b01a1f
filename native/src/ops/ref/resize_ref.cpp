// Reference bilinear resize: the specification of fathom_resize_bilinear
// (formula in ops/resize.h). One dst element at a time, serial.
#include "ops/resize.h"

namespace fathom {

namespace {

template <typename T>
void resize_ref(const TensorView& src, const TensorView& dst) {
    const int64_t planes = src.shape[0] * src.shape[1];
    const int64_t h = src.shape[2], w = src.shape[3], oh_n = dst.shape[2], ow_n = dst.shape[3];
    for (int64_t plane = 0; plane < planes; ++plane) {
        const T* x = reinterpret_cast<const T*>(src.data) + plane * h * w;
        T* y = reinterpret_cast<T*>(dst.data) + plane * oh_n * ow_n;
        for (int64_t oh = 0; oh < oh_n; ++oh) {
            const LinearTap<T> th = linear_tap<T>(oh, h, oh_n);
            for (int64_t ow = 0; ow < ow_n; ++ow) {
                const LinearTap<T> tw = linear_tap<T>(ow, w, ow_n);
                const T top = tw.l0 * x[th.i0 * w + tw.i0] + tw.l1 * x[th.i0 * w + tw.i1];
                const T bottom = tw.l0 * x[th.i1 * w + tw.i0] + tw.l1 * x[th.i1 * w + tw.i1];
                y[oh * ow_n + ow] = th.l0 * top + th.l1 * bottom;
            }
        }
    }
}

}  // namespace

void resize_bilinear_ref(const TensorView& src, const TensorView& dst) {
    with_float_dtype(src.dtype, [&](auto zero) { resize_ref<decltype(zero)>(src, dst); });
}

}  // namespace fathom
