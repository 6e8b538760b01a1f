// C ABI for pooling and batch-normalization plans and bilinear resize (ABI 7): validate,
// dispatch, catch, return a status. The checks live next to the kernels
// (ops/pool2d.cpp, ops/batch_norm.cpp, ops/resize.cpp); no exception leaves this file.
#include "api/guarded.h"
#include "core/error.h"
#include "core/plan_registry.h"
#include "fathom/fathom.h"
#include "ops/batch_norm.h"
#include "ops/pool2d.h"
#include "ops/resize.h"

using fathom::fail;
using fathom::guarded;

namespace {

fathom::PlanRegistry<fathom::Pool2dPlan>& pool2d_plans() {
    static fathom::PlanRegistry<fathom::Pool2dPlan> registry;
    return registry;
}

fathom::PlanRegistry<fathom::BatchNormPlan>& batch_norm_plans() {
    static fathom::PlanRegistry<fathom::BatchNormPlan> registry;
    return registry;
}

}  // namespace

extern "C" {

fathom_status fathom_pool2d_plan_create(const fathom_pool2d_params* p, int32_t dtype,
                                        int64_t* plan) {
    return guarded("pool2d_plan_create", [&] {
        if (!plan) fail(FATHOM_INVALID_ARGUMENT, "pool2d_plan_create: plan is null");
        *plan = pool2d_plans().add(fathom::make_pool2d_plan(p, dtype));
    });
}

fathom_status fathom_pool2d_plan_destroy(int64_t plan) {
    return guarded("pool2d_plan_destroy",
                   [&] { pool2d_plans().remove("pool2d_plan_destroy", plan); });
}

fathom_status fathom_pool2d_plan_info(int64_t plan, fathom_pool2d_choice* info) {
    return guarded("pool2d_plan_info", [&] {
        const auto pl = pool2d_plans().get("pool2d_plan_info", plan);
        if (!info) fail(FATHOM_INVALID_ARGUMENT, "pool2d_plan_info: info is null");
        fathom_pool2d_choice out{};
        out.dst_shape[0] = pl->p.n;
        out.dst_shape[1] = pl->p.c;
        out.dst_shape[2] = pl->oh;
        out.dst_shape[3] = pl->ow;
        out.workspace_bytes = fathom::pool2d_workspace_bytes(pl->p, pl->backend);
        out.backend = pl->backend;
        *info = out;
    });
}

fathom_status fathom_pool2d_forward(int64_t plan, const fathom_tensor_desc* src,
                                    const fathom_tensor_desc* dst,
                                    const fathom_tensor_desc* workspace) {
    return guarded("pool2d_forward", [&] {
        const auto pl = pool2d_plans().get("pool2d_forward", plan);
        fathom::pool2d_forward(fathom::check_pool2d_forward(*pl, src, dst, workspace));
    });
}

fathom_status fathom_pool2d_backward(int64_t plan, const fathom_tensor_desc* diff_dst,
                                     const fathom_tensor_desc* workspace,
                                     const fathom_tensor_desc* diff_src) {
    return guarded("pool2d_backward", [&] {
        const auto pl = pool2d_plans().get("pool2d_backward", plan);
        fathom::pool2d_backward(fathom::check_pool2d_backward(*pl, diff_dst, workspace, diff_src));
    });
}

fathom_status fathom_batch_norm_plan_create(const fathom_batch_norm_params* p, int32_t dtype,
                                            int64_t* plan) {
    return guarded("batch_norm_plan_create", [&] {
        if (!plan) fail(FATHOM_INVALID_ARGUMENT, "batch_norm_plan_create: plan is null");
        *plan = batch_norm_plans().add(fathom::make_batch_norm_plan(p, dtype));
    });
}

fathom_status fathom_batch_norm_plan_destroy(int64_t plan) {
    return guarded("batch_norm_plan_destroy",
                   [&] { batch_norm_plans().remove("batch_norm_plan_destroy", plan); });
}

fathom_status fathom_batch_norm_plan_info(int64_t plan, fathom_batch_norm_choice* info) {
    return guarded("batch_norm_plan_info", [&] {
        const auto pl = batch_norm_plans().get("batch_norm_plan_info", plan);
        if (!info) fail(FATHOM_INVALID_ARGUMENT, "batch_norm_plan_info: info is null");
        fathom_batch_norm_choice out{};
        out.backend = pl->backend;
        *info = out;
    });
}

fathom_status fathom_batch_norm_forward(int64_t plan, const fathom_tensor_desc* src,
                                        const fathom_tensor_desc* gamma,
                                        const fathom_tensor_desc* beta,
                                        const fathom_tensor_desc* running_mean,
                                        const fathom_tensor_desc* running_var,
                                        const fathom_tensor_desc* save_mean,
                                        const fathom_tensor_desc* save_invstd,
                                        const fathom_tensor_desc* dst) {
    return guarded("batch_norm_forward", [&] {
        const auto pl = batch_norm_plans().get("batch_norm_forward", plan);
        fathom::batch_norm_forward(fathom::check_batch_norm_forward(
            *pl, src, gamma, beta, running_mean, running_var, save_mean, save_invstd, dst));
    });
}

fathom_status fathom_batch_norm_backward(int64_t plan, const fathom_tensor_desc* src,
                                         const fathom_tensor_desc* diff_dst,
                                         const fathom_tensor_desc* gamma,
                                         const fathom_tensor_desc* save_mean,
                                         const fathom_tensor_desc* save_invstd,
                                         const fathom_tensor_desc* diff_src,
                                         const fathom_tensor_desc* diff_gamma,
                                         const fathom_tensor_desc* diff_beta) {
    return guarded("batch_norm_backward", [&] {
        const auto pl = batch_norm_plans().get("batch_norm_backward", plan);
        fathom::batch_norm_backward(fathom::check_batch_norm_backward(
            *pl, src, diff_dst, gamma, save_mean, save_invstd, diff_src, diff_gamma, diff_beta));
    });
}

fathom_status fathom_resize_bilinear(const fathom_tensor_desc* src, const fathom_tensor_desc* dst) {
    return guarded("resize_bilinear",
                   [&] { fathom::resize_bilinear(fathom::check_resize_bilinear(src, dst)); });
}

}  // extern "C"
