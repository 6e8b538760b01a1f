// 2-D pooling: parameter and descriptor checks, the max-pooling workspace
// header, and dispatch to the reference or oneDNN kernels (ops/pool2d.h).
// Everything is checked before anything is written, so a refused call leaves
// dst, diff_src and the workspace as they were.
#include "ops/pool2d.h"

#include <cstring>
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

const char* algorithm_name(int32_t a) {
    switch (a) {
        case FATHOM_POOL_MAX: return "max";
        case FATHOM_POOL_AVG_INCLUDE_PADDING: return "avg_include_padding";
        case FATHOM_POOL_AVG_EXCLUDE_PADDING: return "avg_exclude_padding";
        default: return "unknown";
    }
}

std::string describe(const fathom_pool2d_params& p) {
    std::ostringstream os;
    os << "n=" << p.n << " c=" << p.c << " h=" << p.h << " w=" << p.w << " kernel=" << p.kh
       << "x" << p.kw << " stride=" << p.sh << "x" << p.sw << " padding=" << p.ph << "x" << p.pw
       << " algorithm=" << algorithm_name(p.algorithm) << " backend=" << backend_name(p.backend);
    return os.str();
}

// Work estimate for ThreadGrant: one cheap (memory-bound) element per window element.
[[maybe_unused]] double pool2d_work(const Pool2dParams& p) {
    const double elements = static_cast<double>(p.n * p.c * pool2d_out_h(p) * pool2d_out_w(p)) *
                            static_cast<double>(p.kh * p.kw);
    return elements * (kFlopsPerThread / kCheapElementsPerThread);
}

int64_t ref_payload_bytes(const Pool2dParams& p) {
    return p.n * p.c * pool2d_out_h(p) * pool2d_out_w(p) * static_cast<int64_t>(sizeof(int32_t));
}

int64_t payload_bytes(const Pool2dParams& p, fathom_cnn_backend backend) {
    if (p.algorithm != FATHOM_POOL_MAX) return 0;
#ifdef FATHOM_WITH_DNNL
    if (backend == FATHOM_CNN_ONEDNN) {
        ThreadGrant grant(pool2d_work(p));  // the same cache entry forward will use
        return pool2d_workspace_payload_dnnl(p, grant.threads());
    }
#endif
    (void)backend;
    return ref_payload_bytes(p);
}

// src-like (N,C,H,W) and dst-like (N,C,OH,OW) operands of the plan's dtype.
void check_operands(const Checker& ck, const Pool2dPlan& plan, TensorView* x, const char* x_name,
                    const fathom_tensor_desc* x_desc, Checker::Access x_access, TensorView* y,
                    const char* y_name, const fathom_tensor_desc* y_desc) {
    const Pool2dParams& p = plan.p;
    const Checker::Access y_access =
        x_access == Checker::kOutput ? Checker::kInput : Checker::kOutput;
    *x = ck.tensor(x_name, x_desc, x_access, {p.n, p.c, p.h, p.w}, plan.dtype, Checker::kAnyLayout);
    *y = ck.tensor(y_name, y_desc, y_access, {p.n, p.c, plan.oh, plan.ow}, plan.dtype,
                   Checker::kAnyLayout);
}

WorkspaceExpectation expected_workspace(const Pool2dPlan& plan, const Pool2dParams& p,
                                        int64_t bytes) {
    return {kPool2dWorkspaceMagic, "pool2d_forward", "pooling", plan.backend, plan.dtype,
            "diff_src", pool2d_params_hash(p), bytes};
}

}  // namespace

