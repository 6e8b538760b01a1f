// C ABI for pooling, batch normalization and bilinear resize (ABI 3): validate,
// dispatch, catch, return a status. The checks live next to the kernels
// (ops/pool2d.cpp, ops/batch_norm.cpp, ops/resize.cpp); no exception leaves this file.
#include "api/guarded.h"
#include "core/error.h"
#include "fathom/fathom.h"
#include "ops/batch_norm.h"
#include "ops/pool2d.h"
#include "ops/resize.h"

using fathom::fail;
using fathom::guarded;

extern "C" {

fathom_status fathom_pool2d_output_shape(const fathom_pool2d_params* p, int64_t* out) {
    return guarded("pool2d_output_shape", [&] {
        const auto& q = fathom::check_pool2d_params("pool2d_output_shape", p);
        if (out == nullptr) fail(FATHOM_INVALID_ARGUMENT, "pool2d_output_shape: out is null");
        out[0] = q.n;
        out[1] = q.c;
        out[2] = fathom::pool2d_out_h(q);
        out[3] = fathom::pool2d_out_w(q);
    });
}

fathom_status fathom_pool2d_workspace_bytes(const fathom_pool2d_params* p, int32_t dtype,
                                            int64_t* bytes) {
    return guarded("pool2d_workspace_bytes", [&] {
        const auto& q = fathom::check_pool2d_params("pool2d_workspace_bytes", p);
        if (bytes == nullptr)
            fail(FATHOM_INVALID_ARGUMENT, "pool2d_workspace_bytes: bytes is null");
        *bytes = fathom::pool2d_workspace_bytes(q, static_cast<fathom_dtype>(dtype));
    });
}

fathom_status fathom_pool2d_forward(const fathom_pool2d_params* p, const fathom_tensor_desc* src,
                                    const fathom_tensor_desc* dst,
                                    const fathom_tensor_desc* workspace) {
    return guarded("pool2d_forward", [&] {
        fathom::pool2d_forward(fathom::check_pool2d_forward(p, src, dst, workspace));
    });
}

fathom_status fathom_pool2d_backward(const fathom_pool2d_params* p,
                                     const fathom_tensor_desc* diff_dst,
                                     const fathom_tensor_desc* workspace,
                                     const fathom_tensor_desc* diff_src) {
    return guarded("pool2d_backward", [&] {
        fathom::pool2d_backward(fathom::check_pool2d_backward(p, diff_dst, workspace, diff_src));
    });
}

fathom_status fathom_batch_norm_forward(const fathom_batch_norm_params* p,
                                        const fathom_tensor_desc* src,
                                        const fathom_tensor_desc* gamma,
                                        const fathom_tensor_desc* beta,
                                        const fathom_tensor_desc* running_mean,
                                        const fathom_tensor_desc* running_var,
                                        const fathom_tensor_desc* save_mean,
                                        const fathom_tensor_desc* save_invstd,
                                        const fathom_tensor_desc* dst) {
    return guarded("batch_norm_forward", [&] {
        fathom::batch_norm_forward(fathom::check_batch_norm_forward(
            p, src, gamma, beta, running_mean, running_var, save_mean, save_invstd, dst));
    });
}

fathom_status fathom_batch_norm_backward(const fathom_batch_norm_params* p,
                                         const fathom_tensor_desc* src,
                                         const fathom_tensor_desc* diff_dst,
                                         const fathom_tensor_desc* gamma,
                                         const fathom_tensor_desc* save_mean,
                                         const fathom_tensor_desc* save_invstd,
                                         const fathom_tensor_desc* diff_src,
                                         const fathom_tensor_desc* diff_gamma,
                                         const fathom_tensor_desc* diff_beta) {
    return guarded("batch_norm_backward", [&] {
        fathom::batch_norm_backward(fathom::check_batch_norm_backward(
            p, src, diff_dst, gamma, save_mean, save_invstd, diff_src, diff_gamma, diff_beta));
    });
}

fathom_status fathom_resize_bilinear(const fathom_tensor_desc* src, const fathom_tensor_desc* dst) {
    return guarded("resize_bilinear",
                   [&] { fathom::resize_bilinear(fathom::check_resize_bilinear(src, dst)); });
}

}  // extern "C"
