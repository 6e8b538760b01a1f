// fathom_conv2d_* through the C ABI: the f64 reference is the oracle; the f32
// reference must equal it rounded to float (same products, same order, double
// accumulator), and oneDNN must stay within an error bound built from
// sum |x*w| (as gemm_reference.h) plus a statistical bound on the whole tensor.
// Odd shapes (1x1, 3x3, 5x5, stride 2, padding 1 and 2, dilation 2, groups 2,
// depthwise, H != W, asymmetric params), LeNet and reduced-batch ResNet-18
// shapes, a hand-computed case, the oneDNN kernel choice, and refusal of bad
// input by every entry point. Not here: speed.
#include <gtest/gtest.h>

#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "runtime_info_util.h"
#include "tensor_util.h"

#ifdef FATHOM_WITH_DNNL
#include <dnnl.h>
#endif

using namespace fathom_test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- params ------------------------------------------------------------------

struct Shape {
    int64_t n, c, h, w, k, kh, kw;
    int64_t sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1;
    bool bias = false, relu = false;
};

fathom_conv2d_params params_of(const Shape& s, int32_t backend = FATHOM_CNN_AUTO) {
    fathom_conv2d_params p{};
    p.n = s.n, p.c = s.c, p.h = s.h, p.w = s.w, p.k = s.k, p.kh = s.kh, p.kw = s.kw;
    p.sh = s.sh, p.sw = s.sw, p.ph = s.ph, p.pw = s.pw, p.dh = s.dh, p.dw = s.dw;
    p.groups = s.groups;
    p.has_bias = s.bias;
    p.post_relu = s.relu;
    p.backend = backend;
    return p;
}

// Square kernel/stride/padding/dilation shorthand.
Shape conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t ks, int64_t stride = 1,
           int64_t pad = 0, int64_t dil = 1, int64_t groups = 1, bool bias = false,
           bool relu = false) {
    Shape s{n, c, h, w, k, ks, ks};
    s.sh = s.sw = stride;
    s.ph = s.pw = pad;
    s.dh = s.dw = dil;
    s.groups = groups;
    s.bias = bias;
    s.relu = relu;
    return s;
}

std::string describe(const Shape& s) {
    std::ostringstream os;
    os << "n=" << s.n << " c=" << s.c << " h=" << s.h << " w=" << s.w << " k=" << s.k
       << " kh=" << s.kh << " kw=" << s.kw << " sh=" << s.sh << " sw=" << s.sw << " ph=" << s.ph
       << " pw=" << s.pw << " dh=" << s.dh << " dw=" << s.dw << " groups=" << s.groups
       << " bias=" << s.bias << " relu=" << s.relu;
    return os.str();
}

std::string repro(const char* pass, const char* backend, const Shape& s, uint32_t seed) {
    return std::string("repro: conv2d_") + pass + " backend=" + backend + " " + describe(s) +
           " seed=" + std::to_string(seed);
}

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}
int64_t oh_of(const Shape& s) { return out_size(s.h, s.kh, s.sh, s.ph, s.dh); }
int64_t ow_of(const Shape& s) { return out_size(s.w, s.kw, s.sw, s.pw, s.dw); }

std::vector<int64_t> src_shape(const Shape& s) { return {s.n, s.c, s.h, s.w}; }
std::vector<int64_t> dst_shape(const Shape& s) { return {s.n, s.k, oh_of(s), ow_of(s)}; }
std::vector<int64_t> weights_shape(const Shape& s) { return {s.k, s.c / s.groups, s.kh, s.kw}; }
std::vector<int64_t> bias_shape(const Shape& s) { return {s.k}; }

// --- tensors -------------------------------------------------------------------

TestTensor random_f32(const std::vector<int64_t>& shape, uint32_t seed) {
    TestTensor t = make_tensor(FATHOM_F32, shape);
    t.randomize(seed);
    return t;
}

// The same values in another dtype (f32 -> f64 is exact), optionally |x|.
TestTensor convert(const TestTensor& t, fathom_dtype dtype, bool absolute = false) {
    const fathom_tensor_desc& d = *t.desc();
    TestTensor out = make_tensor(dtype, std::vector<int64_t>(d.shape, d.shape + d.ndim));
    for (int64_t i = 0; i < t.storage_elements(); ++i)
        out.set_storage(i, absolute ? std::fabs(t.storage_at(i)) : t.storage_at(i));
    return out;
}

TestTensor filled(fathom_dtype dtype, const std::vector<int64_t>& shape, double value) {
    TestTensor t = make_tensor(dtype, shape);
    for (int64_t i = 0; i < t.storage_elements(); ++i) t.set_storage(i, value);
    return t;
}

const fathom_tensor_desc* opt(const TestTensor& t, bool present) {
    return present ? t.desc() : nullptr;
}

// --- checks ----------------------------------------------------------------------

// "[n,c,h,w]" of element i of a contiguous 4-D (or 1-D) tensor.
std::string index_str(const TestTensor& t, int64_t i) {
    const fathom_tensor_desc& d = *t.desc();
    std::vector<int64_t> idx(d.ndim);
    for (int k = d.ndim - 1; k >= 0; --k) idx[k] = i % d.shape[k], i /= d.shape[k];
    return fathom::shape_str(idx.data(), d.ndim);
}

// f32 reference == f64 reference rounded to float, element by element: both sum
// the same double products in the same order.
std::string rounded_mismatch(const TestTensor& got, const TestTensor& want) {
    for (int64_t i = 0; i < want.storage_elements(); ++i) {
        const float w = static_cast<float>(want.storage_at(i));
        const float g = static_cast<float>(got.storage_at(i));
        if (g == w || (std::isnan(g) && std::isnan(w))) continue;
        std::ostringstream os;
        os.precision(9);
        os << "element " << index_str(want, i) << ": got " << g << " want " << w;
        return os.str();
    }
    return "";
}

// oneDNN f32 vs the f64 oracle. Per element, the worst case of any summation
// order: |got - want| <= 2 (terms + 2) eps sum|x*w| (+ a subnormal floor).
// Over the tensor, rounding errors add up like a random walk:
// rms(got - want) <= 4 eps sqrt(terms) rms(want) + tiny, which a wrong tap,
// group or image (an O(1/sqrt(terms)) relative error) does not meet.
std::string bounded_mismatch(const TestTensor& got, const TestTensor& want,
                             const TestTensor& abs_sum, int64_t terms) {
    const double eps = FLT_EPSILON;
    double err2 = 0.0, want2 = 0.0;
    for (int64_t i = 0; i < want.storage_elements(); ++i) {
        const double g = got.storage_at(i), w = want.storage_at(i);
        const double tol = 2.0 * (terms + 2) * eps * abs_sum.storage_at(i) + 1e-30;
        if (!(std::fabs(g - w) <= tol)) {
            std::ostringstream os;
            os.precision(9);
            os << "element " << index_str(want, i) << ": got " << g << " want " << w
               << " (bound " << tol << ", sum|x*w| " << abs_sum.storage_at(i) << ")";
            return os.str();
        }
        err2 += (g - w) * (g - w);
        want2 += w * w;
    }
    const double n = static_cast<double>(want.storage_elements());
    const double rms_err = std::sqrt(err2 / n), rms_want = std::sqrt(want2 / n);
    const double limit = 4.0 * eps * std::sqrt(static_cast<double>(terms)) * rms_want + 1e-30;
    if (rms_err > limit) {
        std::ostringstream os;
        os << "rms error " << rms_err << " above " << limit << " (rms of the result "
           << rms_want << ", " << terms << " terms per element)";
        return os.str();
    }
    return "";
}

