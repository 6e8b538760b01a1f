// Convolution: argument checks and backend dispatch. Validation lives here,
// once, so every backend (and the C ABI) refuses the same inputs with the same
// message; the kernels (ops/ref/conv2d_ref.cpp, ops/dnnl/conv2d_dnnl.cpp) may
// assume it has passed.
#include "ops/conv2d.h"

#include <limits>
#include <sstream>

#include "core/error.h"
#include "core/threads.h"
#include "ops/checker.h"
#include "ops/dispatch.h"
#include "ops/nchw_args.h"
#include "ops/layout.h"

namespace fathom {

namespace {

constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();

std::string describe_params(const fathom_conv2d_params& p) {
    std::ostringstream os;
    os << "n=" << p.n << " c=" << p.c << " h=" << p.h << " w=" << p.w << " k=" << p.k
       << " kh=" << p.kh << " kw=" << p.kw << " sh=" << p.sh << " sw=" << p.sw << " ph=" << p.ph
       << " pw=" << p.pw << " dh=" << p.dh << " dw=" << p.dw << " groups=" << p.groups
       << " has_bias=" << p.has_bias << " post_relu=" << p.post_relu << " backend=" << p.backend;
    return os.str();
}

// " (src [2,3,8,8], weights [4,2,3,3], bias null, dst [2,4,6,6]; n=2 c=3 ...)":
// the tail of every message, so that each names all operands and the params.
std::string call_context(const fathom_conv2d_params& raw, const char* const* names,
                         const fathom_tensor_desc* const* descs, int count) {
    std::ostringstream os;
    os << " (";
    for (int i = 0; i < count; ++i)
        os << (i ? ", " : "") << names[i] << " " << desc_shape(descs[i]);
    os << (count > 0 ? "; " : "") << describe_params(raw) << ")";
    return os.str();
}

// One operand of a call: its name, descriptor, the shape the params imply and
// whether it is written.
struct Operand {
    const char* name;
    const fathom_tensor_desc* desc;
    int ndim;
    int64_t expected[4];
    bool output;
};

// The context of a pass's messages: every operand's shape and the params,
// "src [2,3,8,8], weights [4,2,3,3], bias null, dst [2,4,6,6]; n=2 c=3 ...".
struct ConvContext {
    const fathom_conv2d_params* raw;
    const Operand* operands;
    int count;

