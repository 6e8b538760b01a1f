// Batch normalization over (N, C, S): the checks behind fathom_batch_norm_*,
// backend dispatch, the running-statistics update and the kernels' signatures.
// Semantics are PyTorch's (torch.nn.functional.batch_norm):
//  - training: per channel c, over the M = N*S values x of that channel,
//      mean_B = sum(x) / M,  var_B = sum((x - mean_B)^2) / M  (biased),
//      invstd = 1 / sqrt(var_B + eps),  y = gamma * (x - mean_B) * invstd + beta;
//    running_mean <- (1 - momentum) * running_mean + momentum * mean_B,
//    running_var  <- (1 - momentum) * running_var  + momentum * var_B * M / (M - 1)
//    (the unbiased variance), so M must be > 1 ("more than one value per channel");
//  - inference: the same y with running_mean and running_var in place of the
//    batch statistics;
//  - save_mean / save_invstd receive the statistics y used (training: batch;
//    inference: running), which is what backward reads.
// Nullable: gamma (1) and beta (0) for affine=False, running_* in training
// (track_running_stats=False), save_*, diff_gamma, diff_beta.
// Not here: momentum=None (cumulative average): Java passes 1/num_batches_tracked.
#pragma once

#include <cstdint>

#include <memory>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

// The C params plus the call's activation layout, which the descriptors carry
// (src, dst, diff_dst and diff_src of one call share it).
struct BatchNormParams : fathom_batch_norm_params {
    int32_t layout = FATHOM_LAYOUT_NCHW;
};

// Validated pointers (all contiguous, one dtype); null where the ABI allows it.
struct BatchNormArgs {
    BatchNormParams p;
    fathom_cnn_backend backend;
    fathom_dtype dtype;
    const char* src = nullptr;       // (N,C,S)
    const char* diff_dst = nullptr;  // backward
    const char* gamma = nullptr;
    const char* beta = nullptr;
    char* running_mean = nullptr;
    char* running_var = nullptr;
    char* save_mean = nullptr;    // forward: out; backward: in
    char* save_invstd = nullptr;  // forward: out; backward: in
    char* dst = nullptr;          // forward y / backward diff_src
    char* diff_gamma = nullptr;
    char* diff_beta = nullptr;
};

// A plan: what fathom_batch_norm_plan_create validated and chose, immutable.
struct BatchNormPlan {
    int64_t id = 0;
    BatchNormParams p;
    fathom_dtype dtype = FATHOM_F32;
    fathom_cnn_backend backend = FATHOM_CNN_REFERENCE;  // resolved
};
// Validates (params, dtype F32/F64; training needs N*S > 1), resolves the backend.
std::shared_ptr<BatchNormPlan> make_batch_norm_plan(const fathom_batch_norm_params* p,
                                                    int32_t dtype);

// Per call: activations of the plan's dtype and (N,C,...) shape with trailing
// dims multiplying to S, one layout; per-channel vectors (C); nullability as
// in fathom.h. Messages "batch_norm_forward: ... (n=.. c=.. ...)".
BatchNormArgs check_batch_norm_forward(
    const BatchNormPlan& plan, const fathom_tensor_desc* src, const fathom_tensor_desc* gamma,
    const fathom_tensor_desc* beta, const fathom_tensor_desc* running_mean,
    const fathom_tensor_desc* running_var, const fathom_tensor_desc* save_mean,
    const fathom_tensor_desc* save_invstd, const fathom_tensor_desc* dst);
BatchNormArgs check_batch_norm_backward(
    const BatchNormPlan& plan, const fathom_tensor_desc* src, const fathom_tensor_desc* diff_dst,
    const fathom_tensor_desc* gamma, const fathom_tensor_desc* save_mean,
    const fathom_tensor_desc* save_invstd, const fathom_tensor_desc* diff_src,
    const fathom_tensor_desc* diff_gamma, const fathom_tensor_desc* diff_beta);
void batch_norm_forward(const BatchNormArgs& a);
void batch_norm_backward(const BatchNormArgs& a);

// The running-statistics update above, for channel c, in double. Every backend
// calls it with the batch mean and biased variance.
template <typename T, typename S>
void batch_norm_update_running(const BatchNormParams& p, const S* batch_mean,
                               const S* batch_var, T* running_mean, T* running_var) {
    if (running_mean == nullptr) return;
    const double m = static_cast<double>(p.n) * static_cast<double>(p.s);
    const double unbias = m / (m - 1.0);
    for (int64_t c = 0; c < p.c; ++c) {
        running_mean[c] = static_cast<T>((1.0 - p.momentum) * running_mean[c] +
                                         p.momentum * static_cast<double>(batch_mean[c]));
        running_var[c] = static_cast<T>((1.0 - p.momentum) * running_var[c] +
                                        p.momentum * static_cast<double>(batch_var[c]) * unbias);
    }
}

// --- kernels: the reference is the specification -----------------------------
// src, dst (N,C,S); gamma, beta, running_*, save_* (C), nullable as above.
void batch_norm_forward_ref(const BatchNormParams& p, const float* src,
                            const float* gamma, const float* beta, float* running_mean,
                            float* running_var, float* save_mean, float* save_invstd, float* dst);
void batch_norm_forward_ref(const BatchNormParams& p, const double* src,
                            const double* gamma, const double* beta, double* running_mean,
                            double* running_var, double* save_mean, double* save_invstd,
                            double* dst);
// src, diff_dst, diff_src (N,C,S); gamma, save_*, diff_gamma, diff_beta (C).
// p.training == 0 differentiates the inference form (statistics constant).
void batch_norm_backward_ref(const BatchNormParams& p, const float* src,
                             const float* diff_dst, const float* gamma, const float* save_mean,
                             const float* save_invstd, float* diff_src, float* diff_gamma,
                             float* diff_beta);
void batch_norm_backward_ref(const BatchNormParams& p, const double* src,
                             const double* diff_dst, const double* gamma,
                             const double* save_mean, const double* save_invstd,
                             double* diff_src, double* diff_gamma, double* diff_beta);

// F32 forward and backward by hand (ops/cpu/batch_norm_nchw.cpp), the fast
// backend (FATHOM_CNN_ONEDNN): faster than oneDNN's plain-layout kernels, no
// thread barrier inside a call, results independent of the thread count.
void batch_norm_forward_nchw(const BatchNormArgs& a, int threads);
void batch_norm_backward_nchw(const BatchNormArgs& a, int threads);

}  // namespace fathom
