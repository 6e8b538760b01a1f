// Batch normalization: parameter and descriptor checks, then dispatch to the
// reference or fast F32 kernels (semantics in ops/batch_norm.h). Everything is
// checked before anything is written.
#include "ops/batch_norm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/threads.h"
#include "ops/checker.h"
#include "ops/dispatch.h"
#include "ops/layout.h"
#include "ops/nchw_args.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

std::string describe(const fathom_batch_norm_params& p) {
    std::ostringstream os;
    os << "n=" << p.n << " c=" << p.c << " s=" << p.s << " eps=" << p.eps
       << " momentum=" << p.momentum << " training=" << p.training << " backend=" << p.backend;
    return os.str();
}

BatchNormParams check_params(const char* op, const fathom_batch_norm_params* pp) {
    if (pp == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    const fathom_batch_norm_params& p = *pp;
    if (p.n < 1 || p.c < 1 || p.s < 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": n, c and s must be positive (", describe(p), ")");
    if (p.n > (int64_t{1} << 62) / p.c / p.s)
        fail(FATHOM_INVALID_ARGUMENT, op, ": n*c*s above 2^62 (", describe(p), ")");
    if (!(p.eps > 0.0) || !std::isfinite(p.eps))
        fail(FATHOM_INVALID_ARGUMENT, op, ": eps must be positive and finite (", describe(p), ")");
    if (!(p.momentum >= 0.0 && p.momentum <= 1.0))
        fail(FATHOM_INVALID_ARGUMENT, op, ": momentum must be in [0, 1] (", describe(p), ")");
    require_known_backend(op, p.backend);
    if (p.reserved != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": reserved=", p.reserved, " must be 0 (",
             describe(p), ")");
    BatchNormParams checked;
    static_cast<fathom_batch_norm_params&>(checked) = p;
    return checked;
}

// One layout for the call's activations (the first one's); nChw16c needs
// float32, channels divisible by 16 and is meaningful only with S > 1.
int32_t call_layout(const Checker& ck, const BatchNormParams& p,
                    std::initializer_list<std::pair<const char*, const TensorView*>> views) {
    const auto& first = *views.begin();
    const int32_t layout = first.second->layout;
    for (const auto& v : views)
        if (v.second->layout != layout)
            ck.fail(first.first, " is ", layout_name(layout), " but ", v.first, " is ",
                    layout_name(v.second->layout), "; all activations take one layout");
    if (layout != FATHOM_LAYOUT_NCHW && first.second->dtype != FATHOM_F32)
        ck.fail("nChw16c layout needs float32, ", first.first, " ", shape_str(*first.second),
                " is ", dtype_name(first.second->dtype));
    if (layout != FATHOM_LAYOUT_NCHW && p.c % 16 != 0)
        ck.fail("nChw16c layout needs c divisible by 16");
    return layout;
}

// src-like: the plan's dtype, contiguous, [n, c, ...] with the trailing dims
// multiplying to s, in either layout.
TensorView check_data(const Checker& ck, const BatchNormPlan& plan, const char* name,
                      const fathom_tensor_desc* desc, Checker::Access access) {
    const BatchNormParams& p = plan.p;
    TensorView t;
    try {
        t = access == Checker::kOutput ? output_view_any_layout(ck.op(), name, desc)
                                       : input_view_any_layout(ck.op(), name, desc);
    } catch (const Error& e) {
        ck.rethrow(e);
    }
    if (t.dtype != plan.dtype)
        ck.fail("dtype ", dtype_name(t.dtype), " of ", name, " ", shape_str(t),
                " does not match the plan's ", dtype_name(plan.dtype));
    int64_t s = 1;
    for (int d = 2; d < t.ndim; ++d) s *= t.shape[d];
    if (t.ndim < 2 || t.shape[0] != p.n || t.shape[1] != p.c || s != p.s)
        ck.fail(name, " ", shape_str(t), " does not match n=", p.n, " c=", p.c, " s=", p.s,
                " (expected [", p.n, ",", p.c, ",...] with trailing dims multiplying to s)");
    try {
        require_contiguous(ck.op(), t, name);
    } catch (const Error& e) {
        ck.rethrow(e);
    }
    return t;
}

// A per-channel vector: null, or [c], contiguous, of the plan's dtype.
char* channel_vector(const Checker& ck, const BatchNormPlan& plan, const char* name,
                     const fathom_tensor_desc* desc, Checker::Access access) {
    return ck.optional(name, desc, access, {plan.p.c}, plan.dtype).data;
}

// Work estimate for ThreadGrant: a few memory-bound passes over the data.
[[maybe_unused]] double batch_norm_work(const fathom_batch_norm_params& p) {
    return 4.0 * static_cast<double>(p.n * p.c * p.s) * (kFlopsPerThread / kCheapElementsPerThread);
}

}  // namespace

