// fathom_reduce: the fast walks (rows, columns, blocks, generic) against the
// reference kernel, then the conventions by hand (empty reductions, ties, NaN)
// and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/reduce.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kOps[] = {"sum", "mean", "max", "min", "prod"};

struct ReduceCase {
    std::vector<int64_t> shape;
    std::vector<int> reduced;  // dims reduced to size 1
    Layout src_layout;
    Layout dst_layout;
};

std::vector<ReduceCase> reduce_cases() {
    std::vector<ReduceCase> out;
    const Layout srcs[] = {Layout::Dense, Layout::Transposed, Layout::Padded, Layout::Flipped,
                           Layout::RowBcast};
    const std::vector<std::pair<std::vector<int64_t>, std::vector<std::vector<int>>>> small = {
        {{}, {{}}},
        {{1, 1}, {{0, 1}, {}}},
        {{17, 33}, {{1}, {0}, {0, 1}, {}}},
        {{3, 1, 5}, {{0}, {2}, {0, 2}, {1}}},
        {{4, 5, 6}, {{0, 2}, {1}, {0, 1, 2}, {2}}},
        {{0, 3}, {{0}, {1}}},
        {{5, 0}, {{1}, {0}}},
    };
    for (const auto& [shape, masks] : small)
        for (const auto& mask : masks)
            for (Layout s : srcs)
                for (Layout d : {Layout::Dense, Layout::Transposed, Layout::Padded})
                    out.push_back({shape, mask, s, d});
    // The walks on two threads (from 2 * 262144 elements): blocks (one output),
    // rows, columns (narrow and wide), generic.
    out.push_back({{600000}, {0}, Layout::Dense, Layout::Dense});
    out.push_back({{600000}, {0}, Layout::Padded, Layout::Dense});
    out.push_back({{2, 300000}, {1}, Layout::Dense, Layout::Dense});
    out.push_back({{300000, 3}, {0}, Layout::Dense, Layout::Dense});
    out.push_back({{3, 200000}, {0}, Layout::Dense, Layout::Padded});
    out.push_back({{700, 800}, {1}, Layout::Transposed, Layout::Dense});
    out.push_back({{700, 800}, {0, 1}, Layout::Transposed, Layout::Dense});
    out.push_back({{80, 90, 100}, {0, 2}, Layout::Dense, Layout::Dense});
    return out;
}

std::vector<int64_t> reduced_shape(const ReduceCase& c) {
    std::vector<int64_t> s = c.shape;
    for (int d : c.reduced) s[d] = 1;
    return s;
}

int64_t reduced_count(const ReduceCase& c) {
    int64_t n = 1;
    for (int d : c.reduced) n *= c.shape[d] == 1 ? 1 : c.shape[d];
    return n;
}

std::string repro(int32_t op, const ReduceCase& c, const TestTensor& src, const TestTensor& dst,
                  bool indices, uint32_t seed) {
    std::ostringstream os;
    os << "repro: reduce(" << kOps[op] << ") src=" << src.str() << " ("
       << layout_name(c.src_layout) << ") dst=" << dst.str() << " ("
       << layout_name(c.dst_layout) << ") indices=" << indices << " seed=" << seed;
    return os.str();
}

class ReduceMatchesReference : public ::testing::TestWithParam<int32_t> {};

