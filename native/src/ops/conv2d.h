// 2-D convolution (fathom_conv2d_*): the plan (validated params, dtype, chosen
// backend and layouts), the argument checks every pass runs against its plan
// before it writes anything, backend dispatch, and the kernels' signatures.
// Not here: pooling, batch norm (ops/pool2d.h, ops/batch_norm.h), and no
// autograd: the Java op pairs forward with the two backward entry points.
//
// Shapes (cross-correlation, as PyTorch; G = groups, Cg = C/G, Kg = K/G):
//   src (N,C,H,W), weights (K,Cg,KH,KW), bias (K) -> dst (N,K,OH,OW)
//   OH = (H + 2*ph - dh*(KH-1) - 1) / sh + 1   (floor; the same for OW)
//   output channel k reads input channels g*Cg .. g*Cg+Cg-1 with g = k / Kg.
// Every tensor is a contiguous NCHW (OIHW for weights) descriptor of exactly
// that shape, F32 or F64, all of one dtype; an activation whose descriptor
// says FATHOM_LAYOUT_NCHW16C (F32 only) has nChw16c bytes (ops/layout.h)
// behind that shape. Outputs are overwritten (never
// accumulated into), so their prior contents, NaN included, do not matter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

struct Conv2dTuned;  // oneDNN's per-plan tuning choices

struct Conv2dParams {
    int64_t n = 0, c = 0, h = 0, w = 0;
    int64_t k = 0;
    int64_t kh = 0, kw = 0;
    int64_t sh = 1, sw = 1;
    int64_t ph = 0, pw = 0;
    int64_t dh = 1, dw = 1;  // 1 = dense (oneDNN counts dilation from 0; PyTorch from 1, as here)
    int64_t groups = 1;
    int64_t oh = 0, ow = 0;  // derived
    bool has_bias = false;
    bool post_relu = false;
    int32_t layouts = 0;  // per call, from the descriptors: kSrcBlocked | kDstBlocked
    fathom_cnn_backend backend = FATHOM_CNN_AUTO;
    fathom_conv2d_params raw{};  // as the caller passed them (messages)
    int64_t plan_id = 0;          // the plan these params belong to (kernel caches)
    int32_t variant = 0;          // 0 as planned; 1 a derived geometry (single-tap 1x1)
    Conv2dTuned* tuned = nullptr;  // the plan's tuning choices (oneDNN), or null

    static constexpr int32_t kSrcBlocked = 1;  // src / diff_src are nChw16c
    static constexpr int32_t kDstBlocked = 2;  // dst / diff_dst are nChw16c
    bool src_blocked() const { return (layouts & kSrcBlocked) != 0; }
    bool dst_blocked() const { return (layouts & kDstBlocked) != 0; }
    int64_t cg() const { return c / groups; }  // input channels per group
    int64_t kg() const { return k / groups; }  // output channels per group
    // 2*N*K*OH*OW*Cg*KH*KW: the multiply-adds of any of the three passes.
    double flops() const;
    std::string str() const;  // "n=2 c=3 h=8 w=8 k=4 kh=3 kw=3 sh=1 ... groups=1 has_bias=1 ..."
};

// Checks the params alone (no tensors): sizes >= 1, stride >= 1, padding >= 0,
// dilation >= 1, groups dividing C and K, an output of at least 1x1, flags 0
// or 1, a known backend, reserved == 0. Throws FATHOM_INVALID_ARGUMENT
// "<op>: ..." naming the offending values and the params.
Conv2dParams check_conv2d_params(const char* op, const fathom_conv2d_params* p);

// A plan: what fathom_conv2d_plan_create validated and chose, immutable after
// creation (the tuning choices behind `tuned` have their own lock).
struct Conv2dPlan {
    int64_t id = 0;
    Conv2dParams p;
    fathom_dtype dtype = FATHOM_F32;
    fathom_cnn_backend backend = FATHOM_CNN_REFERENCE;  // resolved
    int32_t src_layout[3] = {};  // per fathom_conv2d_pass: fathom_layout kept without reorder
    int32_t dst_layout[3] = {};
    std::shared_ptr<Conv2dTuned> tuned;
};

// Validates (params, dtype: F32/F64, F64 not on ONEDNN), resolves the backend
// and asks it for its layouts.
std::shared_ptr<Conv2dPlan> make_conv2d_plan(const fathom_conv2d_params* p, int32_t dtype);