std::shared_ptr<BatchNormPlan> make_batch_norm_plan(const fathom_batch_norm_params* raw,
                                                    int32_t dtype) {
    const char* op = "batch_norm_plan_create";
    auto plan = std::make_shared<BatchNormPlan>();
    plan->p = check_params(op, raw);
    plan->dtype =
        require_float_plan_dtype(op, "batch_norm", dtype, [&] { return describe(plan->p); });
    if (plan->p.training && plan->p.n * plan->p.s == 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": training needs more than one value per channel (",
             describe(plan->p), ")");
    plan->backend = resolve_cnn_backend(op, plan->p.backend, plan->dtype);
    return plan;
}

BatchNormArgs check_batch_norm_forward(
    const BatchNormPlan& plan, const fathom_tensor_desc* src, const fathom_tensor_desc* gamma,
    const fathom_tensor_desc* beta, const fathom_tensor_desc* running_mean,
    const fathom_tensor_desc* running_var, const fathom_tensor_desc* save_mean,
    const fathom_tensor_desc* save_invstd, const fathom_tensor_desc* dst) {
    const auto context = [&] { return describe(plan.p); };
    const Checker ck("batch_norm_forward", context);
    BatchNormArgs a{plan.p, plan.backend, plan.dtype};
    BatchNormParams& p = a.p;
    const TensorView x = check_data(ck, plan, "src", src, Checker::kInput);
    const TensorView y = check_data(ck, plan, "dst", dst, Checker::kOutput);
    if (y.ndim != x.ndim || !std::equal(x.shape, x.shape + x.ndim, y.shape))
        ck.fail("dst ", shape_str(y), " does not match src ", shape_str(x));
    p.layout = call_layout(ck, p, {{"src", &x}, {"dst", &y}});
    a.src = x.data;
    a.dst = y.data;
    a.gamma = channel_vector(ck, plan, "gamma", gamma, Checker::kInput);
    a.beta = channel_vector(ck, plan, "beta", beta, Checker::kInput);
    a.running_mean = channel_vector(ck, plan, "running_mean", running_mean, Checker::kOutput);
    a.running_var = channel_vector(ck, plan, "running_var", running_var, Checker::kOutput);
    if ((a.running_mean == nullptr) != (a.running_var == nullptr))
        ck.fail("running_mean and running_var must both be given or both be null");
    if (!p.training && a.running_mean == nullptr)
        ck.fail("inference needs running_mean and running_var");
    a.save_mean = channel_vector(ck, plan, "save_mean", save_mean, Checker::kOutput);
    a.save_invstd = channel_vector(ck, plan, "save_invstd", save_invstd, Checker::kOutput);
    return a;
}