// One call through a plan made for it, as a layer makes one per shape: the
// plan's refusals (params, dtype) come from conv2d_plan_create.
template <typename Run>
fathom_status with_plan(const fathom_conv2d_params* p, const fathom_tensor_desc* first, Run run) {
    int64_t plan = 0;
    const fathom_status created =
        fathom_conv2d_plan_create(p, first ? first->dtype : FATHOM_F32, &plan);
    if (created != FATHOM_OK) return created;
    const fathom_status status = run(plan);
    // NOTE: a successful call leaves the last error as it was, so the run's stays.
    EXPECT_EQ(FATHOM_OK, fathom_conv2d_plan_destroy(plan)) << fathom_last_error();
    return status;
}

fathom_status forward(const Shape& s, int32_t backend, const TestTensor& src,
                      const TestTensor& w, const TestTensor& b, const TestTensor& dst) {
    const auto p = params_of(s, backend);
    return with_plan(&p, src.desc(), [&](int64_t plan) {
        return fathom_conv2d_forward(plan, src.desc(), w.desc(), opt(b, s.bias), dst.desc());
    });
}

fathom_status backward_data(const Shape& s, int32_t backend, const TestTensor& diff_dst,
                            const TestTensor& w, const TestTensor& diff_src) {
    const auto p = params_of(s, backend);
    return with_plan(&p, diff_dst.desc(), [&](int64_t plan) {
        return fathom_conv2d_backward_data(plan, diff_dst.desc(), w.desc(), diff_src.desc());
    });
}

fathom_status backward_weights(const Shape& s, int32_t backend, const TestTensor& src,
                               const TestTensor& diff_dst, const TestTensor& diff_w,
                               const TestTensor& diff_b) {
    const auto p = params_of(s, backend);
    return with_plan(&p, src.desc(), [&](int64_t plan) {
        return fathom_conv2d_backward_weights(plan, src.desc(), diff_dst.desc(), diff_w.desc(),
                                              opt(diff_b, s.bias));
    });
}

#ifdef FATHOM_WITH_DNNL
constexpr bool kHaveDnnl = true;
#else
constexpr bool kHaveDnnl = false;
#endif

// Each pass: f64 reference (oracle), f64 reference on |inputs| (bound), f32
// reference (must round to the oracle), oneDNN f32 (within the bound), AUTO in
// both dtypes. Outputs start as NaN so an unwritten element shows.
void check_forward(const Shape& s, uint32_t seed) {
    const TestTensor src = random_f32(src_shape(s), seed);
    const TestTensor w = random_f32(weights_shape(s), seed + 1);
    const TestTensor b = random_f32(bias_shape(s), seed + 2);
    const TestTensor src64 = convert(src, FATHOM_F64), w64 = convert(w, FATHOM_F64);
    const TestTensor b64 = convert(b, FATHOM_F64);
    TestTensor want = filled(FATHOM_F64, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_REFERENCE, src64, w64, b64, want))
        << fathom_last_error();
    Shape plain = s;
    plain.relu = false;  // relu is 1-Lipschitz: the bound of the plain sum covers it
    TestTensor bound = filled(FATHOM_F64, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(plain, FATHOM_CNN_REFERENCE, convert(src, FATHOM_F64, true),
                                 convert(w, FATHOM_F64, true), convert(b, FATHOM_F64, true),
                                 bound))
        << fathom_last_error();
    const int64_t terms = s.c / s.groups * s.kh * s.kw + (s.bias ? 1 : 0);

    TestTensor ref32 = filled(FATHOM_F32, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_REFERENCE, src, w, b, ref32)) << fathom_last_error();
    EXPECT_EQ("", rounded_mismatch(ref32, want)) << repro("forward", "reference", s, seed);

    TestTensor auto64 = filled(FATHOM_F64, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_AUTO, src64, w64, b64, auto64));
    EXPECT_EQ("", storage_mismatch(auto64, want, 0.0)) << repro("forward", "auto(f64)", s, seed);

    if (!kHaveDnnl) return;
    TestTensor fast = filled(FATHOM_F32, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_ONEDNN, src, w, b, fast)) << fathom_last_error();
    EXPECT_EQ("", bounded_mismatch(fast, want, bound, terms))
        << repro("forward", "onednn", s, seed);
    TestTensor autof = filled(FATHOM_F32, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_AUTO, src, w, b, autof)) << fathom_last_error();
    EXPECT_EQ("", bounded_mismatch(autof, want, bound, terms)) << repro("forward", "auto", s, seed);
}

void check_backward_data(const Shape& s, uint32_t seed) {
    const TestTensor dy = random_f32(dst_shape(s), seed);
    const TestTensor w = random_f32(weights_shape(s), seed + 1);
    const TestTensor dy64 = convert(dy, FATHOM_F64), w64 = convert(w, FATHOM_F64);
    TestTensor want = filled(FATHOM_F64, src_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_data(s, FATHOM_CNN_REFERENCE, dy64, w64, want))
        << fathom_last_error();
    TestTensor bound = filled(FATHOM_F64, src_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_data(s, FATHOM_CNN_REFERENCE, convert(dy, FATHOM_F64, true),
                                       convert(w, FATHOM_F64, true), bound));
    // Each diff_src element sums over the Kg output channels of its group and
    // at most KH*KW taps.
    const int64_t terms = s.k / s.groups * s.kh * s.kw;

    TestTensor ref32 = filled(FATHOM_F32, src_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_data(s, FATHOM_CNN_REFERENCE, dy, w, ref32))
        << fathom_last_error();
    EXPECT_EQ("", rounded_mismatch(ref32, want)) << repro("backward_data", "reference", s, seed);

    TestTensor auto64 = filled(FATHOM_F64, src_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_data(s, FATHOM_CNN_AUTO, dy64, w64, auto64));
    EXPECT_EQ("", storage_mismatch(auto64, want, 0.0))
        << repro("backward_data", "auto(f64)", s, seed);

    if (!kHaveDnnl) return;
    TestTensor fast = filled(FATHOM_F32, src_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_data(s, FATHOM_CNN_ONEDNN, dy, w, fast)) << fathom_last_error();
    EXPECT_EQ("", bounded_mismatch(fast, want, bound, terms))
        << repro("backward_data", "onednn", s, seed);
}

