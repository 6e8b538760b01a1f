// 2-D convolution (fathom_conv2d_*): the validated C++ view of
// fathom_conv2d_params, the argument checks every entry point runs before it
// writes anything, backend dispatch, and the kernels' signatures.
// Not here: pooling, batch norm (ops/pool2d.h, ops/batch_norm.h), and no
// autograd: the Java op pairs forward with the two backward entry points.
//
// Shapes (cross-correlation, as PyTorch; G = groups, Cg = C/G, Kg = K/G):
//   src (N,C,H,W), weights (K,Cg,KH,KW), bias (K) -> dst (N,K,OH,OW)
//   OH = (H + 2*ph - dh*(KH-1) - 1) / sh + 1   (floor; the same for OW)
//   output channel k reads input channels g*Cg .. g*Cg+Cg-1 with g = k / Kg.
// Every tensor is a contiguous NCHW (OIHW for weights) descriptor of exactly
// that shape, F32 or F64, all of one dtype; with layout bits set (F32 only),
// the flagged activations' bytes are nChw16c (ops/layout.h) behind that
// descriptor. Outputs are overwritten (never
// accumulated into), so their prior contents, NaN included, do not matter.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

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
    int32_t layouts = 0;  // fathom_conv2d_layout bits: which activations are nChw16c
    fathom_cnn_backend backend = FATHOM_CNN_AUTO;
    fathom_conv2d_params raw{};  // as the caller passed them (cache keys, messages)

    bool src_blocked() const { return (layouts & FATHOM_CONV2D_SRC_NCHW16C) != 0; }
    bool dst_blocked() const { return (layouts & FATHOM_CONV2D_DST_NCHW16C) != 0; }
    // The fathom_layout of src / diff_src and of dst / diff_dst.
    int32_t src_layout() const { return src_blocked() ? FATHOM_LAYOUT_NCHW16C : FATHOM_LAYOUT_NCHW; }
    int32_t dst_layout() const { return dst_blocked() ? FATHOM_LAYOUT_NCHW16C : FATHOM_LAYOUT_NCHW; }
    int64_t cg() const { return c / groups; }  // input channels per group
    int64_t kg() const { return k / groups; }  // output channels per group
    // 2*N*K*OH*OW*Cg*KH*KW: the multiply-adds of any of the three passes.
    double flops() const;
    std::string str() const;  // "n=2 c=3 h=8 w=8 k=4 kh=3 kw=3 sh=1 ... groups=1 has_bias=1 ..."
};

// Checks the params alone (no tensors): sizes >= 1, stride >= 1, padding >= 0,
// dilation >= 1, groups dividing C and K, an output of at least 1x1, flags 0
// or 1, a known backend, reserved == 0. Throws FATHOM_INVALID_ARGUMENT
// "<op>: ..." naming the offending values, the params and the shapes of the
// `count` operands named in names/descs (a descriptor may be null).
Conv2dParams check_conv2d_params(const char* op, const fathom_conv2d_params* p,
                                 const char* const* names = nullptr,
                                 const fathom_tensor_desc* const* descs = nullptr,
                                 int count = 0);

// The three passes' validated arguments. A TensorView with data == nullptr
// stands for an absent (null) bias / diff_bias.
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

// Param checks, then per tensor: non-null, 4-D (bias 1-D), exactly the shape
// the params imply, contiguous, F32/F64 and the dtype of the first tensor;
// bias present iff has_bias; post_relu only in forward; F64 not on ONEDNN
// (FATHOM_UNSUPPORTED). Messages name the entry point, the tensor, and every
// operand's shape, e.g.
//   conv2d_forward: src [2,3,8,8] has 3 channels but weights [4,2,3,3] with groups=1 expect 2 (...)
Conv2dForwardArgs check_conv2d_forward(const fathom_conv2d_params* p,
                                       const fathom_tensor_desc* src,
                                       const fathom_tensor_desc* weights,
                                       const fathom_tensor_desc* bias,
                                       const fathom_tensor_desc* dst);
Conv2dBackwardDataArgs check_conv2d_backward_data(const fathom_conv2d_params* p,
                                                  const fathom_tensor_desc* diff_dst,
                                                  const fathom_tensor_desc* weights,
                                                  const fathom_tensor_desc* diff_src);
Conv2dBackwardWeightsArgs check_conv2d_backward_weights(const fathom_conv2d_params* p,
                                                        const fathom_tensor_desc* src,
                                                        const fathom_tensor_desc* diff_dst,
                                                        const fathom_tensor_desc* diff_weights,
                                                        const fathom_tensor_desc* diff_bias);

// The layout bits of fathom_conv2d_native_layouts (validated params; p.layouts ignored).
int32_t conv2d_native_layouts(const Conv2dParams& p, int32_t pass);

// The backend that runs a call: AUTO is oneDNN for F32 (when built with it) and
// the reference kernels otherwise.
fathom_cnn_backend resolve_conv2d_backend(const Conv2dParams& p, fathom_dtype dtype);

// Dispatch (validated arguments; opens the ThreadGrant).
void conv2d_forward(const Conv2dForwardArgs& a);
void conv2d_backward_data(const Conv2dBackwardDataArgs& a);
void conv2d_backward_weights(const Conv2dBackwardWeightsArgs& a);

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

}  // namespace fathom
