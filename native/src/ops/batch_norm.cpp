// Batch normalization: parameter and descriptor checks, then dispatch to the
// reference or fast F32 kernels (semantics in ops/batch_norm.h). Everything is
// checked before anything is written.
#include "ops/batch_norm.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/threads.h"
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
    if (p.backend != FATHOM_CNN_AUTO && p.backend != FATHOM_CNN_REFERENCE &&
        p.backend != FATHOM_CNN_ONEDNN)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown backend ", p.backend);
    if (p.reserved != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": reserved=", p.reserved, " must be 0 (",
             describe(p), ")");
    BatchNormParams checked;
    static_cast<fathom_batch_norm_params&>(checked) = p;
    return checked;
}

// One layout for the call's activations (the first one's); nChw16c needs
// float32, channels divisible by 16 and is meaningful only with S > 1.
int32_t call_layout(const char* op, const BatchNormParams& p,
                    std::initializer_list<std::pair<const char*, const TensorView*>> views) {
    const auto& first = *views.begin();
    const int32_t layout = first.second->layout;
    for (const auto& v : views)
        if (v.second->layout != layout)
            fail(FATHOM_INVALID_ARGUMENT, op, ": ", first.first, " is ", layout_name(layout),
                 " but ", v.first, " is ", layout_name(v.second->layout),
                 "; all activations take one layout (", describe(p), ")");
    if (layout != FATHOM_LAYOUT_NCHW && first.second->dtype != FATHOM_F32)
        fail(FATHOM_INVALID_ARGUMENT, op, ": nChw16c layout needs float32, ", first.first, " ",
             shape_str(*first.second), " is ", dtype_name(first.second->dtype));
    if (layout != FATHOM_LAYOUT_NCHW && p.c % 16 != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": nChw16c layout needs c divisible by 16 (",
             describe(p), ")");
    return layout;
}

// src-like: float, contiguous, [n, c, ...] with the trailing dims multiplying to s.
TensorView check_data(const char* op, const BatchNormParams& p, const TensorView& t,
                      const char* name) {
    require_float(op, t, name);
    int64_t s = 1;
    for (int d = 2; d < t.ndim; ++d) s *= t.shape[d];
    if (t.ndim < 2 || t.shape[0] != p.n || t.shape[1] != p.c || s != p.s)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape_str(t), " does not match n=",
             p.n, " c=", p.c, " s=", p.s, " (expected [", p.n, ",", p.c,
             ",...] with trailing dims multiplying to s)");
    require_contiguous(op, t, name);
    return t;
}

// A per-channel vector: [c], contiguous, of the data's dtype.
template <typename Char>
Char* channel_vector(const char* op, const fathom_batch_norm_params& p,
                     const fathom_tensor_desc* desc, const char* name, fathom_dtype dtype,
                     bool output) {
    if (desc == nullptr) return nullptr;
    const TensorView t = output ? output_view(op, name, desc) : input_view(op, name, desc);
    if (t.dtype != dtype)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dtype ", dtype_name(t.dtype), " of ", name,
             " does not match src ", dtype_name(dtype));
    require_exact_shape(op, t, name, {p.c});
    require_contiguous(op, t, name);
    return t.data;
}

// Work estimate for ThreadGrant: a few memory-bound passes over the data.
[[maybe_unused]] double batch_norm_work(const fathom_batch_norm_params& p) {
    return 4.0 * static_cast<double>(p.n * p.c * p.s) * (kFlopsPerThread / kCheapElementsPerThread);
}

}  // namespace

