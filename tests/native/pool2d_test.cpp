// fathom_pool2d_*: oneDNN against the reference kernel in f32 and the reference
// f32 against f64 on odd shapes (forward, workspace round trip, backward) for
// max and both averages; hand-computed cases (ties, padding counts, overlapping
// windows); workspace mismatches; and bad input for every entry point.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "plan_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

const char* const kAlgorithms[] = {"max", "avg_include_padding", "avg_exclude_padding"};

struct PoolShape {
    int64_t n, c, h, w, kh, kw, sh, sw, ph, pw;
};

fathom_pool2d_params make_params(const PoolShape& s, int32_t algorithm, int32_t backend) {
    fathom_pool2d_params p{};
    p.n = s.n;
    p.c = s.c;
    p.h = s.h;
    p.w = s.w;
    p.kh = s.kh;
    p.kw = s.kw;
    p.sh = s.sh;
    p.sw = s.sw;
    p.ph = s.ph;
    p.pw = s.pw;
    p.algorithm = algorithm;
    p.backend = backend;
    return p;
}

std::string repro(const fathom_pool2d_params& p, const char* dtype, uint32_t seed) {
    std::ostringstream os;
    os << "repro: pool2d algorithm=" << kAlgorithms[p.algorithm] << " backend=" << p.backend
       << " dtype=" << dtype << " n=" << p.n << " c=" << p.c << " h=" << p.h << " w=" << p.w
       << " kernel=" << p.kh << "x" << p.kw << " stride=" << p.sh << "x" << p.sw
       << " padding=" << p.ph << "x" << p.pw << " seed=" << seed;
    return os.str();
}

int64_t out_h(const fathom_pool2d_params& p) { return (p.h + 2 * p.ph - p.kh) / p.sh + 1; }
int64_t out_w(const fathom_pool2d_params& p) { return (p.w + 2 * p.pw - p.kw) / p.sw + 1; }

TestTensor src_of(const fathom_pool2d_params& p, fathom_dtype dtype) {
    return make_tensor(dtype, {p.n, p.c, p.h, p.w});
}
TestTensor dst_of(const fathom_pool2d_params& p, fathom_dtype dtype) {
    return make_tensor(dtype, {p.n, p.c, out_h(p), out_w(p)});
}

TestTensor converted(const TestTensor& t, fathom_dtype dtype) {
    const fathom::TensorView v = t.view();
    TestTensor out = make_tensor(dtype, std::vector<int64_t>(v.shape, v.shape + v.ndim));
    for (int64_t k = 0; k < t.storage_elements(); ++k) out.set_storage(k, t.storage_at(k));
    return out;
}

int64_t workspace_bytes(const fathom_pool2d_params& p, fathom_dtype dtype) {
    return pool2d_info(p, dtype).workspace_bytes;
}

// Forward with a workspace (or without, with_ws == false) and backward from it.
struct PoolResult {
    TestTensor dst, ws, diff_src;
    std::string error;  // "" when every call succeeded
};

PoolResult run(const fathom_pool2d_params& p, const TestTensor& src, const TestTensor& diff_dst,
               bool with_ws = true) {
    PoolResult r;
    r.dst = dst_of(p, src.dtype());
    r.dst.randomize(99);  // garbage the kernels must overwrite
    r.ws = make_tensor(FATHOM_BOOL, {std::max<int64_t>(workspace_bytes(p, src.dtype()), 0)});
    if (pool2d_forward_once(&p, src.desc(), r.dst.desc(), with_ws ? r.ws.desc() : nullptr) !=
        FATHOM_OK) {
        r.error = std::string("forward: ") + fathom_last_error();
        return r;
    }
    r.diff_src = src_of(p, src.dtype());
    r.diff_src.randomize(98);
    if (!with_ws) return r;
    if (pool2d_backward_once(&p, diff_dst.desc(), r.ws.desc(), r.diff_src.desc()) != FATHOM_OK)
        r.error = std::string("backward: ") + fathom_last_error();
    return r;
}