void check_backward_weights(const Shape& s, uint32_t seed) {
    const TestTensor src = random_f32(src_shape(s), seed);
    const TestTensor dy = random_f32(dst_shape(s), seed + 1);
    const TestTensor src64 = convert(src, FATHOM_F64), dy64 = convert(dy, FATHOM_F64);
    TestTensor want_w = filled(FATHOM_F64, weights_shape(s), kNaN);
    TestTensor want_b = filled(FATHOM_F64, bias_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_weights(s, FATHOM_CNN_REFERENCE, src64, dy64, want_w, want_b))
        << fathom_last_error();
    TestTensor bound_w = filled(FATHOM_F64, weights_shape(s), kNaN);
    TestTensor bound_b = filled(FATHOM_F64, bias_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_weights(s, FATHOM_CNN_REFERENCE, convert(src, FATHOM_F64, true),
                                          convert(dy, FATHOM_F64, true), bound_w, bound_b));
    const int64_t terms = s.n * oh_of(s) * ow_of(s);  // per weight and per bias element

    TestTensor ref_w = filled(FATHOM_F32, weights_shape(s), kNaN);
    TestTensor ref_b = filled(FATHOM_F32, bias_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_weights(s, FATHOM_CNN_REFERENCE, src, dy, ref_w, ref_b))
        << fathom_last_error();
    EXPECT_EQ("", rounded_mismatch(ref_w, want_w))
        << repro("backward_weights", "reference", s, seed);
    if (s.bias)
        EXPECT_EQ("", rounded_mismatch(ref_b, want_b))
            << "diff_bias " << repro("backward_weights", "reference", s, seed);

    TestTensor auto_w = filled(FATHOM_F64, weights_shape(s), kNaN);
    TestTensor auto_b = filled(FATHOM_F64, bias_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_weights(s, FATHOM_CNN_AUTO, src64, dy64, auto_w, auto_b));
    EXPECT_EQ("", storage_mismatch(auto_w, want_w, 0.0))
        << repro("backward_weights", "auto(f64)", s, seed);

    if (!kHaveDnnl) return;
    TestTensor fast_w = filled(FATHOM_F32, weights_shape(s), kNaN);
    TestTensor fast_b = filled(FATHOM_F32, bias_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, backward_weights(s, FATHOM_CNN_ONEDNN, src, dy, fast_w, fast_b))
        << fathom_last_error();
    EXPECT_EQ("", bounded_mismatch(fast_w, want_w, bound_w, terms))
        << repro("backward_weights", "onednn", s, seed);
    if (s.bias)
        EXPECT_EQ("", bounded_mismatch(fast_b, want_b, bound_b, terms))
            << "diff_bias " << repro("backward_weights", "onednn", s, seed);
    else
        EXPECT_TRUE(std::isnan(fast_b.storage_at(0))) << "diff_bias written without has_bias";
}

void check_all(const Shape& s, uint32_t seed) {
    SCOPED_TRACE(describe(s));
    check_forward(s, seed);
    Shape train = s;
    train.relu = false;  // post_relu is forward-only
    check_backward_data(train, seed + 10);
    check_backward_weights(train, seed + 20);
}

// Odd shapes: every feature alone and a few together.
std::vector<Shape> odd_shapes() {
    std::vector<Shape> v;
    v.push_back(conv(1, 3, 7, 9, 5, 1));                               // 1x1
    v.push_back(conv(3, 1, 7, 9, 1, 1, 1, 0, 1, 1, true));             // C=1, K=1, bias
    v.push_back(conv(3, 3, 7, 9, 5, 3, 1, 1, 1, 1, true));             // 3x3 p1 bias
    v.push_back(conv(1, 16, 7, 9, 32, 3, 2, 1, 1, 1, true));           // stride 2 (floor: 7 -> 4)
    v.push_back(conv(3, 1, 9, 7, 5, 5, 1, 2));                         // 5x5 p2
    v.push_back(conv(1, 3, 11, 8, 5, 5, 2, 2, 1, 1, true));            // 5x5 s2 p2
    v.push_back(conv(3, 3, 9, 9, 5, 3, 1, 2, 2, 1, true));             // dilation 2
    v.push_back(conv(1, 16, 8, 10, 32, 3, 2, 2, 2, 1));                // dilation 2, stride 2
    v.push_back(conv(3, 16, 7, 9, 32, 3, 1, 1, 1, 2, true));           // groups 2
    v.push_back(conv(1, 16, 7, 9, 16, 3, 1, 1, 1, 16, true));          // depthwise
    v.push_back(conv(3, 16, 9, 7, 32, 3, 2, 1, 1, 16));                // depthwise x2, stride 2
    v.push_back(conv(1, 16, 7, 9, 1, 3, 1, 1));                        // K=1
    v.push_back(conv(3, 3, 7, 9, 5, 3, 1, 2, 1, 1, true));             // padding 2 > k/2
    v.push_back(conv(1, 16, 7, 9, 32, 1, 2, 0, 1, 1, true));           // 1x1 s2 (projection)
    v.push_back(conv(3, 3, 7, 9, 5, 3, 1, 1, 1, 1, true, true));       // post_relu + bias
    v.push_back(conv(1, 16, 7, 9, 32, 3, 2, 1, 1, 2, false, true));    // post_relu, groups
    v.push_back(conv(1, 3, 2, 2, 5, 3, 1, 1));                         // input smaller than kernel
    Shape a{3, 4, 7, 9, 6, 3, 1};  // non-square kernel, stride, padding, dilation
    a.sh = 2, a.sw = 1, a.ph = 1, a.pw = 0, a.dh = 1, a.dw = 2, a.groups = 2, a.bias = true;
    v.push_back(a);
    Shape b{1, 3, 9, 7, 5, 1, 5};
    b.sh = 1, b.sw = 3, b.ph = 0, b.pw = 2, b.dh = 2, b.dw = 1, b.bias = true;
    v.push_back(b);
    return v;
}

TEST(Conv2d, forwardMatchesReference) {
    uint32_t seed = 100;
    for (const Shape& s : odd_shapes()) check_forward(s, seed += 100);
}

TEST(Conv2d, backwardDataMatchesReference) {
    uint32_t seed = 50000;
    for (Shape s : odd_shapes()) {
        s.relu = false;
        check_backward_data(s, seed += 100);
    }
}

TEST(Conv2d, backwardWeightsMatchesReference) {
    uint32_t seed = 90000;
    for (Shape s : odd_shapes()) {
        s.relu = false;
        check_backward_weights(s, seed += 100);
    }
}

TEST(Conv2d, lenetShapesMatchReference) {
    check_all(conv(256, 1, 28, 28, 6, 5, 1, 0, 1, 1, true), 1);
    check_all(conv(256, 6, 12, 12, 16, 5, 1, 0, 1, 1, true), 2);
}

TEST(Conv2d, resnet18ShapesMatchReference) {
    check_all(conv(2, 64, 24, 24, 64, 3, 1, 1), 3);   // stage 1 3x3
    check_all(conv(2, 64, 24, 24, 128, 3, 2, 1), 4);  // stage 2 entry, 3x3 s2
    check_all(conv(2, 64, 24, 24, 128, 1, 2, 0), 5);  // 1x1 s2 projection
    check_all(conv(2, 3, 32, 32, 64, 7, 2, 3), 6);    // stem 7x7 s2 p3
}