TEST_P(ReduceMatchesReference, matchesReference) {
    const int32_t op = GetParam();
    const bool extreme = op == FATHOM_REDUCE_MAX || op == FATHOM_REDUCE_MIN;
    uint32_t seed = 2000;
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64})
        for (const ReduceCase& c : reduce_cases()) {
            ++seed;
            const int64_t count = reduced_count(c);
            if (extreme && count == 0) continue;  // an error, tested below
            int reduced_dims = 0;
            for (int d : c.reduced) reduced_dims += c.shape[d] != 1;
            TestTensor src = make_tensor(dtype, c.shape, c.src_layout);
            if (op == FATHOM_REDUCE_PROD) src.randomize(seed, 0.99, 1.01);
            else src.randomize(seed, -1, 1);
            TestTensor abs_src = src;
            for (int64_t k = 0; k < src.storage_elements(); ++k)
                abs_src.set_storage(k, std::fabs(src.storage_at(k)));
            const std::vector<int64_t> out_shape = reduced_shape(c);
            for (bool with_indices : {false, true}) {
                if (with_indices && !(extreme && reduced_dims == 1)) continue;
                TestTensor fast = make_tensor(dtype, out_shape, c.dst_layout);
                fast.randomize(seed + 1);
                TestTensor ref = fast, sum_abs = fast;
                TestTensor fast_idx = make_tensor(FATHOM_I64, out_shape, c.dst_layout);
                TestTensor ref_idx = fast_idx;
                ASSERT_EQ(FATHOM_OK, fathom_reduce(op, src.desc(), fast.desc(),
                                                   with_indices ? fast_idx.desc() : nullptr))
                    << fathom_last_error() << "\n" << repro(op, c, src, fast, with_indices, seed);
                const fathom::TensorView ref_idx_view = ref_idx.view();
                fathom::reduce_forward_ref(op, src.view(), ref.view(),
                                           with_indices ? &ref_idx_view : nullptr);
                fathom::reduce_forward_ref(FATHOM_REDUCE_SUM, abs_src.view(), sum_abs.view(),
                                           nullptr);
                const double eps = eps_of(dtype);
                std::string bad;  // the first mismatch
                fathom::for_each_index(fast.view().ndim, fast.view().shape, [&](const int64_t* i) {
                    const std::vector<int64_t> at(i, i + fast.view().ndim);
                    const double got = fast.at(at), want = ref.at(at);
                    double bound = 4 * eps * std::fabs(want);
                    if (op == FATHOM_REDUCE_SUM) bound += 2 * count * DBL_EPSILON * sum_abs.at(at);
                    if (op == FATHOM_REDUCE_MEAN) bound += 2 * DBL_EPSILON * sum_abs.at(at);
                    if (op == FATHOM_REDUCE_PROD)
                        bound += 2 * count * DBL_EPSILON * std::fabs(want);
                    if (extreme) bound = 0;
                    const bool same = (std::isnan(got) && std::isnan(want)) ||
                                      std::fabs(got - want) <= bound;
                    const bool same_index = !with_indices || ref_idx.at(at) == fast_idx.at(at);
                    if (bad.empty() && !(same && same_index)) {
                        std::ostringstream os;
                        os.precision(17);
                        os << "dst" << fathom::shape_str(i, fast.view().ndim) << ": got " << got
                           << " want " << want << " (bound " << bound << ")";
                        if (with_indices)
                            os << ", index got " << fast_idx.at(at) << " want " << ref_idx.at(at);
                        bad = os.str();
                    }
                });
                ASSERT_EQ("", bad) << repro(op, c, src, fast, with_indices, seed);
            }
        }
}

INSTANTIATE_TEST_SUITE_P(AllOps, ReduceMatchesReference, ::testing::Range(0, 5),
                         [](const auto& info) { return std::string(kOps[info.param]); });

// --- conventions, by hand ------------------------------------------------------------

double reduce_1d(int32_t op, const std::vector<double>& values, int64_t* index = nullptr) {
    const int64_t n = static_cast<int64_t>(values.size());
    TestTensor src = make_tensor(FATHOM_F32, {n}), dst = make_tensor(FATHOM_F32, {1});
    TestTensor idx = make_tensor(FATHOM_I64, {1});
    for (int64_t i = 0; i < n; ++i) src.set({i}, values[i]);
    EXPECT_EQ(FATHOM_OK, fathom_reduce(op, src.desc(), dst.desc(), index ? idx.desc() : nullptr))
        << fathom_last_error();
    if (index) *index = static_cast<int64_t>(idx.at({0}));
    return dst.at({0});
}

TEST(ReduceSemantics, emptyReductions) {
    EXPECT_EQ(0.0, reduce_1d(FATHOM_REDUCE_SUM, {}));
    EXPECT_EQ(1.0, reduce_1d(FATHOM_REDUCE_PROD, {}));
    EXPECT_TRUE(std::isnan(reduce_1d(FATHOM_REDUCE_MEAN, {})));
    TestTensor src = make_tensor(FATHOM_F32, {0}), dst = make_tensor(FATHOM_F32, {1});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_reduce(FATHOM_REDUCE_MAX, src.desc(), dst.desc(), nullptr));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos,
              msg.find("reduce(max): no elements to reduce (src [0] -> dst [1])"))
        << msg;
}