std::vector<PoolShape> shapes() {
    return {
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},      // a single element
        {1, 3, 5, 7, 1, 1, 1, 1, 0, 0},      // 1x1 window
        {3, 5, 8, 8, 2, 2, 2, 2, 0, 0},      // 2x2/2
        {3, 4, 7, 9, 2, 2, 2, 2, 0, 0},      // odd sizes: the last row/col is dropped
        {1, 2, 9, 7, 3, 3, 2, 2, 1, 1},      // 3x3/2 pad 1: overlapping windows
        {3, 3, 6, 11, 3, 3, 1, 1, 0, 0},     // 3x3/1
        {2, 3, 10, 6, 3, 3, 1, 1, 1, 1},     // 3x3/1 pad 1
        {3, 64, 13, 11, 3, 3, 2, 2, 1, 1},   // large C, H != W
        {2, 4, 9, 13, 3, 2, 2, 1, 1, 1},     // non-square kernel and stride
        {1, 2, 5, 5, 5, 5, 1, 1, 2, 2},      // kernel = input, padding = kernel/2
        {2, 3, 4, 12, 4, 2, 3, 3, 2, 1},     // stride > kernel along w
        {4, 64, 48, 48, 3, 3, 2, 2, 1, 1},   // ResNet stem pooling (batch 4), multithreaded
    };
}

class Pool2dMatchesReference : public ::testing::TestWithParam<int32_t> {};

// oneDNN f32 vs reference f32 (forward, inference forward, backward from each
// backend's own workspace), and reference f32 vs reference f64.
TEST_P(Pool2dMatchesReference, matchesReference) {
    const int32_t algorithm = GetParam();
    const bool is_max = algorithm == FATHOM_POOL_MAX;
    uint32_t seed = 100 + 50 * algorithm;
    for (const PoolShape& s : shapes()) {
        ++seed;
        const auto ref = make_params(s, algorithm, FATHOM_CNN_REFERENCE);
        const auto dnnl = make_params(s, algorithm, FATHOM_CNN_ONEDNN);
        TestTensor src = src_of(ref, FATHOM_F32), diff_dst = dst_of(ref, FATHOM_F32);
        src.randomize(seed);
        diff_dst.randomize(seed + 1000);
        const PoolResult want = run(ref, src, diff_dst);
        ASSERT_EQ("", want.error) << repro(ref, "float32", seed);
        const PoolResult got = run(dnnl, src, diff_dst);
        ASSERT_EQ("", got.error) << repro(dnnl, "float32", seed);
        // Max pooling picks one element: exact. Averages round in their own
        // order, and an element of diff_src sums up to `overlap` window
        // gradients (values in [-1, 1]), in any order.
        const double tol = is_max ? 0.0 : 4 * FLT_EPSILON;
        const double overlap = static_cast<double>(((s.kh + s.sh - 1) / s.sh) *
                                                   ((s.kw + s.sw - 1) / s.sw));
        EXPECT_EQ("", storage_mismatch(got.dst, want.dst, tol, 1.0))
            << "dst\n" << repro(dnnl, "float32", seed);
        EXPECT_EQ("", storage_mismatch(got.diff_src, want.diff_src, 2 * overlap * FLT_EPSILON,
                                       overlap))
            << "diff_src\n" << repro(dnnl, "float32", seed);
        const PoolResult inference = run(dnnl, src, diff_dst, false);
        ASSERT_EQ("", inference.error) << repro(dnnl, "float32", seed);
        EXPECT_EQ("", storage_mismatch(inference.dst, want.dst, tol, 1.0))
            << "inference dst\n" << repro(dnnl, "float32", seed);

        const PoolResult want64 =
            run(ref, converted(src, FATHOM_F64), converted(diff_dst, FATHOM_F64));
        ASSERT_EQ("", want64.error) << repro(ref, "float64", seed);
        EXPECT_EQ("", storage_mismatch(want.dst, want64.dst, 2 * FLT_EPSILON, 1.0))
            << "f32 vs f64 dst\n" << repro(ref, "float64", seed);
        EXPECT_EQ("", storage_mismatch(want.diff_src, want64.diff_src, 2 * overlap * FLT_EPSILON,
                                       overlap))
            << "f32 vs f64 diff_src\n" << repro(ref, "float64", seed);
    }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, Pool2dMatchesReference, ::testing::Range(0, 3),
                         [](const auto& info) { return std::string(kAlgorithms[info.param]); });