    std::string operator()() const {
        const char* names[4];
        const fathom_tensor_desc* descs[4];
        for (int i = 0; i < count; ++i) names[i] = operands[i].name, descs[i] = operands[i].desc;
        const std::string wrapped = call_context(*raw, names, descs, count);  // " (...)"
        return wrapped.substr(2, wrapped.size() - 3);
    }
    // The call's weights or diff_weights operand (every pass has one).
    const Operand& weights() const {
        for (int i = 0; i < count; ++i) {
            const std::string name = operands[i].name;
            if (name == "weights" || name == "diff_weights") return operands[i];
        }
        return operands[0];
    }
};

[[noreturn]] void mismatch(const Checker& ck, const ConvContext& call, const Operand& o,
                           const TensorView& t, const Conv2dParams& p, int d) {
    const std::string name = o.name, shape = shape_str(t);
    const std::string want = shape_str(o.expected, o.ndim);
    const bool is_src = name == "src" || name == "diff_src";
    const bool is_weights = name == "weights" || name == "diff_weights";
    if (is_src && d == 1) {
        // The example in the docs: src [2,3,8,8] has 3 channels but weights
        // [4,2,3,3] with groups=1 expect 2.
        const Operand& w = call.weights();
        const bool w_named = w.desc != nullptr && std::string(w.name) != o.name &&
                             w.desc->ndim == 4 && w.desc->shape[1] * p.groups == p.c;
        if (w_named)
            ck.fail(name, " ", shape, " has ", t.shape[1], " channels but ", w.name, " ",
                    desc_shape(w.desc), " with groups=", p.groups, " expect ", p.c);
        ck.fail(name, " ", shape, " has ", t.shape[1], " channels but the params expect c=", p.c,
                " (expected ", want, ")");
    }
    if (is_weights && d == 1)
        ck.fail(name, " ", shape, " has ", t.shape[1], " input channels per group but c=", p.c,
                " with groups=", p.groups, " needs ", p.cg(), " (expected ", want, ")");
    if (is_weights && d == 0)
        ck.fail(name, " ", shape, " has ", t.shape[0], " output channels but the params expect k=",
                p.k, " (expected ", want, ")");
    if ((name == "dst" || name == "diff_dst") && d >= 2)
        ck.fail(name, " ", shape, " does not match the output ", want, " of a ", p.h, "x", p.w,
                " input with kernel ", p.kh, "x", p.kw, ", stride ", p.sh, "x", p.sw,
                ", padding ", p.ph, "x", p.pw, ", dilation ", p.dh, "x", p.dw);
    ck.fail(name, " ", shape, " does not match the expected ", want);
}

// A present operand: descriptor checks, rank, exact shape (with messages that
// say which param disagrees), contiguity.
TensorView conv_view(const Checker& ck, const ConvContext& call, int i, const Conv2dParams& p) {
    const Operand& o = call.operands[i];
    TensorView t;
    try {
        t = o.output ? output_view_any_layout(ck.op(), o.name, o.desc)
                     : input_view_any_layout(ck.op(), o.name, o.desc);
    } catch (const Error& e) {
        ck.rethrow(e);
    }
    // NOTE: messages are built only on failure; this runs on every call.
    if (t.ndim != o.ndim)
        ck.fail(o.name, " ", shape_str(t), " must be ", o.ndim, "-D ",
                o.ndim == 4 ? "(N,C,H,W)" : "(K)", ", expected ", shape_str(o.expected, o.ndim));
    for (int d = 0; d < o.ndim; ++d)
        if (t.shape[d] != o.expected[d]) mismatch(ck, call, o, t, p, d);
    int64_t step = 1;
    for (int d = o.ndim - 1; d >= 0; --d) {
        if (t.shape[d] > 1 && t.strides[d] != step) {
            int64_t dense[4];
            int64_t s = 1;
            for (int e = o.ndim - 1; e >= 0; --e) dense[e] = s, s *= t.shape[e];
            ck.fail(o.name, " ", shape_str(t), " with strides ", shape_str(t.strides, t.ndim),
                    " is not contiguous (row-major strides ", shape_str(dense, o.ndim),
                    " required)");
        }
        step *= t.shape[d];
    }
    return t;
}

void fill(int64_t* out, int64_t a, int64_t b, int64_t c, int64_t d) {
    out[0] = a, out[1] = b, out[2] = c, out[3] = d;
}

Operand image(const char* name, const fathom_tensor_desc* desc, int64_t n, int64_t c, int64_t h,
              int64_t w, bool output) {
    Operand o{name, desc, 4, {}, output};
    fill(o.expected, n, c, h, w);
    return o;
}

Operand weights_operand(const char* name, const fathom_tensor_desc* desc, const Conv2dParams& p,
                        bool output) {
    return image(name, desc, p.k, p.cg(), p.kh, p.kw, output);
}

Operand bias_operand(const char* name, const fathom_tensor_desc* desc, const Conv2dParams& p,
                     bool output) {
    Operand o{name, desc, 1, {p.k, 0, 0, 0}, output};
    return o;
}

// All operands have the plan's dtype; nChw16c activations need F32, and
// channels (C for src, K for dst) divisible by 16 (weights, bias: plain only).
int32_t check_dtypes_and_layouts(const Checker& ck, const Conv2dPlan& plan, const Operand* ops,
                                 const TensorView* views, int count) {
    int32_t layouts = 0;
    for (int i = 0; i < count; ++i) {
        const TensorView& v = views[i];
        if (v.data == nullptr && ops[i].ndim == 1) continue;  // absent bias
        if (v.dtype != plan.dtype)
            ck.fail("dtype ", dtype_name(v.dtype), " of ",
                         ops[i].name, " does not match the plan's ", dtype_name(plan.dtype));
        if (v.layout == FATHOM_LAYOUT_NCHW) continue;
        const std::string name = ops[i].name;
        const bool src_side = name == "src" || name == "diff_src";
        const bool dst_side = name == "dst" || name == "diff_dst";
        if (!src_side && !dst_side)
            ck.fail(ops[i].name,
                         " must be plain (layout 0): only activations may be nChw16c");
        if (v.dtype != FATHOM_F32)
            ck.fail(ops[i].name,
                         " is nChw16c, which needs float32, got ", dtype_name(v.dtype));
        if (v.shape[1] % 16 != 0)
            ck.fail(ops[i].name, " is nChw16c, which needs ",
                         "channels divisible by 16, got ", v.shape[1]);
        layouts |= src_side ? Conv2dParams::kSrcBlocked : Conv2dParams::kDstBlocked;
    }
    return layouts;
}

}  // namespace

double Conv2dParams::flops() const {
    return 2.0 * static_cast<double>(n) * k * oh * ow * cg() * kh * kw;
}

std::string Conv2dParams::str() const { return describe_params(raw); }

Conv2dParams check_conv2d_params(const char* op, const fathom_conv2d_params* raw) {
    if (raw == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    const fathom_conv2d_params& r = *raw;
    auto bad = [&](const auto&... parts) {
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", parts..., call_context(r, nullptr, nullptr, 0));
    };
    const struct {
        const char* name;
        int64_t value;
        int64_t min;
        const char* what;
    } fields[] = {{"n", r.n, 1, ""},       {"c", r.c, 1, ""},
                  {"h", r.h, 1, ""},       {"w", r.w, 1, ""},
                  {"k", r.k, 1, ""},       {"kh", r.kh, 1, ""},
                  {"kw", r.kw, 1, ""},     {"sh", r.sh, 1, " (stride)"},
                  {"sw", r.sw, 1, " (stride)"},  {"ph", r.ph, 0, " (padding)"},
                  {"pw", r.pw, 0, " (padding)"}, {"dh", r.dh, 1, " (dilation; 1 = dense)"},
                  {"dw", r.dw, 1, " (dilation; 1 = dense)"}, {"groups", r.groups, 1, ""}};
    for (const auto& f : fields) {
        if (f.value < f.min) bad(f.name, "=", f.value, " must be >= ", f.min, f.what);
        if (f.value > kMaxSize) bad(f.name, "=", f.value, " is above 2^31-1");
    }
    if (r.c % r.groups != 0 || r.k % r.groups != 0)
        bad("groups=", r.groups, " must divide both c=", r.c, " and k=", r.k);
    if (r.has_bias != 0 && r.has_bias != 1) bad("has_bias=", r.has_bias, " must be 0 or 1");
    if (r.post_relu != 0 && r.post_relu != 1) bad("post_relu=", r.post_relu, " must be 0 or 1");
    if (r.backend != FATHOM_CNN_AUTO && r.backend != FATHOM_CNN_REFERENCE &&
        r.backend != FATHOM_CNN_ONEDNN)
        bad("unknown backend ", r.backend);
    if (r.reserved != 0) bad("reserved=", r.reserved, " must be 0");
    // Extent of the dilated kernel against the padded input; below 0 there is no output.
    const int64_t span_h = r.h + 2 * r.ph - r.dh * (r.kh - 1) - 1;
    const int64_t span_w = r.w + 2 * r.pw - r.dw * (r.kw - 1) - 1;
    if (span_h < 0 || span_w < 0)
        bad("output size ", span_h < 0 ? 0 : span_h / r.sh + 1, "x",
            span_w < 0 ? 0 : span_w / r.sw + 1, " < 1: the dilated kernel ",
            r.dh * (r.kh - 1) + 1, "x", r.dw * (r.kw - 1) + 1, " does not fit the padded input ",
            r.h + 2 * r.ph, "x", r.w + 2 * r.pw);
    Conv2dParams p;
    p.n = r.n, p.c = r.c, p.h = r.h, p.w = r.w, p.k = r.k, p.kh = r.kh, p.kw = r.kw;
    p.sh = r.sh, p.sw = r.sw, p.ph = r.ph, p.pw = r.pw, p.dh = r.dh, p.dw = r.dw;
    p.groups = r.groups;
    p.oh = span_h / r.sh + 1;
    p.ow = span_w / r.sw + 1;
    p.has_bias = r.has_bias != 0;
    p.post_relu = r.post_relu != 0;
    p.backend = static_cast<fathom_cnn_backend>(r.backend);
    p.raw = r;
    return p;
}

std::shared_ptr<Conv2dPlan> make_conv2d_plan(const fathom_conv2d_params* raw, int32_t dtype) {
    const char* op = "conv2d_plan_create";
    auto plan = std::make_shared<Conv2dPlan>();
    plan->p = check_conv2d_params(op, raw);
    const Conv2dParams& p = plan->p;
    plan->dtype = require_float_plan_dtype(op, "conv2d", dtype, [&] { return p.str(); });
    if (p.backend == FATHOM_CNN_ONEDNN && dtype == FATHOM_F64)
        fail(FATHOM_UNSUPPORTED, op,
             ": the oneDNN backend computes float32 only, got float64; use FATHOM_CNN_AUTO or "
             "FATHOM_CNN_REFERENCE for float64 (", p.str(), ")");
    plan->backend = resolve_cnn_backend(op, p.backend, plan->dtype);  // refuses ONEDNN without it
    for (int pass = 0; pass < 3; ++pass) {
        plan->src_layout[pass] = plan->dst_layout[pass] = FATHOM_LAYOUT_NCHW;
#ifdef FATHOM_WITH_DNNL
        if (plan->backend == FATHOM_CNN_ONEDNN) {
            const int32_t bits = conv2d_native_layouts_dnnl(p, pass);
            if (bits & Conv2dParams::kSrcBlocked) plan->src_layout[pass] = FATHOM_LAYOUT_NCHW16C;
            if (bits & Conv2dParams::kDstBlocked) plan->dst_layout[pass] = FATHOM_LAYOUT_NCHW16C;
        }
#endif
    }
#ifdef FATHOM_WITH_DNNL
    if (plan->backend == FATHOM_CNN_ONEDNN) plan->tuned = make_conv2d_tuned();
#endif
    return plan;
}

namespace {

// The plan's params as this call runs them: its layouts, its kernel caches.
Conv2dParams call_params(const Conv2dPlan& plan, int32_t layouts) {
    Conv2dParams p = plan.p;
    p.layouts = layouts;
    p.plan_id = plan.id;
    p.tuned = plan.tuned.get();
    return p;
}

const char* const kPostReluForwardOnly =
    "post_relu=1 is forward-only (inference); train with post_relu=0 and a separate relu";

}  // namespace

Conv2dForwardArgs check_conv2d_forward(const Conv2dPlan& plan, const fathom_tensor_desc* src,
                                       const fathom_tensor_desc* weights,
                                       const fathom_tensor_desc* bias,
                                       const fathom_tensor_desc* dst) {
    const Conv2dParams& p = plan.p;
    const Operand ops[] = {image("src", src, p.n, p.c, p.h, p.w, false),
                           weights_operand("weights", weights, p, false),
                           bias_operand("bias", bias, p, false),
                           image("dst", dst, p.n, p.k, p.oh, p.ow, true)};
    const ConvContext call{&p.raw, ops, 4};
    const Checker ck("conv2d_forward", call);
    if (p.has_bias && bias == nullptr)
        ck.fail("bias is null but has_bias=1");
    if (!p.has_bias && bias != nullptr)
        ck.fail("bias is given but has_bias=0");
    Conv2dForwardArgs a;
    a.src = conv_view(ck, call, 0, p);
    a.weights = conv_view(ck, call, 1, p);
    if (p.has_bias) a.bias = conv_view(ck, call, 2, p);
    a.dst = conv_view(ck, call, 3, p);
    const TensorView views[] = {a.src, a.weights, a.bias, a.dst};
    a.p = call_params(plan, check_dtypes_and_layouts(ck, plan, ops, views, 4));
    return a;
}

Conv2dBackwardDataArgs check_conv2d_backward_data(const Conv2dPlan& plan,
                                                  const fathom_tensor_desc* diff_dst,
                                                  const fathom_tensor_desc* weights,
                                                  const fathom_tensor_desc* diff_src) {
    const Conv2dParams& p = plan.p;
    const Operand ops[] = {image("diff_dst", diff_dst, p.n, p.k, p.oh, p.ow, false),
                           weights_operand("weights", weights, p, false),
                           image("diff_src", diff_src, p.n, p.c, p.h, p.w, true)};
    const ConvContext call{&p.raw, ops, 3};
    const Checker ck("conv2d_backward_data", call);
    if (p.post_relu) ck.fail(kPostReluForwardOnly);
    Conv2dBackwardDataArgs a;
    a.diff_dst = conv_view(ck, call, 0, p);
    a.weights = conv_view(ck, call, 1, p);
    a.diff_src = conv_view(ck, call, 2, p);
    const TensorView views[] = {a.diff_dst, a.weights, a.diff_src};
    a.p = call_params(plan, check_dtypes_and_layouts(ck, plan, ops, views, 3));
    return a;
}

Conv2dBackwardWeightsArgs check_conv2d_backward_weights(const Conv2dPlan& plan,
                                                        const fathom_tensor_desc* src,
                                                        const fathom_tensor_desc* diff_dst,
                                                        const fathom_tensor_desc* diff_weights,
                                                        const fathom_tensor_desc* diff_bias) {
    const Conv2dParams& p = plan.p;
    const Operand ops[] = {image("src", src, p.n, p.c, p.h, p.w, false),
                           image("diff_dst", diff_dst, p.n, p.k, p.oh, p.ow, false),
                           weights_operand("diff_weights", diff_weights, p, true),
                           bias_operand("diff_bias", diff_bias, p, true)};
    const ConvContext call{&p.raw, ops, 4};
    const Checker ck("conv2d_backward_weights", call);
    if (p.post_relu) ck.fail(kPostReluForwardOnly);
    if (p.has_bias && diff_bias == nullptr)
        ck.fail("diff_bias is null but has_bias=1");
    if (!p.has_bias && diff_bias != nullptr)
        ck.fail("diff_bias is given but has_bias=0");
    Conv2dBackwardWeightsArgs a;
    a.src = conv_view(ck, call, 0, p);
    a.diff_dst = conv_view(ck, call, 1, p);
    a.diff_weights = conv_view(ck, call, 2, p);
    if (p.has_bias) a.diff_bias = conv_view(ck, call, 3, p);
    const TensorView views[] = {a.src, a.diff_dst, a.diff_weights, a.diff_bias};
    a.p = call_params(plan, check_dtypes_and_layouts(ck, plan, ops, views, 4));
    return a;
}

namespace {

template <typename T>
const T* in(const TensorView& t) {
    return reinterpret_cast<const T*>(t.data);
}
template <typename T>
T* out(const TensorView& t) {
    return reinterpret_cast<T*>(t.data);
}

}  // namespace

void conv2d_forward(const Conv2dPlan& plan, const Conv2dForwardArgs& a) {
    const Conv2dParams& p = a.p;
    run_kernel(
        plan.backend == FATHOM_CNN_ONEDNN, plan.dtype, p.flops(),
        [&](int threads) {
            conv2d_forward_dnnl(p, in<float>(a.src), in<float>(a.weights), in<float>(a.bias),
                                out<float>(a.dst), threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> src(a.src, p.n, p.c, p.h * p.w);
            PlainOperand<T> dst(a.dst, p.n, p.k, p.oh * p.ow);
            conv2d_forward_ref(p, src.in(), in<T>(a.weights), in<T>(a.bias), dst.out());
            dst.write_back();
        });
}

void conv2d_backward_data(const Conv2dPlan& plan, const Conv2dBackwardDataArgs& a) {
    const Conv2dParams& p = a.p;
    run_kernel(
        plan.backend == FATHOM_CNN_ONEDNN, plan.dtype, p.flops(),
        [&](int threads) {
            conv2d_backward_data_dnnl(p, in<float>(a.diff_dst), in<float>(a.weights),
                                      out<float>(a.diff_src), threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> diff_dst(a.diff_dst, p.n, p.k, p.oh * p.ow);
            PlainOperand<T> diff_src(a.diff_src, p.n, p.c, p.h * p.w);
            conv2d_backward_data_ref(p, diff_dst.in(), in<T>(a.weights), diff_src.out());
            diff_src.write_back();
        });
}

void conv2d_backward_weights(const Conv2dPlan& plan, const Conv2dBackwardWeightsArgs& a) {
    const Conv2dParams& p = a.p;
    run_kernel(
        plan.backend == FATHOM_CNN_ONEDNN, plan.dtype, p.flops(),
        [&](int threads) {
            conv2d_backward_weights_dnnl(p, in<float>(a.src), in<float>(a.diff_dst),
                                         out<float>(a.diff_weights), out<float>(a.diff_bias),
                                         threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> src(a.src, p.n, p.c, p.h * p.w);
            PlainOperand<T> diff_dst(a.diff_dst, p.n, p.k, p.oh * p.ow);
            conv2d_backward_weights_ref(p, src.in(), diff_dst.in(), out<T>(a.diff_weights),
                                        out<T>(a.diff_bias));
        });
}

}  // namespace fathom
