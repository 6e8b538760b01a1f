// C ABI of the recurrent layers (fathom.h "Recurrent layers (ABI 4)"):
// validate, dispatch, catch, return a status, as in c_api_conv.cpp. The checks
// (ops/rnn.cpp) run before anything is written, so a refused call leaves its
// outputs and the workspace as they were.
#include "api/guarded.h"
#include "core/error.h"
#include "fathom/fathom.h"
#include "ops/rnn.h"

using fathom::fail;
using fathom::guarded;

extern "C" {

fathom_status fathom_rnn_workspace_bytes(const fathom_rnn_params* p, int32_t dtype,
                                         int64_t* bytes) {
    return guarded("rnn_workspace_bytes", [&] {
        const char* op = "rnn_workspace_bytes";
        const fathom::RnnParams rp = fathom::check_rnn_params(op, p);
        if (bytes == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": bytes is null");
        if (dtype != FATHOM_F32 && dtype != FATHOM_F64)
            fail(FATHOM_INVALID_ARGUMENT, op, ": dtype ", fathom::dtype_name(dtype),
                 " not supported (float32 or float64)");
        const auto type = static_cast<fathom_dtype>(dtype);
        *bytes = fathom::rnn_workspace_bytes(rp, type, fathom::resolve_rnn_backend(op, rp, type));
    });
}

fathom_status fathom_rnn_forward(const fathom_rnn_params* p, int32_t training,
                                 const fathom_tensor_desc* src, const fathom_tensor_desc* src_iter,
                                 const fathom_tensor_desc* src_iter_c,
                                 const fathom_tensor_desc* weights, int32_t weights_count,
                                 const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                                 const fathom_tensor_desc* dst_iter_c,
                                 const fathom_tensor_desc* workspace) {
    return guarded("rnn_forward", [&] {
        fathom::rnn_forward(fathom::check_rnn_forward(p, training, src, src_iter, src_iter_c,
                                                      weights, weights_count, dst, dst_iter,
                                                      dst_iter_c, workspace));
    });
}

fathom_status fathom_rnn_backward(
    const fathom_rnn_params* p, const fathom_tensor_desc* src, const fathom_tensor_desc* src_iter,
    const fathom_tensor_desc* src_iter_c, const fathom_tensor_desc* weights, int32_t weights_count,
    const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
    const fathom_tensor_desc* dst_iter_c, const fathom_tensor_desc* diff_dst,
    const fathom_tensor_desc* diff_dst_iter, const fathom_tensor_desc* diff_dst_iter_c,
    const fathom_tensor_desc* workspace, const fathom_tensor_desc* diff_src,
    const fathom_tensor_desc* diff_src_iter, const fathom_tensor_desc* diff_src_iter_c,
    const fathom_tensor_desc* diff_weights, int32_t diff_weights_count) {
    return guarded("rnn_backward", [&] {
        fathom::rnn_backward(fathom::check_rnn_backward(
            p, src, src_iter, src_iter_c, weights, weights_count, dst, dst_iter, dst_iter_c,
            diff_dst, diff_dst_iter, diff_dst_iter_c, workspace, diff_src, diff_src_iter,
            diff_src_iter_c, diff_weights, diff_weights_count));
    });
}

}  // extern "C"