// --- hand-computed cases --------------------------------------------------------------

TestTensor filled(fathom_dtype dtype, const std::vector<int64_t>& shape,
                  const std::vector<double>& values) {
    TestTensor t = make_tensor(dtype, shape);
    for (size_t k = 0; k < values.size(); ++k) t.set_storage(static_cast<int64_t>(k), values[k]);
    return t;
}

std::vector<double> values_of(const TestTensor& t) {
    std::vector<double> v(static_cast<size_t>(t.storage_elements()));
    for (int64_t k = 0; k < t.storage_elements(); ++k) v[k] = t.storage_at(k);
    return v;
}

struct Backend {
    int32_t backend;
    fathom_dtype dtype;
    const char* name;
};
const Backend kBackends[] = {{FATHOM_CNN_REFERENCE, FATHOM_F32, "reference f32"},
                             {FATHOM_CNN_REFERENCE, FATHOM_F64, "reference f64"},
                             {FATHOM_CNN_ONEDNN, FATHOM_F32, "oneDNN f32"}};

// 4x4 max pooling 2x2/2 with ties: the first maximum (row-major in the window)
// wins and receives the whole gradient.
TEST(Pool2dByHand, maxPoolTiesFirstMaximumWins) {
    const std::vector<double> x = {1, 3, 2, 2,   //
                                   3, 0, 2, 1,   //
                                   5, 5, 0, 7,   //
                                   5, 4, 7, 7};
    for (const Backend& b : kBackends) {
        const auto p = make_params({1, 1, 4, 4, 2, 2, 2, 2, 0, 0}, FATHOM_POOL_MAX, b.backend);
        const std::string where = repro(p, fathom::dtype_name(b.dtype), 0);
        const PoolResult r =
            run(p, filled(b.dtype, {1, 1, 4, 4}, x), filled(b.dtype, {1, 1, 2, 2}, {1, 2, 3, 4}));
        ASSERT_EQ("", r.error) << where;
        EXPECT_EQ(std::vector<double>({3, 2, 5, 7}), values_of(r.dst)) << where;
        // Winners: (0,1), (0,2), (2,0), (2,3).
        EXPECT_EQ(std::vector<double>({0, 1, 2, 0,  //
                                       0, 0, 0, 0,  //
                                       3, 0, 0, 4,  //
                                       0, 0, 0, 0}),
                  values_of(r.diff_src))
            << where;
    }
}

// The reference propagates NaN like PyTorch: the first NaN of a window wins.
// (oneDNN skips NaNs; see ops/pool2d.h.)
TEST(Pool2dByHand, maxPoolReferencePropagatesNaN) {
    const double nan = std::nan("");
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
        const auto p = make_params({1, 1, 2, 4, 2, 2, 2, 2, 0, 0}, FATHOM_POOL_MAX,
                                   FATHOM_CNN_REFERENCE);
        const PoolResult r = run(p, filled(dtype, {1, 1, 2, 4}, {1, nan, 2, 3, 0, 5, nan, nan}),
                                 filled(dtype, {1, 1, 1, 2}, {1, 2}));
        ASSERT_EQ("", r.error);
        EXPECT_TRUE(std::isnan(r.dst.storage_at(0)) && std::isnan(r.dst.storage_at(1)));
        EXPECT_EQ(std::vector<double>({0, 1, 0, 0, 0, 0, 2, 0}), values_of(r.diff_src));
    }
}

