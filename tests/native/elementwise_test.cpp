// fathom_unary / fathom_binary / fathom_where: the fast kernels against the
// reference kernels (compiled into this test) on odd shapes and layouts, in
// place, on the parallel path; then hand-computed semantics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/elementwise.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Case {
    std::vector<int64_t> shape;
    Layout in, in2, out;
};

std::string shape_text(const std::vector<int64_t>& s) {
    return fathom::shape_str(s.data(), static_cast<int>(s.size()));
}

// Small odd shapes in every layout combination; the large ones in the
// combinations the fast path special-cases (on two threads for the costly ops;
// the memory-bound ones need bigger tensors, see ParallelPath below).
std::vector<Case> cases(bool two_inputs) {
    const std::vector<std::vector<int64_t>> small = {{}, {0}, {1}, {1, 1}, {17, 33}, {3, 1, 5},
                                                     {3, 4, 5}, {2, 0, 3}};
    const Layout ins[] = {Layout::Dense,     Layout::Transposed, Layout::Padded, Layout::RowBcast,
                          Layout::ColBcast,  Layout::EvenBcast,  Layout::Scalar, Layout::Flipped};
    const Layout outs[] = {Layout::Dense, Layout::Transposed, Layout::Padded, Layout::Flipped};
    std::vector<Case> out;
    for (const auto& shape : small)
        for (Layout a : ins)
            for (Layout b : two_inputs ? std::vector<Layout>(std::begin(ins), std::end(ins))
                                       : std::vector<Layout>{Layout::Dense})
                for (Layout o : outs) out.push_back({shape, a, b, o});
    for (const auto& shape : std::vector<std::vector<int64_t>>{{100000}, {300, 400}}) {
        out.push_back({shape, Layout::Dense, Layout::Dense, Layout::Dense});
        out.push_back({shape, Layout::Dense, Layout::RowBcast, Layout::Dense});
        out.push_back({shape, Layout::Scalar, Layout::Dense, Layout::Dense});
        out.push_back({shape, Layout::Transposed, Layout::ColBcast, Layout::Dense});
        out.push_back({shape, Layout::Dense, Layout::Dense, Layout::Transposed});
        out.push_back({shape, Layout::Padded, Layout::Flipped, Layout::Padded});
    }
    return out;
}

std::string repro(const std::string& op, const Case& c, const TestTensor& a, const TestTensor* b,
                  const TestTensor& dst, uint32_t seed) {
    std::ostringstream os;
    os << "repro: op=" << op << " shape=" << shape_text(c.shape) << " a=" << a.str()
       << " (" << layout_name(c.in) << ")";
    if (b) os << " b=" << b->str() << " (" << layout_name(c.in2) << ")";
    os << " dst=" << dst.str() << " (" << layout_name(c.out) << ") seed=" << seed;
    return os.str();
}

// Inputs that exercise each op's interesting domain (NaN from log(-x) included).
double input_range(int32_t op) {
    return op == FATHOM_UNARY_EXP || op == FATHOM_UNARY_SIGMOID ? 50.0 : 3.0;
}

class UnaryMatchesReference : public ::testing::TestWithParam<int32_t> {};

TEST_P(UnaryMatchesReference, matchesReference) {
    const int32_t op = GetParam();
    const std::string name = std::string("unary(") + fathom::unary_op_name(op) + ")";
    uint32_t seed = 100;
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64})
        for (const Case& c : cases(false)) {
            ++seed;
            TestTensor src = make_tensor(dtype, c.shape, c.in);
            src.randomize(seed, -input_range(op), input_range(op));
            TestTensor fast = make_tensor(dtype, c.shape, c.out);
            fast.randomize(seed + 1);
            TestTensor ref = fast;
            const double alpha = op == FATHOM_UNARY_CLAMP ? -0.5 : 1.5, beta = 0.25;
            ASSERT_EQ(FATHOM_OK, fathom_unary(op, src.desc(), fast.desc(), alpha, beta))
                << fathom_last_error() << "\n" << repro(name, c, src, nullptr, fast, seed);
            fathom::unary_forward_ref(op, src.view(), ref.view(), alpha, beta);
            const std::string bad = storage_mismatch(fast, ref, 4 * eps_of(dtype));
            ASSERT_EQ("", bad) << repro(name, c, src, nullptr, fast, seed);
        }
}

