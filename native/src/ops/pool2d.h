// 2-D pooling (max, average with or without padding): the checks behind the
// fathom_pool2d_* entry points, backend dispatch and the kernels' signatures.
// Not here: ceil_mode, adaptive pooling, dilation, and layouts other than
// contiguous NCHW (Java makes a global average pool a kernel of H x W).
//
// Conventions, enforced by check_pool2d_params and the kernels:
//  - src (N,C,H,W) -> dst (N,C,OH,OW), OH = (H + 2*ph - kh) / sh + 1 (floor),
//    padding at most half the kernel (PyTorch's rule), so every window holds at
//    least one element of src;
//  - max pooling: padded positions never win; the first maximum in row-major
//    window order wins ties and receives the whole gradient (oneDNN agrees);
//    a NaN wins its window (the first NaN), as in PyTorch and fathom_reduce.
//    NOTE: oneDNN's max pooling skips NaNs instead, so F32 through oneDNN
//    does not propagate them (measured with oneDNN 3.11);
//  - FATHOM_POOL_AVG_INCLUDE_PADDING divides by kh*kw, EXCLUDE_PADDING by the
//    number of window elements inside src (PyTorch's count_include_pad);
//  - backward overwrites diff_src: it zeroes it, then accumulates with +=,
//    since windows may overlap (stride < kernel).
//
// Max-pooling workspace (training): a WorkspaceHeader (ops/checker.h) followed by the
// backend's own payload. The reference payload is one int32 per dst element,
// the argmax h*W+w inside its (H,W) plane; oneDNN's is the forward
// primitive's workspace (u8 kernel offsets in dst's layout). The header lets
// backward refuse a workspace that another backend, dtype or shape wrote.
#pragma once

#include <cstdint>
#include <memory>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

// The C params plus the call's activation layout, which the descriptors carry
// (both operands of one call share it; backward takes the forward's).
struct Pool2dParams : fathom_pool2d_params {
    int32_t layout = FATHOM_LAYOUT_NCHW;
};

// The workspace header (ops/checker.h) of max pooling.
constexpr uint32_t kPool2dWorkspaceMagic = 0x53575046u;  // "FPWS" in memory

// Output height and width for params that passed check_pool2d_params.
inline int64_t pool2d_out_h(const fathom_pool2d_params& p) {
    return (p.h + 2 * p.ph - p.kh) / p.sh + 1;
}
inline int64_t pool2d_out_w(const fathom_pool2d_params& p) {
    return (p.w + 2 * p.pw - p.kw) / p.sw + 1;
}

// Throws FATHOM_INVALID_ARGUMENT naming `op` unless: p non-null, sizes >= 1,
// strides >= 1, 0 <= padding <= kernel/2, kernel <= padded input, a known
// algorithm and backend, and N*C*H*W below 2^56 with H*W below 2^31.
Pool2dParams check_pool2d_params(const char* op, const fathom_pool2d_params* p);
// FNV-1a over everything but the backend field (AUTO and ONEDNN share a workspace).
uint64_t pool2d_params_hash(const Pool2dParams& p);

// Header plus payload for max pooling under a resolved backend, 0 for average pooling.
int64_t pool2d_workspace_bytes(const Pool2dParams& p, fathom_cnn_backend backend);

// A plan: what fathom_pool2d_plan_create validated and chose, immutable.
struct Pool2dPlan {
    int64_t id = 0;
    Pool2dParams p;
    fathom_dtype dtype = FATHOM_F32;
    fathom_cnn_backend backend = FATHOM_CNN_REFERENCE;  // resolved
    int64_t oh = 0, ow = 0;
};
// Validates (params, dtype F32/F64) and resolves the backend.
std::shared_ptr<Pool2dPlan> make_pool2d_plan(const fathom_pool2d_params* p, int32_t dtype);

// Validated arguments of one call: the plan's params with this call's layout,
// the resolved backend, the operands (x = src or diff_src, y = dst or
// diff_dst) and the workspace bytes.
struct Pool2dArgs {
    Pool2dParams p;
    fathom_cnn_backend backend;
    TensorView x, y;
    char* workspace = nullptr;  // header first; null when none is passed or needed
    int64_t workspace_bytes = 0;  // header + payload, when a workspace is passed
};
// Checks everything before anything is written: src/dst contiguous, of the
// plan's shapes and dtype, one layout (nChw16c: F32, c % 16 == 0), and a
// workspace that is null or a contiguous BOOL tensor of workspace_bytes
// (8-byte aligned).
Pool2dArgs check_pool2d_forward(const Pool2dPlan& plan, const fathom_tensor_desc* src,
                                const fathom_tensor_desc* dst,
                                const fathom_tensor_desc* workspace);
// As forward; for max pooling the workspace is required and its header must
// name this backend, dtype and params (else FATHOM_INVALID_ARGUMENT).
Pool2dArgs check_pool2d_backward(const Pool2dPlan& plan, const fathom_tensor_desc* diff_dst,
                                 const fathom_tensor_desc* workspace,
                                 const fathom_tensor_desc* diff_src);
void pool2d_forward(const Pool2dArgs& args);
void pool2d_backward(const Pool2dArgs& args);

// --- kernels: the reference is the specification -----------------------------
// src (N,C,H,W) -> dst (N,C,OH,OW); argmax (N,C,OH,OW) int32 h*W+w, written for
// max pooling when non-null.
void pool2d_forward_ref(const Pool2dParams& p, const float* src, float* dst,
                        int32_t* argmax);
void pool2d_forward_ref(const Pool2dParams& p, const double* src, double* dst,
                        int32_t* argmax);
// diff_dst (N,C,OH,OW) -> diff_src (N,C,H,W), zeroed then accumulated with +=;
// argmax is the forward's (max pooling only).
void pool2d_backward_ref(const Pool2dParams& p, const float* diff_dst,
                         const int32_t* argmax, float* diff_src);
void pool2d_backward_ref(const Pool2dParams& p, const double* diff_dst,
                         const int32_t* argmax, double* diff_src);

// oneDNN pooling on plain nchw memory (see pool2d_dnnl.cpp for why not blocked).
// workspace: the payload (after the header), or null for forward_inference.
int64_t pool2d_workspace_payload_dnnl(const Pool2dParams& p, int threads);
void pool2d_forward_dnnl(const Pool2dParams& p, const float* src, float* dst,
                         void* workspace, int threads);
void pool2d_backward_dnnl(const Pool2dParams& p, const float* diff_dst,
                          const void* workspace, float* diff_src, int threads);

}  // namespace fathom