// 3x3/1 with padding 1 over a constant plane: every window's first in-bounds
// element wins, and the overlapping windows' gradients add up (+=).
TEST(Pool2dByHand, maxPoolOverlappingWindowsAccumulate) {
    for (const Backend& b : kBackends) {
        const auto p = make_params({1, 1, 3, 3, 3, 3, 1, 1, 1, 1}, FATHOM_POOL_MAX, b.backend);
        const std::string where = repro(p, fathom::dtype_name(b.dtype), 0);
        const PoolResult r = run(p, filled(b.dtype, {1, 1, 3, 3}, std::vector<double>(9, 1.0)),
                                 filled(b.dtype, {1, 1, 3, 3}, std::vector<double>(9, 1.0)));
        ASSERT_EQ("", r.error) << where;
        EXPECT_EQ(std::vector<double>(9, 1.0), values_of(r.dst)) << where;
        // Winners (first in-bounds element): (0,0) x4, (0,1) x2, (1,0) x2, (1,1) x1.
        EXPECT_EQ(std::vector<double>({4, 2, 0, 2, 1, 0, 0, 0, 0}), values_of(r.diff_src))
            << where;
    }
}

// 3x3/1 pad 1 over 1..9: a corner window holds 4 values, an edge one 6, the centre 9.
TEST(Pool2dByHand, averageCountsPaddingOrNot) {
    const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (const Backend& b : kBackends) {
        const double eps = b.dtype == FATHOM_F32 ? 1e-6 : 1e-14;
        for (int32_t algorithm :
             {FATHOM_POOL_AVG_INCLUDE_PADDING, FATHOM_POOL_AVG_EXCLUDE_PADDING}) {
            const bool include = algorithm == FATHOM_POOL_AVG_INCLUDE_PADDING;
            const auto p = make_params({1, 1, 3, 3, 3, 3, 1, 1, 1, 1}, algorithm, b.backend);
            const std::string where = repro(p, fathom::dtype_name(b.dtype), 0);
            const PoolResult r = run(p, filled(b.dtype, {1, 1, 3, 3}, x),
                                     filled(b.dtype, {1, 1, 3, 3}, std::vector<double>(9, 1.0)));
            ASSERT_EQ("", r.error) << where;
            // Window sums: corners 12, 16, 24, 28; edges 21, 27, 33, 39; centre 45.
            const std::vector<double> sums = {12, 21, 16, 27, 45, 33, 24, 39, 28};
            const std::vector<double> counts = {4, 6, 4, 6, 9, 6, 4, 6, 4};
            const std::vector<double> got = values_of(r.dst);
            for (int k = 0; k < 9; ++k)
                EXPECT_NEAR(sums[k] / (include ? 9 : counts[k]), got[k], eps)
                    << "dst[" << k << "]\n" << where;
            // diff_src[i] = sum over windows holding i of 1/divisor.
            const std::vector<double> dx = values_of(r.diff_src);
            const double corner = include ? 4.0 / 9 : 1.0 / 4 + 1.0 / 6 + 1.0 / 6 + 1.0 / 9;
            const double edge = include ? 6.0 / 9 : 2.0 / 4 + 3.0 / 6 + 1.0 / 9;
            const double centre = include ? 1.0 : 4.0 / 4 + 4.0 / 6 + 1.0 / 9;
            const std::vector<double> want_dx = {corner, edge, corner, edge, centre,
                                                 edge,   corner, edge, corner};
            for (int k = 0; k < 9; ++k)
                EXPECT_NEAR(want_dx[k], dx[k], eps)
                    << "diff_src[" << k << "]\n" << where;
        }
    }
}

