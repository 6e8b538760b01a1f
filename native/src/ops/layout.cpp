#include "ops/layout.h"

#include <cstring>

#include "core/error.h"
#include "core/threads.h"

namespace fathom {

void convert_layout(const float* src, int32_t src_layout, float* dst, int32_t dst_layout,
                    int64_t n, int64_t c, int64_t s, int threads) {
    const int64_t numel = n * c * s;
    if (src_layout == dst_layout || s == 1) {
        // nChw16c with one position per image is NCHW byte for byte.
        if (src != dst) std::memcpy(dst, src, static_cast<size_t>(numel) * sizeof(float));
        return;
    }
#ifdef FATHOM_WITH_DNNL
    convert_layout_dnnl(src, src_layout == FATHOM_LAYOUT_NCHW16C, dst, n, c, s, threads);
#else
    convert_layout_loops(src, src_layout, dst, n, c, s, threads);
#endif
}

void convert_layout_api(const fathom_tensor_desc* src_desc, const fathom_tensor_desc* dst_desc) {
    const char* op = "convert_layout";
    const TensorView src = input_view_any_layout(op, "src", src_desc);
    const TensorView dst = output_view_any_layout(op, "dst", dst_desc);
    const int32_t src_layout = src.layout, dst_layout = dst.layout;
    require_same_shape(op, dst, "dst", src, "src");
    require_same_dtype(op, dst, "dst", src, "src");
    if (src.ndim != 4)
        fail(FATHOM_INVALID_ARGUMENT, op, ": src ", shape_str(src), " must be (N, C, H, W)");
    for (int32_t layout : {src_layout, dst_layout})
        if (layout != FATHOM_LAYOUT_NCHW && layout != FATHOM_LAYOUT_NCHW16C)
            fail(FATHOM_INVALID_ARGUMENT, op, ": unknown layout ", layout, " (src ",
                 shape_str(src), ")");
    if ((src_layout == FATHOM_LAYOUT_NCHW16C || dst_layout == FATHOM_LAYOUT_NCHW16C) &&
        src.shape[1] % 16 != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": nChw16c needs channels divisible by 16, src ",
             shape_str(src), " has ", src.shape[1]);
    int64_t expect = 1;
    for (int d = 3; d >= 0; --d) {
        if ((src.shape[d] > 1 && src.strides[d] != expect) ||
            (dst.shape[d] > 1 && dst.strides[d] != expect))
            fail(FATHOM_INVALID_ARGUMENT, op, ": src ", shape_str(src), " and dst ",
                 shape_str(dst), " must be contiguous");
        expect *= src.shape[d];
    }
    const size_t itemsize = src.itemsize();
    if (itemsize != 1 && itemsize != 4 && itemsize != 8)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dtype ", dtype_name(src.dtype), " not supported");
    const int64_t bytes = src.numel() * static_cast<int64_t>(itemsize);
    if (src.data < dst.data + bytes && dst.data < src.data + bytes && src.data != dst.data)
        fail(FATHOM_INVALID_ARGUMENT, op, ": src and dst ", shape_str(src), " overlap");
    if (src.data == dst.data && src_layout != dst_layout && src.shape[2] * src.shape[3] > 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": src and dst ", shape_str(src),
             " are the same buffer; the conversion is not in place");
    ThreadGrant grant;
    const int64_t n = src.shape[0], c = src.shape[1], s = src.shape[2] * src.shape[3];
    if (src_layout == dst_layout || s == 1) {
        // nChw16c with one position per image is NCHW byte for byte.
        if (src.data != dst.data) std::memcpy(dst.data, src.data, static_cast<size_t>(bytes));
    } else if (src.dtype == FATHOM_F32) {
        convert_layout(reinterpret_cast<const float*>(src.data), src_layout,
                       reinterpret_cast<float*>(dst.data), dst_layout, n, c, s, grant.threads());
    } else {
        convert_layout_bytes(src.data, src_layout, dst.data, itemsize, n, c, s, grant.threads());
    }
}

}  // namespace fathom
