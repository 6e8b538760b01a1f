// Plans owned by a test (created in the constructor, destroyed in the
// destructor), one-shot calls that plan for a single call (the params'
// checks run at plan creation, so a refused params is that call's status),
// and descriptors that state another layout for a test tensor's bytes.
#pragma once

#include <gtest/gtest.h>

#include "fathom/fathom.h"

namespace fathom_test {

class ConvPlan {
public:
    explicit ConvPlan(const fathom_conv2d_params& p, int32_t dtype = FATHOM_F32)
        : status_(fathom_conv2d_plan_create(&p, dtype, &handle_)) {}
    ~ConvPlan() {
        if (handle_ != 0) EXPECT_EQ(FATHOM_OK, fathom_conv2d_plan_destroy(handle_));
    }
    ConvPlan(const ConvPlan&) = delete;
    ConvPlan& operator=(const ConvPlan&) = delete;

    fathom_status status() const { return status_; }
    int64_t handle() const { return handle_; }
    fathom_conv2d_choice info() const {
        fathom_conv2d_choice c{};
        EXPECT_EQ(FATHOM_OK, fathom_conv2d_plan_info(handle_, &c)) << fathom_last_error();
        return c;
    }

private:
    int64_t handle_ = 0;
    fathom_status status_;
};

// A plan of any family: Create(params, dtype, &handle), Destroy(handle).
template <typename Params, fathom_status (*Create)(const Params*, int32_t, int64_t*),
          fathom_status (*Destroy)(int64_t)>
class Plan {
public:
    Plan(const Params* p, int32_t dtype) : status_(Create(p, dtype, &handle_)) {}
    ~Plan() {
        if (handle_ != 0) EXPECT_EQ(FATHOM_OK, Destroy(handle_));
    }
    Plan(const Plan&) = delete;
    Plan& operator=(const Plan&) = delete;
    fathom_status status() const { return status_; }
    int64_t handle() const { return handle_; }

private:
    int64_t handle_ = 0;
    fathom_status status_;
};

using PoolPlan = Plan<fathom_pool2d_params, fathom_pool2d_plan_create, fathom_pool2d_plan_destroy>;

inline int32_t dtype_of(const fathom_tensor_desc* d) { return d ? d->dtype : FATHOM_F32; }

inline fathom_pool2d_choice pool2d_info(const fathom_pool2d_params& p, int32_t dtype) {
    PoolPlan plan(&p, dtype);
    fathom_pool2d_choice c{};
    EXPECT_EQ(FATHOM_OK, plan.status()) << fathom_last_error();
    if (plan.status() == FATHOM_OK)
        EXPECT_EQ(FATHOM_OK, fathom_pool2d_plan_info(plan.handle(), &c));
    return c;
}
inline fathom_status pool2d_forward_once(const fathom_pool2d_params* p,
                                         const fathom_tensor_desc* src,
                                         const fathom_tensor_desc* dst,
                                         const fathom_tensor_desc* ws) {
    PoolPlan plan(p, dtype_of(src));
    if (plan.status() != FATHOM_OK) return plan.status();
    return fathom_pool2d_forward(plan.handle(), src, dst, ws);
}
inline fathom_status pool2d_backward_once(const fathom_pool2d_params* p,
                                          const fathom_tensor_desc* diff_dst,
                                          const fathom_tensor_desc* ws,
                                          const fathom_tensor_desc* diff_src) {
    PoolPlan plan(p, dtype_of(diff_dst));
    if (plan.status() != FATHOM_OK) return plan.status();
    return fathom_pool2d_backward(plan.handle(), diff_dst, ws, diff_src);
}

using BatchNormPlan = Plan<fathom_batch_norm_params, fathom_batch_norm_plan_create,
                           fathom_batch_norm_plan_destroy>;

inline fathom_status batch_norm_forward_once(
    const fathom_batch_norm_params* p, const fathom_tensor_desc* src,
    const fathom_tensor_desc* gamma, const fathom_tensor_desc* beta,
    const fathom_tensor_desc* running_mean, const fathom_tensor_desc* running_var,
    const fathom_tensor_desc* save_mean, const fathom_tensor_desc* save_invstd,
    const fathom_tensor_desc* dst) {
    BatchNormPlan plan(p, dtype_of(src));
    if (plan.status() != FATHOM_OK) return plan.status();
    return fathom_batch_norm_forward(plan.handle(), src, gamma, beta, running_mean, running_var,
                                     save_mean, save_invstd, dst);
}
inline fathom_status batch_norm_backward_once(
    const fathom_batch_norm_params* p, const fathom_tensor_desc* src,
    const fathom_tensor_desc* diff_dst, const fathom_tensor_desc* gamma,
    const fathom_tensor_desc* save_mean, const fathom_tensor_desc* save_invstd,
    const fathom_tensor_desc* diff_src, const fathom_tensor_desc* diff_gamma,
    const fathom_tensor_desc* diff_beta) {
    BatchNormPlan plan(p, dtype_of(src));
    if (plan.status() != FATHOM_OK) return plan.status();
    return fathom_batch_norm_backward(plan.handle(), src, diff_dst, gamma, save_mean, save_invstd,
                                      diff_src, diff_gamma, diff_beta);
}

using RnnPlan = Plan<fathom_rnn_params, fathom_rnn_plan_create, fathom_rnn_plan_destroy>;

inline fathom_status rnn_workspace_bytes_once(const fathom_rnn_params* p, int32_t dtype,
                                              int64_t* bytes) {
    RnnPlan plan(p, dtype);
    if (plan.status() != FATHOM_OK) return plan.status();
    fathom_rnn_choice c{};
    const fathom_status st = fathom_rnn_plan_info(plan.handle(), &c);
    if (st == FATHOM_OK) *bytes = c.workspace_bytes;
    return st;
}
template <typename... Rest>
fathom_status rnn_forward_once(const fathom_rnn_params* p, int32_t training,
                               const fathom_tensor_desc* src, Rest... rest) {
    RnnPlan plan(p, dtype_of(src));
    if (plan.status() != FATHOM_OK) return plan.status();
    return fathom_rnn_forward(plan.handle(), training, src, rest...);
}
template <typename... Rest>
fathom_status rnn_backward_once(const fathom_rnn_params* p, const fathom_tensor_desc* src,
                                Rest... rest) {
    RnnPlan plan(p, dtype_of(src));
    if (plan.status() != FATHOM_OK) return plan.status();
    return fathom_rnn_backward(plan.handle(), src, rest...);
}

// A copy of a descriptor whose layout field says `layout` (lives for the
// full expression it appears in, long enough for a call).
struct LaidOut {
    fathom_tensor_desc desc;
    operator const fathom_tensor_desc*() const { return &desc; }
};

inline LaidOut laid_out(const fathom_tensor_desc* d, int32_t layout) {
    LaidOut l{*d};
    l.desc.layout = layout;
    return l;
}

}  // namespace fathom_test