BatchNormArgs check_batch_norm_backward(
    const BatchNormPlan& plan, const fathom_tensor_desc* src, const fathom_tensor_desc* diff_dst,
    const fathom_tensor_desc* gamma, const fathom_tensor_desc* save_mean,
    const fathom_tensor_desc* save_invstd, const fathom_tensor_desc* diff_src,
    const fathom_tensor_desc* diff_gamma, const fathom_tensor_desc* diff_beta) {
    const auto context = [&] { return describe(plan.p); };
    const Checker ck("batch_norm_backward", context);
    BatchNormArgs a{plan.p, plan.backend, plan.dtype};
    BatchNormParams& p = a.p;
    const TensorView x = check_data(ck, plan, "src", src, Checker::kInput);
    const TensorView dy = check_data(ck, plan, "diff_dst", diff_dst, Checker::kInput);
    const TensorView dx = check_data(ck, plan, "diff_src", diff_src, Checker::kOutput);
    for (const auto& [name, v] : {std::pair<const char*, const TensorView*>{"diff_dst", &dy},
                                  {"diff_src", &dx}})
        if (v->ndim != x.ndim || !std::equal(x.shape, x.shape + x.ndim, v->shape))
            ck.fail(name, " ", shape_str(*v), " does not match src ", shape_str(x));
    p.layout = call_layout(ck, p, {{"src", &x}, {"diff_dst", &dy}, {"diff_src", &dx}});
    a.src = x.data;
    a.diff_dst = dy.data;
    a.dst = dx.data;
    a.gamma = channel_vector(ck, plan, "gamma", gamma, Checker::kInput);
    if (save_mean == nullptr || save_invstd == nullptr)
        ck.fail("save_mean and save_invstd of the forward are required");
    a.save_mean = channel_vector(ck, plan, "save_mean", save_mean, Checker::kInput);
    a.save_invstd = channel_vector(ck, plan, "save_invstd", save_invstd, Checker::kInput);
    a.diff_gamma = channel_vector(ck, plan, "diff_gamma", diff_gamma, Checker::kOutput);
    a.diff_beta = channel_vector(ck, plan, "diff_beta", diff_beta, Checker::kOutput);
    return a;
}

// The fast backend (F32) runs the hand kernels of ops/cpu/batch_norm_nchw.cpp.
void batch_norm_forward(const BatchNormArgs& a) {
    const BatchNormParams& p = a.p;
    run_kernel(
        a.backend == FATHOM_CNN_ONEDNN, a.dtype, batch_norm_work(p),
        [&](int threads) { batch_norm_forward_nchw(a, threads); },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> x(a.src, p.layout, p.n, p.c, p.s);
            PlainOperand<T> y(a.dst, p.layout, p.n, p.c, p.s);
            batch_norm_forward_ref(p, x.in(), reinterpret_cast<const T*>(a.gamma),
                                   reinterpret_cast<const T*>(a.beta),
                                   reinterpret_cast<T*>(a.running_mean),
                                   reinterpret_cast<T*>(a.running_var),
                                   reinterpret_cast<T*>(a.save_mean),
                                   reinterpret_cast<T*>(a.save_invstd), y.out());
            y.write_back();
        });
}

void batch_norm_backward(const BatchNormArgs& a) {
    const BatchNormParams& p = a.p;
    run_kernel(
        a.backend == FATHOM_CNN_ONEDNN, a.dtype, batch_norm_work(p),
        [&](int threads) { batch_norm_backward_nchw(a, threads); },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> x(a.src, p.layout, p.n, p.c, p.s);
            PlainOperand<T> dy(a.diff_dst, p.layout, p.n, p.c, p.s);
            PlainOperand<T> dx(a.dst, p.layout, p.n, p.c, p.s);
            batch_norm_backward_ref(p, x.in(), dy.in(), reinterpret_cast<const T*>(a.gamma),
                                    reinterpret_cast<const T*>(a.save_mean),
                                    reinterpret_cast<const T*>(a.save_invstd), dx.out(),
                                    reinterpret_cast<T*>(a.diff_gamma),
                                    reinterpret_cast<T*>(a.diff_beta));
            dx.write_back();
        });
}

}  // namespace fathom
