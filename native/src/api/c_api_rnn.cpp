// C ABI of the recurrent-layer plans (fathom.h "Recurrent layers"):
// validate, dispatch, catch, return a status, as in c_api_conv.cpp. The checks
// (ops/rnn.cpp) run before anything is written, so a refused call leaves its
// outputs and the workspace as they were.
#include "api/guarded.h"
#include "core/error.h"
#include "core/plan_registry.h"
#include "fathom/fathom.h"
#include "ops/rnn.h"

using fathom::fail;
using fathom::guarded;

namespace {

fathom::PlanRegistry<fathom::RnnPlan>& rnn_plans() {
    static fathom::PlanRegistry<fathom::RnnPlan> registry;
    return registry;
}

}  // namespace

extern "C" {

fathom_status fathom_rnn_plan_create(const fathom_rnn_params* p, int32_t dtype, int64_t* plan) {
    return guarded("rnn_plan_create", [&] {
        if (!plan) fail(FATHOM_INVALID_ARGUMENT, "rnn_plan_create: plan is null");
        *plan = rnn_plans().add(fathom::make_rnn_plan(p, dtype));
    });
}

fathom_status fathom_rnn_plan_destroy(int64_t plan) {
    return guarded("rnn_plan_destroy", [&] { rnn_plans().remove("rnn_plan_destroy", plan); });
}

fathom_status fathom_rnn_plan_info(int64_t plan, fathom_rnn_choice* info) {
    return guarded("rnn_plan_info", [&] {
        const auto pl = rnn_plans().get("rnn_plan_info", plan);
        if (!info) fail(FATHOM_INVALID_ARGUMENT, "rnn_plan_info: info is null");
        fathom_rnn_choice out{};
        out.workspace_bytes = fathom::rnn_workspace_bytes(pl->p, pl->dtype, pl->backend);
        out.backend = pl->backend;
        *info = out;
    });
}

fathom_status fathom_rnn_forward(int64_t plan, int32_t training,
                                 const fathom_tensor_desc* src, const fathom_tensor_desc* src_iter,
                                 const fathom_tensor_desc* src_iter_c,
                                 const fathom_tensor_desc* weights, int32_t weights_count,
                                 const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                                 const fathom_tensor_desc* dst_iter_c,
                                 const fathom_tensor_desc* workspace) {
    return guarded("rnn_forward", [&] {
        const auto pl = rnn_plans().get("rnn_forward", plan);
        fathom::rnn_forward(fathom::check_rnn_forward(*pl, training, src, src_iter, src_iter_c,
                                                      weights, weights_count, dst, dst_iter,
                                                      dst_iter_c, workspace));
    });
}

fathom_status fathom_rnn_backward(
    int64_t plan, const fathom_tensor_desc* src, const fathom_tensor_desc* src_iter,
    const fathom_tensor_desc* src_iter_c, const fathom_tensor_desc* weights, int32_t weights_count,
    const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
    const fathom_tensor_desc* dst_iter_c, const fathom_tensor_desc* diff_dst,
    const fathom_tensor_desc* diff_dst_iter, const fathom_tensor_desc* diff_dst_iter_c,
    const fathom_tensor_desc* workspace, const fathom_tensor_desc* diff_src,
    const fathom_tensor_desc* diff_src_iter, const fathom_tensor_desc* diff_src_iter_c,
    const fathom_tensor_desc* diff_weights, int32_t diff_weights_count) {
    return guarded("rnn_backward", [&] {
        const auto pl = rnn_plans().get("rnn_backward", plan);
        fathom::rnn_backward(fathom::check_rnn_backward(
            *pl, src, src_iter, src_iter_c, weights, weights_count, dst, dst_iter, dst_iter_c,
            diff_dst, diff_dst_iter, diff_dst_iter_c, workspace, diff_src, diff_src_iter,
            diff_src_iter_c, diff_weights, diff_weights_count));
    });
}

}  // extern "C"
