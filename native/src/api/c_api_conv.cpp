// C ABI of the convolution plans (fathom.h "A convolution plan"): validate,
// dispatch, catch, return a status, as in c_api.cpp. The checks (ops/conv2d.cpp)
// run before anything is written, so a refused call leaves its outputs as they were.
#include "api/guarded.h"
#include "core/error.h"
#include "core/plan_registry.h"
#include "fathom/fathom.h"
#include "ops/conv2d.h"
#include "ops/layout.h"

using fathom::fail;
using fathom::guarded;

namespace {

fathom::PlanRegistry<fathom::Conv2dPlan>& conv2d_plans() {
    static fathom::PlanRegistry<fathom::Conv2dPlan> registry;
    return registry;
}

}  // namespace

extern "C" {

fathom_status fathom_conv2d_plan_create(const fathom_conv2d_params* p, int32_t dtype,
                                        int64_t* plan) {
    return guarded("conv2d_plan_create", [&] {
        if (!plan) fail(FATHOM_INVALID_ARGUMENT, "conv2d_plan_create: plan is null");
        *plan = conv2d_plans().add(fathom::make_conv2d_plan(p, dtype));
    });
}

fathom_status fathom_conv2d_plan_destroy(int64_t plan) {
    return guarded("conv2d_plan_destroy",
                   [&] { conv2d_plans().remove("conv2d_plan_destroy", plan); });
}

fathom_status fathom_conv2d_plan_info(int64_t plan, fathom_conv2d_choice* info) {
    return guarded("conv2d_plan_info", [&] {
        const auto pl = conv2d_plans().get("conv2d_plan_info", plan);
        if (!info) fail(FATHOM_INVALID_ARGUMENT, "conv2d_plan_info: info is null");
        fathom_conv2d_choice out{};
        out.dst_shape[0] = pl->p.n;
        out.dst_shape[1] = pl->p.k;
        out.dst_shape[2] = pl->p.oh;
        out.dst_shape[3] = pl->p.ow;
        out.backend = pl->backend;
        for (int pass = 0; pass < 3; ++pass) {
            out.src_layout[pass] = pl->src_layout[pass];
            out.dst_layout[pass] = pl->dst_layout[pass];
        }
        *info = out;
    });
}

fathom_status fathom_convert_layout(const fathom_tensor_desc* src, const fathom_tensor_desc* dst) {
    return guarded("convert_layout", [&] { fathom::convert_layout_api(src, dst); });
}

fathom_status fathom_conv2d_forward(int64_t plan, const fathom_tensor_desc* src,
                                    const fathom_tensor_desc* weights,
                                    const fathom_tensor_desc* bias,
                                    const fathom_tensor_desc* dst) {
    return guarded("conv2d_forward", [&] {
        const auto pl = conv2d_plans().get("conv2d_forward", plan);
        fathom::conv2d_forward(*pl, fathom::check_conv2d_forward(*pl, src, weights, bias, dst));
    });
}

fathom_status fathom_conv2d_backward_data(int64_t plan, const fathom_tensor_desc* diff_dst,
                                          const fathom_tensor_desc* weights,
                                          const fathom_tensor_desc* diff_src) {
    return guarded("conv2d_backward_data", [&] {
        const auto pl = conv2d_plans().get("conv2d_backward_data", plan);
        fathom::conv2d_backward_data(
            *pl, fathom::check_conv2d_backward_data(*pl, diff_dst, weights, diff_src));
    });
}

fathom_status fathom_conv2d_backward_weights(int64_t plan, const fathom_tensor_desc* src,
                                             const fathom_tensor_desc* diff_dst,
                                             const fathom_tensor_desc* diff_weights,
                                             const fathom_tensor_desc* diff_bias) {
    return guarded("conv2d_backward_weights", [&] {
        const auto pl = conv2d_plans().get("conv2d_backward_weights", plan);
        fathom::conv2d_backward_weights(
            *pl, fathom::check_conv2d_backward_weights(*pl, src, diff_dst, diff_weights,
                                                       diff_bias));
    });
}

}  // extern "C"