// With FATHOM_CONV_TUNE=all every candidate implementation (layout any or
// plain nchw, oneDNN's list) runs on the caller's buffers and the fastest is
// kept: whichever wins, the numbers must match the reference. The shapes are
// unique to this test, so no earlier choice is reused.
TEST(Conv2d, tunedChoicesMatchReference) {
    if (!kHaveDnnl) GTEST_SKIP() << "no oneDNN in this build";
    ASSERT_EQ(0, setenv("FATHOM_CONV_TUNE", "all", 1));
    check_all(conv(5, 1, 13, 11, 7, 3, 1, 1, 1, 1, true), 7);    // one input channel
    check_all(conv(3, 24, 9, 9, 40, 3, 2, 1, 1, 1, true), 8);    // 3x3 s2
    check_all(conv(3, 24, 9, 9, 40, 1, 2, 0), 9);                // 1x1 s2 projection
    check_all(conv(2, 8, 9, 9, 16, 3, 1, 1, 1, 2, true, true), 10);  // groups, post_relu
    ASSERT_EQ(0, unsetenv("FATHOM_CONV_TUNE"));
}

// Tuning runs candidates on the caller's buffers; a dst that is also the src
// (not forbidden by the ABI) must not be tuned on, so the one run reads the
// original input.
TEST(Conv2d, tuningSkipsOverlappingBuffers) {
    if (!kHaveDnnl) GTEST_SKIP() << "no oneDNN in this build";
    ASSERT_EQ(0, setenv("FATHOM_CONV_TUNE", "all", 1));
    const Shape s = conv(3, 16, 6, 5, 16, 3, 1, 1, 1, 1, true);  // dst shape == src shape
    const TestTensor x = random_f32(src_shape(s), 31), w = random_f32(weights_shape(s), 32);
    const TestTensor b = random_f32(bias_shape(s), 33);
    TestTensor want = filled(FATHOM_F32, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_REFERENCE, x, w, b, want));
    TestTensor inout = x;
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_ONEDNN, inout, w, b, inout)) << fathom_last_error();
    EXPECT_EQ("", storage_mismatch(inout, want, 1e-4, 1.0));
    ASSERT_EQ(0, unsetenv("FATHOM_CONV_TUNE"));
}

// A 1x1 input whose one output sees a single kernel tap runs as matrix
// products with that tap (groups == 1) or as the 1x1 convolution with it
// (groups > 1); backward-weights zeroes the other taps.
TEST(Conv2d, singleTapInputsMatchReference) {
    check_all(conv(6, 24, 1, 1, 40, 3, 1, 1, 1, 1, true), 21);        // ResNet-18 s4 at 28x28
    check_all(conv(3, 8, 1, 1, 12, 5, 1, 2, 1, 2, true, true), 22);   // 5x5 p2, groups, relu
    check_all(conv(2, 16, 1, 1, 16, 3, 2, 1), 23);                    // stride 2, no bias
    check_all(conv(5, 8, 1, 1, 12, 3, 1, 1, 1, 1, true, true), 25);   // post_relu (matmul path)
    Shape s = conv(4, 6, 1, 1, 10, 3, 1, 0);                          // kh 1, kw 3, pw 1
    s.kh = 1, s.pw = 1;
    check_all(s, 24);
}

// 2x2 input [[1,2],[3,4]], 2x2 kernel [[1,2],[3,4]], by hand.
TEST(Conv2d, handComputedSmallCase) {
    for (fathom_dtype dt : {FATHOM_F32, FATHOM_F64})
        for (int32_t backend : {FATHOM_CNN_REFERENCE, FATHOM_CNN_ONEDNN}) {
            if (backend == FATHOM_CNN_ONEDNN && (dt == FATHOM_F64 || !kHaveDnnl)) continue;
            SCOPED_TRACE(std::string(fathom::dtype_name(dt)) + " backend " +
                         std::to_string(backend));
            TestTensor x = make_tensor(dt, {1, 1, 2, 2}), w = make_tensor(dt, {1, 1, 2, 2});
            for (int i = 0; i < 4; ++i) x.set_storage(i, i + 1), w.set_storage(i, i + 1);
            TestTensor b = filled(dt, {1}, 0.5);

            // No padding: one output, 1*1 + 2*2 + 3*3 + 4*4 + 0.5.
            Shape s = conv(1, 1, 2, 2, 1, 2, 1, 0, 1, 1, true);
            TestTensor y = filled(dt, {1, 1, 1, 1}, kNaN);
            ASSERT_EQ(FATHOM_OK, forward(s, backend, x, w, b, y)) << fathom_last_error();
            EXPECT_EQ(30.5, y.storage_at(0));
            // diff_dst [[1]]: diff_src = w, diff_w = x, diff_b = 1.
            TestTensor dy = filled(dt, {1, 1, 1, 1}, 1.0), dx = filled(dt, {1, 1, 2, 2}, kNaN);
            ASSERT_EQ(FATHOM_OK, backward_data(s, backend, dy, w, dx)) << fathom_last_error();
            TestTensor dw = filled(dt, {1, 1, 2, 2}, kNaN), db = filled(dt, {1}, kNaN);
            ASSERT_EQ(FATHOM_OK, backward_weights(s, backend, x, dy, dw, db));
            for (int i = 0; i < 4; ++i) {
                EXPECT_EQ(i + 1.0, dx.storage_at(i)) << i;
                EXPECT_EQ(i + 1.0, dw.storage_at(i)) << i;
            }
            EXPECT_EQ(1.0, db.storage_at(0));

            // Padding 1: 3x3 output, dst[oh][ow] = sum_ij x[oh-1+i][ow-1+j] * w[i][j].
            s = conv(1, 1, 2, 2, 1, 2, 1, 1);
            y = filled(dt, {1, 1, 3, 3}, kNaN);
            ASSERT_EQ(FATHOM_OK, forward(s, backend, x, w, b, y)) << fathom_last_error();
            const double want[9] = {4, 11, 6, 14, 30, 14, 6, 11, 4};
            for (int i = 0; i < 9; ++i) EXPECT_EQ(want[i], y.storage_at(i)) << i;
            // diff_dst all ones: every input pixel meets every tap once, so
            // diff_src = sum(w) = 10, diff_w = sum(x) = 10, diff_b = 9.
            dy = filled(dt, {1, 1, 3, 3}, 1.0);
            dx = filled(dt, {1, 1, 2, 2}, kNaN);
            ASSERT_EQ(FATHOM_OK, backward_data(s, backend, dy, w, dx));
            s.bias = true;
            dw = filled(dt, {1, 1, 2, 2}, kNaN);
            db = filled(dt, {1}, kNaN);
            ASSERT_EQ(FATHOM_OK, backward_weights(s, backend, x, dy, dw, db));
            for (int i = 0; i < 4; ++i) {
                EXPECT_EQ(10.0, dx.storage_at(i)) << i;
                EXPECT_EQ(10.0, dw.storage_at(i)) << i;
            }
            EXPECT_EQ(9.0, db.storage_at(0));

            // post_relu with a negative bias: relu([30 - 31]) = 0.
            s = conv(1, 1, 2, 2, 1, 2, 1, 0, 1, 1, true, true);
            b = filled(dt, {1}, -31.0);
            y = filled(dt, {1, 1, 1, 1}, kNaN);
            ASSERT_EQ(FATHOM_OK, forward(s, backend, x, w, b, y)) << fathom_last_error();
            EXPECT_EQ(0.0, y.storage_at(0));
        }
}