BatchNormArgs check_batch_norm_forward(
    const fathom_batch_norm_params* params, const fathom_tensor_desc* src,
    const fathom_tensor_desc* gamma, const fathom_tensor_desc* beta,
    const fathom_tensor_desc* running_mean, const fathom_tensor_desc* running_var,
    const fathom_tensor_desc* save_mean, const fathom_tensor_desc* save_invstd,
    const fathom_tensor_desc* dst) {
    const char* op = "batch_norm_forward";
    BatchNormArgs a{check_params(op, params), FATHOM_CNN_REFERENCE, FATHOM_F32};
    BatchNormParams& p = a.p;
    if (p.training && p.n * p.s == 1)
        fail(FATHOM_INVALID_ARGUMENT, op,
             ": training needs more than one value per channel (", describe(p), ")");
    const TensorView x = check_data(op, p, input_view_any_layout(op, "src", src), "src");
    const TensorView y = check_data(op, p, output_view_any_layout(op, "dst", dst), "dst");
    require_same_shape(op, y, "dst", x, "src");
    require_same_dtype(op, y, "dst", x, "src");
    a.dtype = x.dtype;
    p.layout = call_layout(op, p, {{"src", &x}, {"dst", &y}});
    a.backend = resolve_cnn_backend(op, p.backend, a.dtype);
    a.src = x.data;
    a.dst = y.data;
    a.gamma = channel_vector<const char>(op, p, gamma, "gamma", a.dtype, false);
    a.beta = channel_vector<const char>(op, p, beta, "beta", a.dtype, false);
    a.running_mean = channel_vector<char>(op, p, running_mean, "running_mean", a.dtype, true);
    a.running_var = channel_vector<char>(op, p, running_var, "running_var", a.dtype, true);
    if ((a.running_mean == nullptr) != (a.running_var == nullptr))
        fail(FATHOM_INVALID_ARGUMENT, op, ": running_mean and running_var must both be given "
             "or both be null (", describe(p), ")");
    if (!p.training && a.running_mean == nullptr)
        fail(FATHOM_INVALID_ARGUMENT, op, ": inference needs running_mean and running_var (",
             describe(p), ")");
    a.save_mean = channel_vector<char>(op, p, save_mean, "save_mean", a.dtype, true);
    a.save_invstd = channel_vector<char>(op, p, save_invstd, "save_invstd", a.dtype, true);
    return a;
}

BatchNormArgs check_batch_norm_backward(
    const fathom_batch_norm_params* params, const fathom_tensor_desc* src,
    const fathom_tensor_desc* diff_dst, const fathom_tensor_desc* gamma,
    const fathom_tensor_desc* save_mean, const fathom_tensor_desc* save_invstd,
    const fathom_tensor_desc* diff_src, const fathom_tensor_desc* diff_gamma,
    const fathom_tensor_desc* diff_beta) {
    const char* op = "batch_norm_backward";
    BatchNormArgs a{check_params(op, params), FATHOM_CNN_REFERENCE, FATHOM_F32};
    BatchNormParams& p = a.p;
    const TensorView x = check_data(op, p, input_view_any_layout(op, "src", src), "src");
    const TensorView dy =
        check_data(op, p, input_view_any_layout(op, "diff_dst", diff_dst), "diff_dst");
    const TensorView dx =
        check_data(op, p, output_view_any_layout(op, "diff_src", diff_src), "diff_src");
    require_same_shape(op, dy, "diff_dst", x, "src");
    require_same_shape(op, dx, "diff_src", x, "src");
    require_same_dtype(op, dy, "diff_dst", x, "src");
    require_same_dtype(op, dx, "diff_src", x, "src");
    a.dtype = x.dtype;
    p.layout = call_layout(op, p, {{"src", &x}, {"diff_dst", &dy}, {"diff_src", &dx}});
    a.backend = resolve_cnn_backend(op, p.backend, a.dtype);
    a.src = x.data;
    a.diff_dst = dy.data;
    a.dst = dx.data;
    a.gamma = channel_vector<const char>(op, p, gamma, "gamma", a.dtype, false);
    if (save_mean == nullptr || save_invstd == nullptr)
        fail(FATHOM_INVALID_ARGUMENT, op, ": save_mean and save_invstd of the forward are "
             "required (", describe(p), ")");
    a.save_mean = const_cast<char*>(
        channel_vector<const char>(op, p, save_mean, "save_mean", a.dtype, false));
    a.save_invstd = const_cast<char*>(
        channel_vector<const char>(op, p, save_invstd, "save_invstd", a.dtype, false));
    a.diff_gamma = channel_vector<char>(op, p, diff_gamma, "diff_gamma", a.dtype, true);
    a.diff_beta = channel_vector<char>(op, p, diff_beta, "diff_beta", a.dtype, true);
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