TEST(Pool2dByHand, outputShapeAndWorkspaceBytes) {
    const auto p = make_params({2, 3, 7, 10, 3, 3, 2, 2, 1, 1}, FATHOM_POOL_MAX, FATHOM_CNN_AUTO);
    const fathom_pool2d_choice info = pool2d_info(p, FATHOM_F32);
    EXPECT_EQ(std::vector<int64_t>({2, 3, 4, 5}),
              std::vector<int64_t>(info.dst_shape, info.dst_shape + 4));
    // The reference stores a 64-byte header and one int32 per dst element.
    auto ref = p;
    ref.backend = FATHOM_CNN_REFERENCE;
    EXPECT_EQ(64 + 4 * 2 * 3 * 4 * 5, workspace_bytes(ref, FATHOM_F32));
    EXPECT_EQ(64 + 4 * 2 * 3 * 4 * 5, workspace_bytes(p, FATHOM_F64));  // AUTO: reference
    EXPECT_GT(workspace_bytes(p, FATHOM_F32), 64);                      // AUTO: oneDNN's
    auto avg = p;
    avg.algorithm = FATHOM_POOL_AVG_EXCLUDE_PADDING;
    EXPECT_EQ(0, workspace_bytes(avg, FATHOM_F32));
    EXPECT_EQ(0, workspace_bytes(avg, FATHOM_F64));
}

// Results do not depend on the thread budget.
TEST(Pool2dByHand, threadCountDoesNotChangeResults) {
    const auto p =
        make_params({8, 64, 24, 24, 3, 3, 2, 2, 1, 1}, FATHOM_POOL_MAX, FATHOM_CNN_ONEDNN);
    TestTensor src = src_of(p, FATHOM_F32), dy = dst_of(p, FATHOM_F32);
    src.randomize(7);
    dy.randomize(8);
    int32_t saved = 0;
    ASSERT_EQ(FATHOM_OK, fathom_get_num_threads(&saved));
    ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(1));
    const PoolResult one = run(p, src, dy);
    ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(2));
    const PoolResult two = run(p, src, dy);
    ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(saved));
    ASSERT_EQ("", one.error);
    ASSERT_EQ("", two.error);
    EXPECT_EQ("", storage_mismatch(two.dst, one.dst, 0.0));
    EXPECT_EQ("", storage_mismatch(two.diff_src, one.diff_src, 0.0));
}

// --- workspace mismatches --------------------------------------------------------------

std::string backward_error(const fathom_pool2d_params& p, const TestTensor& dy,
                           const TestTensor* ws, TestTensor& dx) {
    const fathom_status st =
        pool2d_backward_once(&p, dy.desc(), ws ? ws->desc() : nullptr, dx.desc());
    if (st == FATHOM_OK) return "OK";
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, st);
    return fathom_last_error();
}