// The output shape a plan reports.
fathom_status output_shape(const fathom_conv2d_params* p, int64_t* out) {
    return with_plan(p, nullptr, [&](int64_t plan) {
        fathom_conv2d_choice info{};
        const fathom_status st = fathom_conv2d_plan_info(plan, out ? &info : nullptr);
        if (st == FATHOM_OK)
            for (int i = 0; i < 4; ++i) out[i] = info.dst_shape[i];
        return st;
    });
}

TEST(Conv2d, outputShape) {
    int64_t out[4] = {};
    auto p = params_of(conv(2, 3, 7, 9, 5, 3, 2, 1));
    ASSERT_EQ(FATHOM_OK, output_shape(&p, out)) << fathom_last_error();
    EXPECT_EQ(2, out[0]);
    EXPECT_EQ(5, out[1]);
    EXPECT_EQ(4, out[2]);  // (7 + 2 - 3) / 2 + 1
    EXPECT_EQ(5, out[3]);  // (9 + 2 - 3) / 2 + 1
    p = params_of(conv(1, 1, 9, 9, 1, 3, 1, 0, 4));  // dilated kernel spans 9: 1x1
    ASSERT_EQ(FATHOM_OK, output_shape(&p, out));
    EXPECT_EQ(1, out[2]);
    EXPECT_EQ(1, out[3]);
}

// Repeated calls reuse the cached primitive (bitwise equal results); a larger
// and then a smaller shape in between make the per-thread scratch regrow.
TEST(Conv2d, cachedPrimitivesAreReusedAcrossShapes) {
    if (!kHaveDnnl) GTEST_SKIP() << "no oneDNN in this build";
    const Shape small = conv(2, 16, 9, 7, 32, 3, 1, 1, 1, 1, true);
    const Shape big = conv(4, 32, 20, 18, 32, 3, 1, 1);
    auto run = [](const Shape& s, uint32_t seed) {
        TestTensor x = random_f32(src_shape(s), seed), w = random_f32(weights_shape(s), seed + 1);
        TestTensor b = random_f32(bias_shape(s), seed + 2);
        TestTensor y = filled(FATHOM_F32, dst_shape(s), kNaN);
        EXPECT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_ONEDNN, x, w, b, y)) << fathom_last_error();
        return y;
    };
    const TestTensor first = run(small, 7);
    run(big, 8);
    const TestTensor again = run(small, 7);
    run(big, 8);
    EXPECT_EQ("", storage_mismatch(again, first, 0.0));
    EXPECT_EQ("", storage_mismatch(run(small, 7), first, 0.0));
}

// Per-thread caches: concurrent callers (each with its own primitives and
// scratch) all get correct results.
TEST(Conv2d, concurrentCallersAgree) {
    const Shape s = conv(2, 16, 9, 7, 32, 3, 2, 1, 1, 2, true);
    const TestTensor x = random_f32(src_shape(s), 11), w = random_f32(weights_shape(s), 12);
    const TestTensor b = random_f32(bias_shape(s), 13);
    TestTensor want = filled(FATHOM_F32, dst_shape(s), kNaN);
    ASSERT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_REFERENCE, x, w, b, want));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&] {
            for (int it = 0; it < 20; ++it) {
                TestTensor y = filled(FATHOM_F32, dst_shape(s), kNaN);
                if (forward(s, FATHOM_CNN_AUTO, x, w, b, y) != FATHOM_OK ||
                    !storage_mismatch(y, want, 1e-4, 1.0).empty())
                    ++failures;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(0, failures.load());
}

#ifdef FATHOM_WITH_DNNL
// docs/design.md, build facts: with plain nchw descriptors oneDNN fell back to a
// reference kernel at 0.3 GFLOP/s. Every pass must run a JIT/brgemm/gemm kernel
// (tuning may keep a plain-layout one, jit_uni_ncsp or gemm, where it measured
// faster, never a reference one); the names come from oneDNN's verbose lines.
std::vector<std::string> conv_impls(const std::string& log) {
    std::vector<std::string> impls;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find(",exec,") == std::string::npos) continue;
        const size_t at = line.find(",convolution,");
        if (at == std::string::npos) continue;
        const size_t start = at + std::string(",convolution,").size();
        impls.push_back(line.substr(start, line.find(',', start) - start));
    }
    return impls;
}

// The implementations that ran the forward, backward-data and backward-weights
// passes of `s` (after a first round that creates, and may tune, them); empty
// when this oneDNN build prints no verbose lines.
std::vector<std::string> pass_impls(const Shape& s) {
    const TestTensor x = random_f32(src_shape(s), 1), w = random_f32(weights_shape(s), 2);
    const TestTensor b = random_f32(bias_shape(s), 3), dy = random_f32(dst_shape(s), 4);
    TestTensor y = filled(FATHOM_F32, dst_shape(s), 0);
    TestTensor dx = filled(FATHOM_F32, src_shape(s), 0);
    TestTensor dw = filled(FATHOM_F32, weights_shape(s), 0), db = filled(FATHOM_F32, {s.k}, 0);
    EXPECT_EQ(FATHOM_OK, forward(s, FATHOM_CNN_ONEDNN, x, w, b, y)) << fathom_last_error();
    EXPECT_EQ(FATHOM_OK, backward_data(s, FATHOM_CNN_ONEDNN, dy, w, dx)) << fathom_last_error();
    EXPECT_EQ(FATHOM_OK, backward_weights(s, FATHOM_CNN_ONEDNN, x, dy, dw, db))
        << fathom_last_error();
    testing::internal::CaptureStdout();
    dnnl_set_verbose(1);
    const fathom_status st[3] = {forward(s, FATHOM_CNN_ONEDNN, x, w, b, y),
                                 backward_data(s, FATHOM_CNN_ONEDNN, dy, w, dx),
                                 backward_weights(s, FATHOM_CNN_ONEDNN, x, dy, dw, db)};
    dnnl_set_verbose(0);
    const std::string log = testing::internal::GetCapturedStdout();
    for (fathom_status status : st) EXPECT_EQ(FATHOM_OK, status) << fathom_last_error();
    const auto impls = conv_impls(log);
    if (!impls.empty()) EXPECT_EQ(3u, impls.size()) << log;
    for (const std::string& impl : impls)
        std::cout << "[ conv2d   ] " << describe(s) << ": " << impl << "\n";
    return impls;
}