INSTANTIATE_TEST_SUITE_P(AllOps, UnaryMatchesReference, ::testing::Range(0, 24),
                         [](const auto& info) { return fathom::unary_op_name(info.param); });

class BinaryMatchesReference : public ::testing::TestWithParam<int32_t> {};

TEST_P(BinaryMatchesReference, matchesReference) {
    const int32_t op = GetParam();
    const std::string name = std::string("binary(") + fathom::binary_op_name(op) + ")";
    uint32_t seed = 500;
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64})
        for (fathom_dtype out_dtype : {dtype, FATHOM_BOOL}) {
            if (out_dtype == FATHOM_BOOL && !fathom::is_comparison(op)) continue;
            for (const Case& c : cases(true)) {
                ++seed;
                TestTensor a = make_tensor(dtype, c.shape, c.in);
                TestTensor b = make_tensor(dtype, c.shape, c.in2);
                // Coarse values so that ==, <= and NaN-free ties actually occur.
                a.randomize(seed, -2, 2);
                b.randomize(seed + 1, -2, 2);
                for (int64_t k = 0; k < a.storage_elements(); k += 3)
                    a.set_storage(k, std::round(a.storage_at(k)));
                for (int64_t k = 0; k < b.storage_elements(); k += 2)
                    b.set_storage(k, std::round(b.storage_at(k)));
                TestTensor fast = make_tensor(out_dtype, c.shape, c.out);
                fast.randomize(seed + 2);
                TestTensor ref = fast;
                ASSERT_EQ(FATHOM_OK, fathom_binary(op, a.desc(), b.desc(), fast.desc()))
                    << fathom_last_error() << "\n" << repro(name, c, a, &b, fast, seed);
                fathom::binary_forward_ref(op, a.view(), b.view(), ref.view());
                ASSERT_EQ("", storage_mismatch(fast, ref, 4 * eps_of(dtype)))
                    << repro(name, c, a, &b, fast, seed);
            }
        }
}

INSTANTIATE_TEST_SUITE_P(AllOps, BinaryMatchesReference, ::testing::Range(0, 13),
                         [](const auto& info) { return fathom::binary_op_name(info.param); });

TEST(Where, matchesReference) {
    uint32_t seed = 900;
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64, FATHOM_I32, FATHOM_I64, FATHOM_BOOL})
        for (const Case& c : cases(true)) {
            ++seed;
            TestTensor cond = make_tensor(FATHOM_BOOL, c.shape, c.in2);
            TestTensor a = make_tensor(dtype, c.shape, c.in);
            TestTensor b = make_tensor(dtype, c.shape, c.in2);
            cond.randomize(seed);
            a.randomize(seed + 1, -50, 50);
            b.randomize(seed + 2, -50, 50);
            TestTensor fast = make_tensor(dtype, c.shape, c.out);
            TestTensor ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_where(cond.desc(), a.desc(), b.desc(), fast.desc()))
                << fathom_last_error() << "\n" << repro("where", c, a, &b, fast, seed);
            fathom::where_forward_ref(cond.view(), a.view(), b.view(), ref.view());
            ASSERT_EQ("", storage_mismatch(fast, ref, 0)) << repro("where", c, a, &b, fast, seed);
        }
}

TEST(Copy, castsBetweenEveryDtypePairLikeTheReference) {
    const fathom_dtype all[] = {FATHOM_F32, FATHOM_F64, FATHOM_I32, FATHOM_I64, FATHOM_BOOL};
    uint32_t seed = 1300;
    for (fathom_dtype from : all)
        for (fathom_dtype to : all)
            for (const Case& c : cases(false)) {
                ++seed;
                TestTensor src = make_tensor(from, c.shape, c.in);
                src.randomize(seed, -1000, 1000);
                TestTensor fast = make_tensor(to, c.shape, c.out);
                TestTensor ref = fast;
                ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_COPY, src.desc(), fast.desc(), 0, 0))
                    << fathom_last_error() << "\n" << repro("copy", c, src, nullptr, fast, seed);
                fathom::unary_forward_ref(FATHOM_UNARY_COPY, src.view(), ref.view(), 0, 0);
                ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                    << repro("copy", c, src, nullptr, fast, seed);
            }
}