TEST(Pool2dWorkspace, otherBackendDtypeOrParamsIsRefused) {
    const PoolShape s{2, 3, 8, 8, 2, 2, 2, 2, 0, 0};
    const auto ref = make_params(s, FATHOM_POOL_MAX, FATHOM_CNN_REFERENCE);
    const auto dnnl = make_params(s, FATHOM_POOL_MAX, FATHOM_CNN_ONEDNN);
    TestTensor src = src_of(ref, FATHOM_F32), dy = dst_of(ref, FATHOM_F32);
    TestTensor dx = src_of(ref, FATHOM_F32);
    src.randomize(1);
    dy.randomize(2);
    const PoolResult from_ref = run(ref, src, dy);
    const PoolResult from_dnnl = run(dnnl, src, dy);
    ASSERT_EQ("", from_ref.error);
    ASSERT_EQ("", from_dnnl.error);

    std::string msg = backward_error(dnnl, dy, &from_ref.ws, dx);
    EXPECT_NE(std::string::npos, msg.find("pool2d_backward: workspace was written by the "
                                          "reference backend but this call runs the oneDNN"))
        << msg;
    msg = backward_error(ref, dy, &from_dnnl.ws, dx);
    EXPECT_NE(std::string::npos, msg.find("written by the oneDNN backend")) << msg;

    const PoolResult from_f64 = run(ref, converted(src, FATHOM_F64), converted(dy, FATHOM_F64));
    ASSERT_EQ("", from_f64.error);
    msg = backward_error(ref, dy, &from_f64.ws, dx);
    EXPECT_NE(std::string::npos, msg.find("workspace was written for float64 but diff_src is "
                                          "float32"))
        << msg;

    // 3x3/2 pad 1 on 8x8 also gives 4x4: same workspace size, other params.
    const auto other = make_params({2, 3, 8, 8, 3, 3, 2, 2, 1, 1}, FATHOM_POOL_MAX,
                                   FATHOM_CNN_REFERENCE);
    ASSERT_EQ(workspace_bytes(ref, FATHOM_F32), workspace_bytes(other, FATHOM_F32));
    msg = backward_error(other, dy, &from_ref.ws, dx);
    EXPECT_NE(std::string::npos, msg.find("workspace was written for other pooling params"))
        << msg;

    // A reference payload changed after forward: an argmax outside its plane
    // is refused (not written through), naming the cause.
    TestTensor bad = from_ref.ws;
    for (int64_t k = 0; k < 4; ++k) bad.set_storage(64 + 5 * 4 + k, 1.0);  // 0x01010101
    msg = backward_error(ref, dy, &bad, dx);
    EXPECT_NE(std::string::npos, msg.find("argmax outside its plane")) << msg;

    TestTensor zeros = make_tensor(FATHOM_BOOL, {workspace_bytes(ref, FATHOM_F32)});
    msg = backward_error(ref, dy, &zeros, dx);
    EXPECT_NE(std::string::npos, msg.find("workspace was not written by pool2d_forward")) << msg;

    msg = backward_error(ref, dy, nullptr, dx);
    EXPECT_NE(std::string::npos, msg.find("max pooling needs the workspace")) << msg;

    TestTensor short_ws = make_tensor(FATHOM_BOOL, {workspace_bytes(ref, FATHOM_F32) - 1});
    TestTensor dst = dst_of(ref, FATHOM_F32);
    ASSERT_EQ(FATHOM_INVALID_ARGUMENT,
              pool2d_forward_once(&ref, src.desc(), dst.desc(), short_ws.desc()));
    msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("pool2d_forward: workspace holds 447 bytes but "
                                          "the plan's workspace_bytes is 448"))
        << msg;
    TestTensor float_ws = make_tensor(FATHOM_F32, {112});
    ASSERT_EQ(FATHOM_INVALID_ARGUMENT,
              pool2d_forward_once(&ref, src.desc(), dst.desc(), float_ws.desc()));
    msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("workspace [112] must be bool")) << msg;
}

// --- bad input ---------------------------------------------------------------------------

void expect_refused(fathom_status got, const std::string& needle, const std::string& what,
                    fathom_status want = FATHOM_INVALID_ARGUMENT) {
    EXPECT_EQ(want, got) << what;
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find(needle)) << what << "\n  message: " << msg;
}