TEST(Conv2d, onednnPicksJitKernels) {
    const std::vector<Shape> shapes = {conv(2, 64, 24, 24, 64, 3, 1, 1),
                                       conv(2, 64, 24, 24, 128, 3, 2, 1, 1, 1, true),
                                       conv(2, 64, 24, 24, 128, 1, 2, 0),
                                       conv(4, 6, 12, 12, 16, 5, 1, 0, 1, 1, true)};
    for (const Shape& s : shapes) {
        SCOPED_TRACE(describe(s));
        const auto impls = pass_impls(s);
        if (impls.empty()) GTEST_SKIP() << "this oneDNN build prints no verbose lines";
        for (const std::string& impl : impls) {
            EXPECT_NE(0u, impl.rfind("ref", 0)) << impl;
            EXPECT_EQ(std::string::npos, impl.find("gemm:ref")) << impl;
        }
    }
}

// With tuning off, the shape rules in conv2d_dnnl.cpp pick the kernel family
// (passes: 0 forward, 1 backward-data, 2 backward-weights), and the numbers
// still match the reference. Shapes unique to this test: choices are cached
// per process.
TEST(Conv2d, shapeRulesPickKernelFamilies) {
    ASSERT_EQ(0, unsetenv("FATHOM_CONV_TUNE"));
    struct Rule {
        const char* why;
        const char* key;  // the rule set's switch (fathom info "rules.*")
        Shape s;
        std::vector<int> passes;
        const char* family;
    };
    const std::vector<Rule> rules = {
        {"weights-heavy (batch 1, late stage)", "conv_gemm_single_image",
         conv(1, 96, 5, 5, 160, 3, 1, 1), {0, 1, 2}, "gemm"},
        {"backward-data into one channel", "conv_gemm_backward_data_few_channels",
         conv(3, 1, 20, 18, 12, 5, 1, 2), {1}, "gemm"},
        {"strided 1x1 projection", "conv_gemm_strided_1x1", conv(3, 40, 10, 10, 72, 1, 2, 0),
         {0, 1, 2}, "gemm"},
        {"strided backward-data onto 3x3", "conv_jit_strided_backward_data",
         conv(16, 48, 6, 6, 96, 3, 2, 1), {1}, "jit:"},
    };
    for (size_t i = 0; i < rules.size(); ++i) {
        const Rule& r = rules[i];
        SCOPED_TRACE(std::string(r.why) + ": " + describe(r.s));
        // Whatever the set picks must compute the convolution.
        check_all(r.s, 40 + static_cast<uint32_t>(i));
        if (fathom_test::runtime_info_value(std::string("rules.") + r.key) != "1") continue;
        const auto impls = pass_impls(r.s);
        if (impls.empty()) GTEST_SKIP() << "this oneDNN build prints no verbose lines";
        ASSERT_EQ(3u, impls.size());
#if !defined(__x86_64__) && !defined(__i386__)
        // Off x86 (the linux-arm64 oneDNN) the walk finds no acceptable,
        // non-reference GEMM convolution for these shapes, and the choice
        // falls back to oneDNN's first one (brgconv / jit): never a reference.
        if (std::string(r.family) == "gemm") {
            for (int pass : r.passes)
                EXPECT_EQ(std::string::npos, impls[pass].find("ref"))
                    << "pass " << pass << " ran " << impls[pass];
            continue;
        }
#endif
        for (int pass : r.passes)
            EXPECT_NE(std::string::npos, impls[pass].find(r.family))
                << "pass " << pass << " ran " << impls[pass];
    }
}
#endif

// --- refusal of bad input --------------------------------------------------------

struct ForwardCall {
    Shape s = conv(2, 2, 8, 8, 4, 3, 1, 0, 1, 1, true);
    fathom_conv2d_params p = params_of(s);
    TestTensor src = random_f32(src_shape(s), 1), w = random_f32(weights_shape(s), 2);
    TestTensor b = random_f32(bias_shape(s), 3);
    TestTensor dst = filled(FATHOM_F32, dst_shape(s), 7.0);
    const fathom_tensor_desc* bias = b.desc();
    fathom_status call() {
        return with_plan(&p, src.desc(), [&](int64_t plan) {
            return fathom_conv2d_forward(plan, src.desc(), w.desc(), bias, dst.desc());
        });
    }
};

struct DataCall {
    Shape s = conv(2, 2, 8, 8, 4, 3);
    fathom_conv2d_params p = params_of(s);
    TestTensor dy = random_f32(dst_shape(s), 1), w = random_f32(weights_shape(s), 2);
    TestTensor dx = filled(FATHOM_F32, src_shape(s), 7.0);
    fathom_status call() {
        return with_plan(&p, dy.desc(), [&](int64_t plan) {
            return fathom_conv2d_backward_data(plan, dy.desc(), w.desc(), dx.desc());
        });
    }
};

struct WeightsCall {
    Shape s = conv(2, 2, 8, 8, 4, 3, 1, 0, 1, 1, true);
    fathom_conv2d_params p = params_of(s);
    TestTensor src = random_f32(src_shape(s), 1), dy = random_f32(dst_shape(s), 2);
    TestTensor dw = filled(FATHOM_F32, weights_shape(s), 7.0);
    TestTensor db = filled(FATHOM_F32, bias_shape(s), 7.0);
    const fathom_tensor_desc* diff_bias = db.desc();
    fathom_status call() {
        return with_plan(&p, src.desc(), [&](int64_t plan) {
            return fathom_conv2d_backward_weights(plan, src.desc(), dy.desc(), dw.desc(),
                                                  diff_bias);
        });
    }
};

// The call fails with `status`, the message names the entry point and holds
// every fragment, and the outputs are untouched (still 7).
template <typename Call>
void expect_refused(Call& c, fathom_status status, const std::vector<std::string>& fragments) {
    EXPECT_EQ(status, c.call());
    const std::string msg = fathom_last_error();
    for (const std::string& f : fragments) EXPECT_NE(std::string::npos, msg.find(f)) << msg;
    auto untouched = [](const TestTensor& t) {
        for (int64_t i = 0; i < t.storage_elements(); ++i)
            if (t.storage_at(i) != 7.0) return false;
        return true;
    };
    if constexpr (std::is_same_v<Call, ForwardCall>) EXPECT_TRUE(untouched(c.dst)) << msg;
    if constexpr (std::is_same_v<Call, DataCall>) EXPECT_TRUE(untouched(c.dx)) << msg;
    if constexpr (std::is_same_v<Call, WeightsCall>) {
        EXPECT_TRUE(untouched(c.dw)) << msg;
        EXPECT_TRUE(untouched(c.db)) << msg;
    }
}

constexpr fathom_status kBad = FATHOM_INVALID_ARGUMENT;

std::vector<std::string> with(std::vector<std::string> v, const std::vector<std::string>& more) {
    v.insert(v.end(), more.begin(), more.end());
    return v;
}