Pool2dParams check_pool2d_params(const char* op, const fathom_pool2d_params* pp) {
    if (pp == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    const fathom_pool2d_params& p = *pp;
    if (p.n < 1 || p.c < 1 || p.h < 1 || p.w < 1 || p.kh < 1 || p.kw < 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": sizes and kernel must be positive (", describe(p),
             ")");
    if (p.sh < 1 || p.sw < 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": stride must be >= 1 (", describe(p), ")");
    constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
    if (p.n > kMaxDim || p.c > kMaxDim || p.h > kMaxDim || p.w > kMaxDim || p.kh > kMaxDim ||
        p.kw > kMaxDim || p.sh > kMaxDim || p.sw > kMaxDim || p.ph > kMaxDim || p.pw > kMaxDim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": a size above 2^31-1 (", describe(p), ")");
    if (p.ph < 0 || p.pw < 0 || 2 * p.ph > p.kh || 2 * p.pw > p.kw)
        fail(FATHOM_INVALID_ARGUMENT, op, ": padding must be between 0 and half the kernel, "
             "as in PyTorch (", describe(p), ")");
    if (p.kh > p.h + 2 * p.ph || p.kw > p.w + 2 * p.pw)
        fail(FATHOM_INVALID_ARGUMENT, op, ": kernel larger than the padded input (",
             describe(p), ")");
    if (p.h * p.w > kMaxDim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": h*w above 2^31-1 (", describe(p), ")");
    // NOTE: 2^56 leaves room for the workspace's 4 bytes per dst element, and
    // dst can have up to 4x src's elements (OH <= H + 1 since 2*ph <= kh).
    if (p.n * p.c > (int64_t{1} << 56) / (p.h * p.w))
        fail(FATHOM_INVALID_ARGUMENT, op, ": n*c*h*w above 2^56 (", describe(p), ")");
    if (p.algorithm < FATHOM_POOL_MAX || p.algorithm > FATHOM_POOL_AVG_EXCLUDE_PADDING)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown algorithm ", p.algorithm);
    require_known_backend(op, p.backend);
    if (p.reserved != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": reserved=", p.reserved, " must be 0 (",
             describe(p), ")");
    Pool2dParams checked;
    static_cast<fathom_pool2d_params&>(checked) = p;
    return checked;
}

namespace {

// The call's layout: both operands' (one layout per call); nChw16c needs
// float32 and channels divisible by 16.
int32_t call_layout(const Checker& ck, const Pool2dParams& p, const TensorView& x,
                    const char* x_name, const TensorView& y, const char* y_name) {
    if (x.layout != y.layout)
        ck.fail(x_name, " is ", layout_name(x.layout), " but ", y_name, " is ",
                layout_name(y.layout), "; both take one layout");
    if (x.layout != FATHOM_LAYOUT_NCHW && x.dtype != FATHOM_F32)
        ck.fail("nChw16c layout needs float32, got ", dtype_name(x.dtype));
    if (x.layout != FATHOM_LAYOUT_NCHW && p.c % 16 != 0)
        ck.fail("nChw16c layout needs c divisible by 16");
    return x.layout;
}

}  // namespace

uint64_t pool2d_params_hash(const Pool2dParams& p) {
    return params_hash({p.n, p.c, p.h, p.w, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw, p.algorithm,
                        p.layout});
}

int64_t pool2d_workspace_bytes(const Pool2dParams& p, fathom_cnn_backend backend) {
    if (p.algorithm != FATHOM_POOL_MAX) return 0;
    return static_cast<int64_t>(sizeof(WorkspaceHeader)) + payload_bytes(p, backend);
}

std::shared_ptr<Pool2dPlan> make_pool2d_plan(const fathom_pool2d_params* raw, int32_t dtype) {
    const char* op = "pool2d_plan_create";
    auto plan = std::make_shared<Pool2dPlan>();
    plan->p = check_pool2d_params(op, raw);
    plan->dtype = require_float_plan_dtype(op, "pool2d", dtype, [&] { return describe(plan->p); });
    plan->backend = resolve_cnn_backend(op, plan->p.backend, plan->dtype);
    plan->oh = pool2d_out_h(plan->p);
    plan->ow = pool2d_out_w(plan->p);
    return plan;
}

Pool2dArgs check_pool2d_forward(const Pool2dPlan& plan, const fathom_tensor_desc* src,
                                const fathom_tensor_desc* dst,
                                const fathom_tensor_desc* workspace) {
    const auto context = [&] { return describe(plan.p); };
    const Checker ck("pool2d_forward", context);
    Pool2dArgs a{plan.p, plan.backend, {}, {}};
    check_operands(ck, plan, &a.x, "src", src, Checker::kInput, &a.y, "dst", dst);
    a.p.layout = call_layout(ck, a.p, a.x, "src", a.y, "dst");
    int64_t numel = 0;
    a.workspace = ck.workspace(workspace, 8, &numel);
    if (workspace != nullptr) {
        a.workspace_bytes = pool2d_workspace_bytes(a.p, a.backend);
        if (numel != a.workspace_bytes)
            ck.fail("workspace holds ", numel, " bytes but the plan's workspace_bytes is ",
                    a.workspace_bytes);
    }
    return a;
}

Pool2dArgs check_pool2d_backward(const Pool2dPlan& plan, const fathom_tensor_desc* diff_dst,
                                 const fathom_tensor_desc* workspace,
                                 const fathom_tensor_desc* diff_src) {
    const auto context = [&] { return describe(plan.p); };
    const Checker ck("pool2d_backward", context);
    Pool2dArgs a{plan.p, plan.backend, {}, {}};
    check_operands(ck, plan, &a.x, "diff_src", diff_src, Checker::kOutput, &a.y, "diff_dst",
                   diff_dst);
    a.p.layout = call_layout(ck, a.p, a.x, "diff_src", a.y, "diff_dst");
    int64_t numel = 0;
    a.workspace = ck.workspace(workspace, 8, &numel);
    if (a.p.algorithm != FATHOM_POOL_MAX) {
        if (numel != 0)
            ck.fail("workspace holds ", numel, " bytes but the plan's workspace_bytes is 0");
        return a;
    }
    if (workspace == nullptr) ck.fail("max pooling needs the workspace of pool2d_forward");
    a.workspace_bytes = pool2d_workspace_bytes(a.p, a.backend);
    check_workspace_header(ck, a.workspace, numel,
                           expected_workspace(plan, a.p, a.workspace_bytes));
    return a;
}

void pool2d_forward(const Pool2dArgs& a) {
    const Pool2dParams& p = a.p;
    char* payload = a.workspace ? a.workspace + sizeof(WorkspaceHeader) : nullptr;
    run_kernel(
        a.backend == FATHOM_CNN_ONEDNN, a.x.dtype, pool2d_work(p),
        [&](int threads) {
            pool2d_forward_dnnl(p, reinterpret_cast<const float*>(a.x.data),
                                reinterpret_cast<float*>(a.y.data), payload, threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> x(a.x, p.n, p.c, p.h * p.w);
            PlainOperand<T> y(a.y, p.n, p.c, pool2d_out_h(p) * pool2d_out_w(p));
            pool2d_forward_ref(p, x.in(), y.out(), reinterpret_cast<int32_t*>(payload));
            y.write_back();
        });
    if (a.workspace && p.algorithm == FATHOM_POOL_MAX)
        write_workspace_header(a.workspace, {kPool2dWorkspaceMagic, "pool2d_forward", "pooling",
                                             a.backend, a.x.dtype, "src",
                                             pool2d_params_hash(p), a.workspace_bytes});
}

void pool2d_backward(const Pool2dArgs& a) {
    const Pool2dParams& p = a.p;
    const char* payload = a.workspace ? a.workspace + sizeof(WorkspaceHeader) : nullptr;
    run_kernel(
        a.backend == FATHOM_CNN_ONEDNN, a.x.dtype, pool2d_work(p),
        [&](int threads) {
            pool2d_backward_dnnl(p, reinterpret_cast<const float*>(a.y.data), payload,
                                 reinterpret_cast<float*>(a.x.data), threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> dy(a.y, p.n, p.c, pool2d_out_h(p) * pool2d_out_w(p));
            PlainOperand<T> dx(a.x, p.n, p.c, p.h * p.w);
            pool2d_backward_ref(p, dy.in(), reinterpret_cast<const int32_t*>(payload), dx.out());
            dx.write_back();
        });
}

}  // namespace fathom