TEST(Pool2dBadInput, paramsAreChecked) {
    const PoolShape good{2, 3, 8, 8, 3, 3, 2, 2, 1, 1};
    struct Mutation {
        const char* what;
        void (*apply)(fathom_pool2d_params&);
        const char* needle;
    };
    const Mutation mutations[] = {
        {"n=0", [](fathom_pool2d_params& p) { p.n = 0; }, "sizes and kernel must be positive"},
        {"w=-1", [](fathom_pool2d_params& p) { p.w = -1; }, "sizes and kernel must be positive"},
        {"kw=0", [](fathom_pool2d_params& p) { p.kw = 0; }, "sizes and kernel must be positive"},
        {"sh=0", [](fathom_pool2d_params& p) { p.sh = 0; }, "stride must be >= 1"},
        {"ph=2 for kh=3", [](fathom_pool2d_params& p) { p.ph = 2; },
         "padding must be between 0 and half the kernel"},
        {"pw=-1", [](fathom_pool2d_params& p) { p.pw = -1; },
         "padding must be between 0 and half the kernel"},
        {"kernel > input", [](fathom_pool2d_params& p) { p.kh = 11; },
         "kernel larger than the padded input"},
        {"algorithm 3", [](fathom_pool2d_params& p) { p.algorithm = 3; }, "unknown algorithm 3"},
        {"backend 2", [](fathom_pool2d_params& p) { p.backend = 2; }, "unknown backend 2"},
    };
    auto src = make_tensor(FATHOM_F32, {2, 3, 8, 8}), dst = make_tensor(FATHOM_F32, {2, 3, 4, 4});
    for (const Mutation& m : mutations) {
        auto p = make_params(good, FATHOM_POOL_MAX, FATHOM_CNN_AUTO);
        m.apply(p);
        int64_t plan = 0;
        expect_refused(fathom_pool2d_plan_create(&p, FATHOM_F32, &plan),
                       std::string("pool2d_plan_create: ") + m.needle, m.what);
        EXPECT_EQ(0, plan) << m.what;
    }
    int64_t plan = 0;
    expect_refused(fathom_pool2d_plan_create(nullptr, FATHOM_F32, &plan),
                   "pool2d_plan_create: params is null", "null params");
    const auto p = make_params(good, FATHOM_POOL_MAX, FATHOM_CNN_AUTO);
    expect_refused(fathom_pool2d_plan_create(&p, FATHOM_F32, nullptr),
                   "pool2d_plan_create: plan is null", "null plan");
    expect_refused(fathom_pool2d_plan_create(&p, FATHOM_I32, &plan),
                   "pool2d_plan_create: dtype int32 not supported", "int32 plan");
    auto onednn = p;
    onednn.backend = FATHOM_CNN_ONEDNN;
    expect_refused(fathom_pool2d_plan_create(&onednn, FATHOM_F64, &plan),
                   "pool2d_plan_create: the oneDNN backend takes float32, got float64",
                   "oneDNN f64");
    PoolPlan live(&p, FATHOM_F32);
    ASSERT_EQ(FATHOM_OK, live.status()) << fathom_last_error();
    expect_refused(fathom_pool2d_plan_info(live.handle(), nullptr),
                   "pool2d_plan_info: info is null", "null info");
    // Handles are ids: a forged or destroyed one is refused, not read.
    expect_refused(fathom_pool2d_forward(live.handle() + 1000, src.desc(), dst.desc(), nullptr),
                   "pool2d_forward: plan " + std::to_string(live.handle() + 1000) +
                       " is not a live plan",
                   "forged plan");
    int64_t gone = 0;
    ASSERT_EQ(FATHOM_OK, fathom_pool2d_plan_create(&p, FATHOM_F32, &gone));
    ASSERT_EQ(FATHOM_OK, fathom_pool2d_plan_destroy(gone));
    expect_refused(fathom_pool2d_plan_destroy(gone), "pool2d_plan_destroy: plan", "double destroy");
}

