// C ABI of the convolution kernels (fathom.h "CNN kernels (ABI 3)"): validate,
// dispatch, catch, return a status, as in c_api.cpp. The checks (ops/conv2d.cpp)
// run before anything is written, so a refused call leaves its outputs as they were.
#include "api/guarded.h"
#include "core/error.h"
#include "fathom/fathom.h"
#include "ops/conv2d.h"
#include "ops/layout.h"

using fathom::fail;
using fathom::guarded;

extern "C" {

fathom_status fathom_conv2d_output_shape(const fathom_conv2d_params* p, int64_t* out) {
    return guarded("conv2d_output_shape", [&] {
        const char* op = "conv2d_output_shape";
        const fathom::Conv2dParams cp = fathom::check_conv2d_params(op, p);
        if (!out) fail(FATHOM_INVALID_ARGUMENT, op, ": out is null");
        out[0] = cp.n;
        out[1] = cp.k;
        out[2] = cp.oh;
        out[3] = cp.ow;
    });
}

fathom_status fathom_conv2d_native_layouts(const fathom_conv2d_params* p, int32_t pass,
                                          int32_t* layouts) {
    return guarded("conv2d_native_layouts", [&] {
        const char* op = "conv2d_native_layouts";
        const fathom::Conv2dParams cp = fathom::check_conv2d_params(op, p);
        if (!layouts) fail(FATHOM_INVALID_ARGUMENT, op, ": layouts is null");
        if (pass < FATHOM_CONV2D_FORWARD || pass > FATHOM_CONV2D_BACKWARD_WEIGHTS)
            fail(FATHOM_INVALID_ARGUMENT, op, ": unknown pass ", pass, " (", cp.str(), ")");
        *layouts = fathom::conv2d_native_layouts(cp, pass);
    });
}

fathom_status fathom_convert_layout(const fathom_tensor_desc* src, int32_t src_layout,
                                    const fathom_tensor_desc* dst, int32_t dst_layout) {
    return guarded("convert_layout",
                   [&] { fathom::convert_layout_api(src, src_layout, dst, dst_layout); });
}

fathom_status fathom_conv2d_forward(const fathom_conv2d_params* p, const fathom_tensor_desc* src,
                                    const fathom_tensor_desc* weights,
                                    const fathom_tensor_desc* bias,
                                    const fathom_tensor_desc* dst) {
    return guarded("conv2d_forward", [&] {
        fathom::conv2d_forward(fathom::check_conv2d_forward(p, src, weights, bias, dst));
    });
}

fathom_status fathom_conv2d_backward_data(const fathom_conv2d_params* p,
                                          const fathom_tensor_desc* diff_dst,
                                          const fathom_tensor_desc* weights,
                                          const fathom_tensor_desc* diff_src) {
    return guarded("conv2d_backward_data", [&] {
        fathom::conv2d_backward_data(
            fathom::check_conv2d_backward_data(p, diff_dst, weights, diff_src));
    });
}

fathom_status fathom_conv2d_backward_weights(const fathom_conv2d_params* p,
                                             const fathom_tensor_desc* src,
                                             const fathom_tensor_desc* diff_dst,
                                             const fathom_tensor_desc* diff_weights,
                                             const fathom_tensor_desc* diff_bias) {
    return guarded("conv2d_backward_weights", [&] {
        fathom::conv2d_backward_weights(
            fathom::check_conv2d_backward_weights(p, src, diff_dst, diff_weights, diff_bias));
    });
}

}  // extern "C"