TEST(Conv2d, forwardRefusesBadInput) {
    const std::string op = "conv2d_forward: ";
    const std::string create = "conv2d_plan_create: ";
    {  // the example in fathom.h's spirit: channel count of src vs weights
        ForwardCall c;
        c.src = random_f32({2, 3, 8, 8}, 1);
        expect_refused(c, kBad, {op + "src [2,3,8,8] has 3 channels but weights [4,2,3,3] with "
                                      "groups=1 expect 2",
                                 "dst [2,4,6,6]", "bias [4]"});
    }
    {
        ForwardCall c;
        c.w = random_f32({4, 3, 3, 3}, 1);
        expect_refused(c, kBad, {op + "weights [4,3,3,3] has 3 input channels per group but c=2",
                                 "src [2,2,8,8]"});
    }
    {
        ForwardCall c;
        c.src = random_f32({2, 2, 8, 9}, 1);
        expect_refused(c, kBad, {op + "src [2,2,8,9] does not match the expected [2,2,8,8]",
                                 "weights [4,2,3,3]", "dst [2,4,6,6]"});
    }
    {
        ForwardCall c;
        c.dst = filled(FATHOM_F32, {2, 4, 7, 7}, 7.0);
        expect_refused(c, kBad, {op + "dst [2,4,7,7] does not match the output [2,4,6,6]"});
    }
    {
        ForwardCall c;
        c.w = random_f32({5, 2, 3, 3}, 1);
        expect_refused(c, kBad, {op + "weights [5,2,3,3] has 5 output channels but the params "
                                      "expect k=4"});
    }
    {
        ForwardCall c;
        c.src = random_f32({2, 2, 64}, 1);
        expect_refused(c, kBad, {op + "src [2,2,64] must be 4-D"});
    }
    {
        ForwardCall c;
        c.p.groups = 3;
        expect_refused(c, kBad, {create + "groups=3 must divide both c=2 and k=4"});
    }
    {
        ForwardCall c;
        c.p.ph = -1;
        expect_refused(c, kBad, {create + "ph=-1 must be >= 0 (padding)", "n=2 c=2 h=8 w=8 k=4"});
    }
    {
        ForwardCall c;
        c.p.sw = 0;
        expect_refused(c, kBad, {create + "sw=0 must be >= 1 (stride)"});
    }
    {
        ForwardCall c;
        c.p.dh = 0;
        expect_refused(c, kBad, {create + "dh=0 must be >= 1 (dilation"});
    }
    {
        ForwardCall c;
        c.p.n = 0;
        expect_refused(c, kBad, {create + "n=0 must be >= 1"});
    }
    {
        ForwardCall c;
        c.p.kh = 11;
        expect_refused(c, kBad, {create + "output size 0x6 < 1", "does not fit the padded input 8x8"});
    }
    {
        ForwardCall c;
        c.w = convert(c.w, FATHOM_F64);
        expect_refused(c, kBad, {op + "dtype float64 of weights does not match the plan's float32"});
    }
    {
        ForwardCall c;
        c.src = make_tensor(FATHOM_I32, {2, 2, 8, 8});
        expect_refused(c, kBad, {create + "dtype int32 not supported"});
    }
    {
        ForwardCall c;
        c.src = make_tensor(FATHOM_F32, {2, 2, 8, 8}, Layout::Transposed);
        expect_refused(c, kBad, {op + "src [2,2,8,8] with strides [1,2,4,32] is not contiguous "
                                      "(row-major strides [128,64,8,1] required)"});
    }
    {
        ForwardCall c;
        c.dst = make_tensor(FATHOM_F32, {2, 4, 6, 6}, Layout::RowBcast);
        EXPECT_EQ(kBad, c.call());
        EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("dst"));
    }
    {
        ForwardCall c;
        c.bias = nullptr;
        expect_refused(c, kBad, {op + "bias is null but has_bias=1", "src [2,2,8,8]",
                                 "weights [4,2,3,3]", "bias null", "dst [2,4,6,6]"});
    }
    {
        ForwardCall c;
        c.p.has_bias = 0;
        expect_refused(c, kBad, {op + "bias is given but has_bias=0"});
    }
    {
        ForwardCall c;
        c.b = random_f32({5}, 1);
        c.bias = c.b.desc();
        expect_refused(c, kBad, {op + "bias [5] does not match the expected [4]"});
    }
    {
        ForwardCall c;
        c.p.reserved = 4;
        expect_refused(c, kBad, {create + "reserved=4 must be 0"});
    }
    {
        ForwardCall c;
        c.p.backend = 2;  // a gap in fathom_cnn_backend
        expect_refused(c, kBad, {create + "unknown backend 2"});
    }
    {
        ForwardCall c;
        c.p.post_relu = 2;
        expect_refused(c, kBad, {create + "post_relu=2 must be 0 or 1"});
    }
    {
        ForwardCall c;
        int64_t plan = 0;
        EXPECT_EQ(kBad, fathom_conv2d_plan_create(nullptr, FATHOM_F32, &plan));
        EXPECT_NE(std::string::npos,
                  std::string(fathom_last_error()).find(create + "params is null"));
        ASSERT_EQ(FATHOM_OK, fathom_conv2d_plan_create(&c.p, FATHOM_F32, &plan));
        EXPECT_EQ(kBad, fathom_conv2d_forward(plan, c.src.desc(), nullptr, c.bias, c.dst.desc()));
        EXPECT_NE(std::string::npos,
                  std::string(fathom_last_error()).find(op + "weights is null"));
        EXPECT_EQ(FATHOM_OK, fathom_conv2d_plan_destroy(plan));
        EXPECT_EQ(kBad, fathom_conv2d_forward(plan, c.src.desc(), c.w.desc(), c.bias,
                                              c.dst.desc()));
        EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("is not a live plan"))
            << fathom_last_error();
        EXPECT_EQ(kBad, fathom_conv2d_plan_destroy(plan));
        EXPECT_EQ(kBad, fathom_conv2d_forward(0, c.src.desc(), c.w.desc(), c.bias, c.dst.desc()));
    }
    {
        ForwardCall c;
        c.src = convert(c.src, FATHOM_F64);
        c.w = convert(c.w, FATHOM_F64);
        c.b = convert(c.b, FATHOM_F64);
        c.bias = c.b.desc();
        c.dst = filled(FATHOM_F64, {2, 4, 6, 6}, 7.0);
        c.p.backend = FATHOM_CNN_ONEDNN;
        expect_refused(c, FATHOM_UNSUPPORTED,
                       {create + "the oneDNN backend computes float32 only"});
    }
}