// The three passes' validated arguments: the plan's params with this call's
// layouts. A TensorView with data == nullptr stands for an absent bias.
struct Conv2dForwardArgs {
    Conv2dParams p;
    TensorView src, weights, bias, dst;
};
struct Conv2dBackwardDataArgs {
    Conv2dParams p;
    TensorView diff_dst, weights, diff_src;
};
struct Conv2dBackwardWeightsArgs {
    Conv2dParams p;
    TensorView src, diff_dst, diff_weights, diff_bias;
};

// Per tensor: non-null, 4-D (bias 1-D), exactly the shape the plan implies,
// contiguous, the plan's dtype; activations in NCHW or (F32, channels % 16 ==
// 0) nChw16c; bias present iff has_bias; post_relu only in forward. Messages
// name the entry point, the tensor, and every operand's shape, e.g.
//   conv2d_forward: src [2,3,8,8] has 3 channels but weights [4,2,3,3] with groups=1 expect 2 (...)
Conv2dForwardArgs check_conv2d_forward(const Conv2dPlan& plan, const fathom_tensor_desc* src,
                                       const fathom_tensor_desc* weights,
                                       const fathom_tensor_desc* bias,
                                       const fathom_tensor_desc* dst);
Conv2dBackwardDataArgs check_conv2d_backward_data(const Conv2dPlan& plan,
                                                  const fathom_tensor_desc* diff_dst,
                                                  const fathom_tensor_desc* weights,
                                                  const fathom_tensor_desc* diff_src);
Conv2dBackwardWeightsArgs check_conv2d_backward_weights(const Conv2dPlan& plan,
                                                        const fathom_tensor_desc* src,
                                                        const fathom_tensor_desc* diff_dst,
                                                        const fathom_tensor_desc* diff_weights,
                                                        const fathom_tensor_desc* diff_bias);

// Dispatch (validated arguments; opens the ThreadGrant).
void conv2d_forward(const Conv2dPlan& plan, const Conv2dForwardArgs& a);
void conv2d_backward_data(const Conv2dPlan& plan, const Conv2dBackwardDataArgs& a);
void conv2d_backward_weights(const Conv2dPlan& plan, const Conv2dBackwardWeightsArgs& a);

// --- kernels (contiguous NCHW / OIHW buffers; bias and diff_bias may be null) ---
// Reference (ops/ref/conv2d_ref.cpp): the specification, f32 and f64.
void conv2d_forward_ref(const Conv2dParams& p, const float* src, const float* weights,
                        const float* bias, float* dst);
void conv2d_forward_ref(const Conv2dParams& p, const double* src, const double* weights,
                        const double* bias, double* dst);
void conv2d_backward_data_ref(const Conv2dParams& p, const float* diff_dst, const float* weights,
                              float* diff_src);
void conv2d_backward_data_ref(const Conv2dParams& p, const double* diff_dst,
                              const double* weights, double* diff_src);
void conv2d_backward_weights_ref(const Conv2dParams& p, const float* src, const float* diff_dst,
                                 float* diff_weights, float* diff_bias);
void conv2d_backward_weights_ref(const Conv2dParams& p, const double* src,
                                 const double* diff_dst, double* diff_weights,
                                 double* diff_bias);

// oneDNN (ops/dnnl/conv2d_dnnl.cpp), F32 only; `threads` is the grant the
// primitives were (or are now) created for.
void conv2d_forward_dnnl(const Conv2dParams& p, const float* src, const float* weights,
                         const float* bias, float* dst, int threads);
void conv2d_backward_data_dnnl(const Conv2dParams& p, const float* diff_dst,
                               const float* weights, float* diff_src, int threads);
void conv2d_backward_weights_dnnl(const Conv2dParams& p, const float* src, const float* diff_dst,
                                  float* diff_weights, float* diff_bias, int threads);
// The activations (bits as Conv2dParams::layouts) the kernel oneDNN runs for
// (p, pass) keeps in nChw16c, so passing them so needs no reorder.
int32_t conv2d_native_layouts_dnnl(const Conv2dParams& p, int32_t pass);
// A plan's tuning choices (ops/dnnl/conv2d_dnnl.cpp).
std::shared_ptr<Conv2dTuned> make_conv2d_tuned();

}  // namespace fathom