TEST(Elementwise, inPlaceMatchesOutOfPlace) {
    for (Layout layout : {Layout::Dense, Layout::Transposed, Layout::Flipped})
        for (const std::vector<int64_t>& shape : {std::vector<int64_t>{17, 33}, {300, 400}}) {
            const Case c{shape, layout, Layout::Dense, layout};
            TestTensor x = make_tensor(FATHOM_F32, shape, layout);
            x.randomize(7);
            TestTensor y = make_tensor(FATHOM_F32, shape, layout);
            y.randomize(8);
            TestTensor want = x;
            fathom::unary_forward_ref(FATHOM_UNARY_TANH, x.view(), want.view(), 0, 0);
            ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_TANH, x.desc(), x.desc(), 0, 0));
            ASSERT_EQ("", storage_mismatch(x, want, 0)) << repro("tanh", c, x, nullptr, x, 7);

            fathom::binary_forward_ref(FATHOM_BINARY_SUB, x.view(), y.view(), want.view());
            ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_SUB, x.desc(), y.desc(), x.desc()));
            ASSERT_EQ("", storage_mismatch(x, want, 0)) << repro("sub a=dst", c, x, &y, x, 8);

            TestTensor want_b = y;
            fathom::binary_forward_ref(FATHOM_BINARY_DIV, x.view(), y.view(), want_b.view());
            ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_DIV, x.desc(), y.desc(), y.desc()));
            ASSERT_EQ("", storage_mismatch(y, want_b, 0)) << repro("div b=dst", c, x, &y, y, 8);
        }
}

// Memory-bound ops wake a second thread from 2 * 262144 elements on.
TEST(Elementwise, parallelPathMatchesReference) {
    int32_t saved = 0;
    fathom_get_num_threads(&saved);
    ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(2));
    const std::vector<int64_t> shape = {700, 1001};
    const std::vector<std::pair<Layout, Layout>> layouts = {
        {Layout::Dense, Layout::Dense}, {Layout::RowBcast, Layout::Transposed},
        {Layout::Scalar, Layout::ColBcast}, {Layout::Flipped, Layout::Padded}};
    uint32_t seed = 1700;
    for (const auto& [la, lb] : layouts)
        for (Layout lo : {Layout::Dense, Layout::Transposed}) {
            const Case c{shape, la, lb, lo};
            ++seed;
            TestTensor a = make_tensor(FATHOM_F32, shape, la);
            TestTensor b = make_tensor(FATHOM_F32, shape, lb);
            a.randomize(seed);
            b.randomize(seed + 1);
            TestTensor fast = make_tensor(FATHOM_F32, shape, lo), ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_MUL, a.desc(), b.desc(), fast.desc()));
            fathom::binary_forward_ref(FATHOM_BINARY_MUL, a.view(), b.view(), ref.view());
            ASSERT_EQ("", storage_mismatch(fast, ref, 0)) << repro("mul", c, a, &b, fast, seed);

            TestTensor mask = make_tensor(FATHOM_BOOL, shape, lo), mask_ref = mask;
            ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_LT, a.desc(), b.desc(), mask.desc()));
            fathom::binary_forward_ref(FATHOM_BINARY_LT, a.view(), b.view(), mask_ref.view());
            ASSERT_EQ("", storage_mismatch(mask, mask_ref, 0)) << repro("lt", c, a, &b, mask, seed);

            ASSERT_EQ(FATHOM_OK, fathom_where(mask.desc(), a.desc(), b.desc(), fast.desc()));
            fathom::where_forward_ref(mask.view(), a.view(), b.view(), ref.view());
            ASSERT_EQ("", storage_mismatch(fast, ref, 0)) << repro("where", c, a, &b, fast, seed);

            for (int32_t op : {FATHOM_UNARY_RELU, FATHOM_UNARY_COPY, FATHOM_UNARY_RANGE}) {
                ASSERT_EQ(FATHOM_OK, fathom_unary(op, a.desc(), fast.desc(), 0.5, 2.0));
                fathom::unary_forward_ref(op, a.view(), ref.view(), 0.5, 2.0);
                ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                    << repro(fathom::unary_op_name(op), c, a, nullptr, fast, seed);
            }
            TestTensor wide = make_tensor(FATHOM_F64, shape, lo), wide_ref = wide;
            ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_COPY, a.desc(), wide.desc(), 0, 0));
            fathom::unary_forward_ref(FATHOM_UNARY_COPY, a.view(), wide_ref.view(), 0, 0);
            ASSERT_EQ("", storage_mismatch(wide, wide_ref, 0))
                << repro("copy", c, a, nullptr, wide, seed);
        }
    fathom_set_num_threads(saved);
}