TEST(Conv2d, backwardDataRefusesBadInput) {
    const std::string op = "conv2d_backward_data: ";
    const std::string create = "conv2d_plan_create: ";
    const std::vector<std::string> shapes = {"diff_dst [2,4,6,6]", "weights [4,2,3,3]",
                                             "diff_src [2,2,8,8]"};
    {
        DataCall c;
        c.dx = filled(FATHOM_F32, {2, 3, 8, 8}, 7.0);
        expect_refused(c, kBad, {op + "diff_src [2,3,8,8] has 3 channels but weights [4,2,3,3] "
                                      "with groups=1 expect 2",
                                 "diff_dst [2,4,6,6]"});
    }
    {
        DataCall c;
        c.dy = random_f32({2, 4, 5, 6}, 1);
        expect_refused(c, kBad, {op + "diff_dst [2,4,5,6] does not match the output [2,4,6,6]"});
    }
    {
        DataCall c;
        c.p.groups = 3;
        expect_refused(c, kBad, {create + "groups=3 must divide"});
    }
    {
        DataCall c;
        c.p.pw = -2;
        expect_refused(c, kBad, {create + "pw=-2 must be >= 0"});
    }
    {
        DataCall c;
        c.p.sh = 0;
        expect_refused(c, kBad, {create + "sh=0 must be >= 1"});
    }
    {
        DataCall c;
        c.p.dw = 5;
        expect_refused(c, kBad, {create + "output size 6x0 < 1"});
    }
    {
        DataCall c;
        c.dx = filled(FATHOM_F64, {2, 2, 8, 8}, 7.0);
        expect_refused(c, kBad, with(shapes, {op + "dtype float64 of diff_src does not match "
                                                   "the plan's float32"}));
    }
    {
        DataCall c;
        c.dx = make_tensor(FATHOM_F32, {2, 2, 8, 8}, Layout::Padded);
        for (int64_t i = 0; i < c.dx.storage_elements(); ++i) c.dx.set_storage(i, 7.0);
        expect_refused(c, kBad, {op + "diff_src [2,2,8,8] with strides", "is not contiguous"});
    }
    {
        DataCall c;
        c.p.post_relu = 1;
        expect_refused(c, kBad, with(shapes, {op + "post_relu=1 is forward-only"}));
    }
    {
        DataCall c;
        c.p.backend = FATHOM_CNN_ONEDNN;
        c.dy = convert(c.dy, FATHOM_F64);
        c.w = convert(c.w, FATHOM_F64);
        c.dx = filled(FATHOM_F64, {2, 2, 8, 8}, 7.0);
        expect_refused(c, FATHOM_UNSUPPORTED, {create + "the oneDNN backend computes float32 only"});
    }
}

TEST(Conv2d, backwardWeightsRefusesBadInput) {
    const std::string op = "conv2d_backward_weights: ";
    const std::string create = "conv2d_plan_create: ";
    const std::vector<std::string> shapes = {"src [2,2,8,8]", "diff_dst [2,4,6,6]",
                                             "diff_weights [4,2,3,3]", "diff_bias [4]"};
    {
        WeightsCall c;
        c.src = random_f32({2, 3, 8, 8}, 1);
        expect_refused(c, kBad, {op + "src [2,3,8,8] has 3 channels but diff_weights [4,2,3,3] "
                                      "with groups=1 expect 2"});
    }
    {
        WeightsCall c;
        c.dw = filled(FATHOM_F32, {4, 2, 3, 2}, 7.0);
        expect_refused(c, kBad, {op + "diff_weights [4,2,3,2] does not match the expected "
                                      "[4,2,3,3]",
                                 "src [2,2,8,8]", "diff_dst [2,4,6,6]", "diff_bias [4]"});
    }
    {
        WeightsCall c;
        c.p.groups = 4;
        expect_refused(c, kBad, {create + "groups=4 must divide both c=2 and k=4"});
    }
    {
        WeightsCall c;
        c.p.ph = -3;
        expect_refused(c, kBad, {create + "ph=-3 must be >= 0"});
    }
    {
        WeightsCall c;
        c.p.sw = -1;
        expect_refused(c, kBad, {create + "sw=-1 must be >= 1"});
    }
    {
        WeightsCall c;
        c.p.h = 2;
        expect_refused(c, kBad, {create + "output size 0x6 < 1"});
    }
    {
        WeightsCall c;
        c.db = filled(FATHOM_F64, {4}, 7.0);
        c.diff_bias = c.db.desc();
        expect_refused(c, kBad, {op + "dtype float64 of diff_bias does not match the plan's float32"});
    }
    {
        WeightsCall c;
        c.dy = make_tensor(FATHOM_F32, {2, 4, 6, 6}, Layout::Flipped);
        expect_refused(c, kBad, {op + "diff_dst [2,4,6,6] with strides [144,36,6,-1] is not "
                                      "contiguous"});
    }
    {
        WeightsCall c;
        c.diff_bias = nullptr;
        expect_refused(c, kBad, {op + "diff_bias is null but has_bias=1", "src [2,2,8,8]",
                                 "diff_bias null"});
    }
    {
        WeightsCall c;
        c.p.has_bias = 0;
        expect_refused(c, kBad, {op + "diff_bias is given but has_bias=0"});
    }
    {
        WeightsCall c;
        c.p.post_relu = 1;
        expect_refused(c, kBad, {op + "post_relu=1 is forward-only"});
    }
}

TEST(Conv2d, planRefusesBadParams) {
    int64_t out[4] = {-1, -1, -1, -1};
    auto p = params_of(conv(2, 3, 7, 9, 5, 3, 1, 1));
    EXPECT_EQ(kBad, output_shape(nullptr, out));
    EXPECT_NE(std::string::npos,
              std::string(fathom_last_error()).find("conv2d_plan_create: params is null"));
    EXPECT_EQ(kBad, output_shape(&p, nullptr));
    EXPECT_NE(std::string::npos,
              std::string(fathom_last_error()).find("conv2d_plan_info: info is null"));
    struct Bad {
        void (*edit)(fathom_conv2d_params&);
        const char* msg;
    };
    const Bad bad[] = {
        {[](fathom_conv2d_params& q) { q.c = 0; }, "c=0 must be >= 1"},
        {[](fathom_conv2d_params& q) { q.groups = 2; }, "groups=2 must divide both c=3 and k=5"},
        {[](fathom_conv2d_params& q) { q.ph = -1; }, "ph=-1 must be >= 0"},
        {[](fathom_conv2d_params& q) { q.sh = 0; }, "sh=0 must be >= 1"},
        {[](fathom_conv2d_params& q) { q.kw = 12; }, "output size 7x0 < 1"},
        {[](fathom_conv2d_params& q) { q.h = int64_t{1} << 40; },
         "h=1099511627776 is above 2^31-1"},
        {[](fathom_conv2d_params& q) { q.has_bias = -1; }, "has_bias=-1 must be 0 or 1"},
    };
    for (const Bad& b : bad) {
        auto q = p;
        b.edit(q);
        EXPECT_EQ(kBad, output_shape(&q, out)) << b.msg;
        const std::string msg = fathom_last_error();
        EXPECT_NE(std::string::npos, msg.find(std::string("conv2d_plan_create: ") + b.msg))
            << msg;
        EXPECT_NE(std::string::npos, msg.find("n=2 c=")) << msg;
    }
    EXPECT_EQ(-1, out[0]);
}

}  // namespace