TEST(Pool2dBadInput, descriptorsAreChecked) {
    const auto p = make_params({2, 3, 8, 8, 3, 3, 3, 3, 1, 1}, FATHOM_POOL_AVG_INCLUDE_PADDING,
                               FATHOM_CNN_AUTO);  // -> [2,3,3,3]
    auto src = make_tensor(FATHOM_F32, {2, 3, 8, 8}), dst = make_tensor(FATHOM_F32, {2, 3, 3, 3});
    auto wrong_dst = make_tensor(FATHOM_F32, {2, 3, 4, 4});
    wrong_dst.randomize(5);
    const TestTensor before = wrong_dst;
    expect_refused(pool2d_forward_once(&p, src.desc(), wrong_dst.desc(), nullptr),
                   "pool2d_forward: dst [2,3,4,4] does not match the expected [2,3,3,3]",
                   "dst shape");
    EXPECT_EQ("", storage_mismatch(wrong_dst, before, 0.0)) << "a refused call wrote dst";
    auto wrong_src = make_tensor(FATHOM_F32, {2, 3, 8, 9});
    expect_refused(pool2d_forward_once(&p, wrong_src.desc(), dst.desc(), nullptr),
                   "pool2d_forward: src [2,3,8,9] does not match the expected [2,3,8,8]",
                   "src shape");
    auto flat = make_tensor(FATHOM_F32, {6, 64});
    expect_refused(pool2d_forward_once(&p, flat.desc(), dst.desc(), nullptr),
                   "pool2d_forward: src [6,64] does not match the expected [2,3,8,8]",
                   "src ndim");
    auto padded = make_tensor(FATHOM_F32, {2, 3, 8, 8}, Layout::Padded);
    expect_refused(pool2d_forward_once(&p, padded.desc(), dst.desc(), nullptr),
                   "pool2d_forward: src [2,3,8,8] must be contiguous", "strided src");
    auto transposed = make_tensor(FATHOM_F32, {2, 3, 3, 3}, Layout::Transposed);
    expect_refused(pool2d_forward_once(&p, src.desc(), transposed.desc(), nullptr),
                   "pool2d_forward: dst [2,3,3,3] must be contiguous", "strided dst");
    auto dst64 = make_tensor(FATHOM_F64, {2, 3, 3, 3});
    expect_refused(pool2d_forward_once(&p, src.desc(), dst64.desc(), nullptr),
                   "pool2d_forward: dtype float64 of dst [2,3,3,3] does not match the plan's float32",
                   "dtypes");
    auto src_i32 = make_tensor(FATHOM_I32, {2, 3, 8, 8});
    expect_refused(pool2d_forward_once(&p, src_i32.desc(), dst.desc(), nullptr),
                   "pool2d_plan_create: dtype int32 not supported", "int32");
    expect_refused(pool2d_forward_once(&p, nullptr, dst.desc(), nullptr),
                   "pool2d_forward: src is null", "null src");
    auto onednn = p;
    onednn.backend = FATHOM_CNN_ONEDNN;
    auto src64 = make_tensor(FATHOM_F64, {2, 3, 8, 8});
    expect_refused(pool2d_forward_once(&onednn, src64.desc(), dst64.desc(), nullptr),
                   "pool2d_plan_create: the oneDNN backend takes float32, got float64", "oneDNN f64");
    // Backward: diff_dst and diff_src swap roles.
    expect_refused(pool2d_backward_once(&p, wrong_dst.desc(), nullptr, src.desc()),
                   "pool2d_backward: diff_dst [2,3,4,4] does not match the expected [2,3,3,3]",
                   "diff_dst shape");
    expect_refused(pool2d_backward_once(&p, dst.desc(), nullptr, wrong_src.desc()),
                   "pool2d_backward: diff_src [2,3,8,9] does not match the expected [2,3,8,8]",
                   "diff_src shape");
    auto ws = make_tensor(FATHOM_BOOL, {16});
    expect_refused(pool2d_backward_once(&p, dst.desc(), ws.desc(), src.desc()),
                   "pool2d_backward: workspace holds 16 bytes but the plan's workspace_bytes is 0",
                   "average with a workspace");
    auto empty_ws = make_tensor(FATHOM_BOOL, {0});
    EXPECT_EQ(FATHOM_OK, pool2d_backward_once(&p, dst.desc(), empty_ws.desc(), src.desc()))
        << fathom_last_error();
}

}  // namespace