// --- hand-computed semantics ------------------------------------------------------

std::vector<double> unary_values(int32_t op, fathom_dtype dtype, const std::vector<double>& in,
                                 double alpha = 0, double beta = 0) {
    const int64_t n = static_cast<int64_t>(in.size());
    TestTensor src = make_tensor(dtype, {n}), dst = make_tensor(dtype, {n});
    for (int64_t i = 0; i < n; ++i) src.set({i}, in[i]);
    EXPECT_EQ(FATHOM_OK, fathom_unary(op, src.desc(), dst.desc(), alpha, beta))
        << fathom_last_error();
    std::vector<double> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(dst.at({i}));
    return out;
}

void expect_values(const std::vector<double>& got, const std::vector<double>& want,
                   const std::string& what) {
    ASSERT_EQ(want.size(), got.size()) << what;
    for (size_t i = 0; i < want.size(); ++i) {
        if (std::isnan(want[i])) {
            EXPECT_TRUE(std::isnan(got[i])) << what << " [" << i << "] = " << got[i];
        } else if (std::isinf(want[i])) {
            EXPECT_EQ(want[i], got[i]) << what << " [" << i << "]";
        } else {
            EXPECT_NEAR(want[i], got[i], 1e-6 * std::max(1.0, std::fabs(want[i])))
                << what << " [" << i << "]";
        }
    }
}

TEST(UnarySemantics, handComputedValues) {
    for (fathom_dtype dt : {FATHOM_F32, FATHOM_F64}) {
        const std::string t = std::string(" ") + fathom::dtype_name(dt);
        expect_values(unary_values(FATHOM_UNARY_SIGN, dt, {0.0, -0.0, -2.5, 3.0, kNaN}),
                      {0.0, 0.0, -1.0, 1.0, kNaN}, "sign" + t);
        expect_values(unary_values(FATHOM_UNARY_RELU, dt, {-1.0, 0.0, 2.0, kNaN}),
                      {0.0, 0.0, 2.0, kNaN}, "relu" + t);
        expect_values(unary_values(FATHOM_UNARY_SIGMOID, dt, {-1000.0, 0.0, 1000.0, -20.0}),
                      {0.0, 0.5, 1.0, 1.0 / (1.0 + std::exp(20.0))}, "sigmoid" + t);
        expect_values(unary_values(FATHOM_UNARY_SOFTPLUS, dt, {-1000.0, 0.0, 1000.0, 1.0}),
                      {0.0, std::log(2.0), 1000.0, std::log1p(std::exp(1.0))}, "softplus" + t);
        expect_values(unary_values(FATHOM_UNARY_CLAMP, dt, {-5.0, 0.5, 5.0, kNaN}, -1.0, 1.0),
                      {-1.0, 0.5, 1.0, kNaN}, "clamp" + t);
        expect_values(unary_values(FATHOM_UNARY_LEAKY_RELU, dt, {-2.0, 3.0}, 0.1),
                      {-0.2, 3.0}, "leaky_relu" + t);
        expect_values(unary_values(FATHOM_UNARY_AFFINE, dt, {1.0, -2.0}, 3.0, 0.5), {3.5, -5.5},
                      "affine" + t);
        expect_values(unary_values(FATHOM_UNARY_POW_SCALAR, dt, {2.0, -8.0, 4.0}, 3.0),
                      {8.0, -512.0, 64.0}, "pow_scalar" + t);
        expect_values(unary_values(FATHOM_UNARY_RSQRT, dt, {4.0, 0.0, -1.0}),
                      {0.5, INFINITY, kNaN}, "rsqrt" + t);
        expect_values(unary_values(FATHOM_UNARY_LOG, dt, {1.0, 0.0, -1.0}), {0.0, -INFINITY, kNaN},
                      "log" + t);
    }
}