TEST(ReduceSemantics, tiesPickTheFirstPositionAndNaNWins) {
    int64_t index = -1;
    EXPECT_EQ(3.0, reduce_1d(FATHOM_REDUCE_MAX, {1, 3, 3, 2}, &index));
    EXPECT_EQ(1, index);
    EXPECT_EQ(-1.0, reduce_1d(FATHOM_REDUCE_MIN, {-1, 3, -1, 2}, &index));
    EXPECT_EQ(0, index);
    EXPECT_TRUE(std::isnan(reduce_1d(FATHOM_REDUCE_MAX, {1, kNaN, 5, kNaN}, &index)));
    EXPECT_EQ(1, index);
    EXPECT_TRUE(std::isnan(reduce_1d(FATHOM_REDUCE_MIN, {1, -5, kNaN}, &index)));
    EXPECT_EQ(2, index);
    // Ties across the parallel blocks of a long run: the first block's wins.
    std::vector<double> long_run(200000, 0.5);
    long_run[150000] = long_run[40000] = long_run[190000] = 9.0;
    EXPECT_EQ(9.0, reduce_1d(FATHOM_REDUCE_MAX, long_run, &index));
    EXPECT_EQ(40000, index);
    long_run[170000] = kNaN;
    long_run[120000] = kNaN;
    EXPECT_TRUE(std::isnan(reduce_1d(FATHOM_REDUCE_MAX, long_run, &index)));
    EXPECT_EQ(120000, index);
}

TEST(ReduceSemantics, f32SumsAccumulateInDouble) {
    // 1 + 1e6 * 1e-8 ... in f32 steps 1.0f + 1e-8f == 1.0f, so a float accumulator stays at 1.
    std::vector<double> v(1000001, 1e-8);
    v[0] = 1.0;
    EXPECT_NEAR(1.01, reduce_1d(FATHOM_REDUCE_SUM, v), 1e-6);
}

TEST(ReduceSemantics, resultsDoNotDependOnTheThreadCount) {
    int32_t saved = 0;
    fathom_get_num_threads(&saved);
    TestTensor src = make_tensor(FATHOM_F32, {3, 300000});
    src.randomize(11);
    std::vector<TestTensor> outs;
    for (int threads : {1, 2, 3}) {
        ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(threads));
        for (std::vector<int64_t> shape : {std::vector<int64_t>{1, 1}, {3, 1}, {1, 300000}}) {
            outs.push_back(make_tensor(FATHOM_F32, shape));
            ASSERT_EQ(FATHOM_OK, fathom_reduce(FATHOM_REDUCE_SUM, src.desc(),
                                               outs.back().desc(), nullptr));
        }
    }
    fathom_set_num_threads(saved);
    for (size_t i = 3; i < outs.size(); ++i)
        EXPECT_EQ("", storage_mismatch(outs[i], outs[i % 3], 0)) << "run " << i;
}

TEST(ReduceSemantics, indicesAreRefusedUnlessOneDimReducesByMaxOrMin) {
    TestTensor src = make_tensor(FATHOM_F32, {2, 3}), both = make_tensor(FATHOM_F32, {1, 1});
    TestTensor idx = make_tensor(FATHOM_I64, {1, 1});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_reduce(FATHOM_REDUCE_MAX, src.desc(), both.desc(), idx.desc()));
    std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos,
              msg.find("reduce(max): indices need exactly one reduced dimension"))
        << msg;
    EXPECT_NE(std::string::npos, msg.find("[2,3]")) << msg;
    TestTensor row = make_tensor(FATHOM_F32, {2, 1}), row_idx = make_tensor(FATHOM_I64, {2, 1});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_reduce(FATHOM_REDUCE_SUM, src.desc(), row.desc(), row_idx.desc()));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("reduce(sum)"));
    TestTensor bad = make_tensor(FATHOM_F32, {2, 2});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_reduce(FATHOM_REDUCE_SUM, src.desc(), bad.desc(), nullptr));
    msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("reduce(sum): dst [2,2] does not match src [2,3]"))
        << msg;
}

}  // namespace