TEST(UnarySemantics, fillIgnoresSrcAndRangeNumbersRowMajor) {
    // dst (2,3) stored column-major: RANGE still numbers it in row-major order.
    TestTensor dst = make_tensor(FATHOM_F32, {2, 3}, Layout::Transposed);
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_RANGE, nullptr, dst.desc(), 10.0, 0.5))
        << fathom_last_error();
    for (int64_t r = 0; r < 2; ++r)
        for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(10.0 + (r * 3 + c) * 0.5, dst.at({r, c}));
    TestTensor big = make_tensor(FATHOM_I64, {300, 400}, Layout::Transposed);
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_RANGE, nullptr, big.desc(), 0.0, 1.0));
    EXPECT_EQ(401.0, big.at({1, 1}));
    EXPECT_EQ(119999.0, big.at({299, 399}));
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_FILL, nullptr, dst.desc(), 7.0, 0.0));
    EXPECT_EQ(7.0, dst.at({1, 2}));
}

TEST(UnarySemantics, copyTruncatesSaturatesAndTestsForNonZero) {
    const std::vector<double> in = {-2.7, 2.7, kNaN, 1e10, -1e10, 0.0, 0.5};
    const int64_t n = static_cast<int64_t>(in.size());
    TestTensor src = make_tensor(FATHOM_F32, {n});
    for (int64_t i = 0; i < n; ++i) src.set({i}, in[i]);
    TestTensor i32 = make_tensor(FATHOM_I32, {n}), b = make_tensor(FATHOM_BOOL, {n});
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_COPY, src.desc(), i32.desc(), 0, 0));
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_COPY, src.desc(), b.desc(), 0, 0));
    const double imax = std::numeric_limits<int32_t>::max();
    const double imin = std::numeric_limits<int32_t>::min();
    const std::vector<double> want_i = {-2, 2, 0, imax, imin, 0, 0};
    const std::vector<double> want_b = {1, 1, 1, 1, 1, 0, 1};
    for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(want_i[i], i32.at({i})) << "int32 of " << in[i];
        EXPECT_EQ(want_b[i], b.at({i})) << "bool of " << in[i];
    }
}

TEST(BinarySemantics, maxMinPropagateNaNAndComparisonsWriteOneZero) {
    TestTensor a = make_tensor(FATHOM_F64, {4}), b = make_tensor(FATHOM_F64, {4});
    const double av[] = {kNaN, 1.0, 2.0, 3.0}, bv[] = {1.0, kNaN, 2.0, -3.0};
    for (int64_t i = 0; i < 4; ++i) a.set({i}, av[i]), b.set({i}, bv[i]);
    TestTensor out = make_tensor(FATHOM_F64, {4});
    ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_MAX, a.desc(), b.desc(), out.desc()));
    expect_values({out.at({0}), out.at({1}), out.at({2}), out.at({3})}, {kNaN, kNaN, 2.0, 3.0},
                  "max");
    ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_MIN, a.desc(), b.desc(), out.desc()));
    expect_values({out.at({0}), out.at({1}), out.at({2}), out.at({3})}, {kNaN, kNaN, 2.0, -3.0},
                  "min");
    ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_GE, a.desc(), b.desc(), out.desc()));
    expect_values({out.at({0}), out.at({1}), out.at({2}), out.at({3})}, {0, 0, 1, 1}, "ge f64");
    TestTensor mask = make_tensor(FATHOM_BOOL, {4});
    ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_NE, a.desc(), b.desc(), mask.desc()));
    expect_values({mask.at({0}), mask.at({1}), mask.at({2}), mask.at({3})}, {1, 1, 0, 1},
                  "ne bool");
    ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_POW, b.desc(), a.desc(), out.desc()));
    EXPECT_EQ(1.0, out.at({0}));  // std::pow(1, NaN) == 1
    EXPECT_EQ(4.0, out.at({2}));
}

}  // namespace
