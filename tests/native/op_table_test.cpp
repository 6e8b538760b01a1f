// The op tables (ops/op_table.h): fathom_op_name answers every row and refuses
// anything else, and every row dispatches to its kernel through the C ABI.
// The rows are expanded here too, so a new row is tested without a new line.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "ops/elementwise.h"
#include "ops/op_table.h"
#include "ops/reduce.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

struct Row {
    int32_t kind;
    int32_t code;
    const char* name;
};

std::vector<Row> all_rows() {
    std::vector<Row> rows;
#define FATHOM_ROW(S, code, name, ...) rows.push_back({FATHOM_OP_KIND_UNARY, code, name});
    FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
#define FATHOM_ROW(S, code, name, ...) rows.push_back({FATHOM_OP_KIND_BINARY, code, name});
    FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
#define FATHOM_ROW(S, code, name, ...) rows.push_back({FATHOM_OP_KIND_REDUCE, code, name});
    FATHOM_REDUCE_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
    return rows;
}

bool same_value(double got, double want) {
    if (std::isnan(want)) return std::isnan(got);
    return got == want || std::abs(got - want) <= 1e-12 * std::abs(want);
}

const std::vector<double> kInputs = {-1.5, -0.25, 0.0, 0.5, 2.0};

}  // namespace

TEST(OpTable, opNameAnswersEveryRowWithItsName) {
    std::set<std::pair<int32_t, int32_t>> seen;
    for (const Row& r : all_rows()) {
        const char* name = nullptr;
        ASSERT_EQ(FATHOM_OK, fathom_op_name(r.kind, r.code, &name)) << fathom_last_error();
        EXPECT_STREQ(r.name, name) << "kind " << r.kind << " code " << r.code;
        EXPECT_TRUE(seen.insert({r.kind, r.code}).second) << "code " << r.code << " twice";
    }
}

TEST(OpTable, opNameRefusesUnknownCodesAndKindsAndLeavesNameAlone) {
    const char* const untouched = "untouched";
    for (const auto& [kind, code] : std::vector<std::pair<int32_t, int32_t>>{
             {FATHOM_OP_KIND_UNARY, -1},
             {FATHOM_OP_KIND_UNARY, FATHOM_UNARY_SOFTPLUS + 1},
             {FATHOM_OP_KIND_BINARY, FATHOM_BINARY_GE + 1},
             {FATHOM_OP_KIND_REDUCE, FATHOM_REDUCE_PROD + 1},
             {FATHOM_OP_KIND_REDUCE + 1, 0},
             {-1, 0}}) {
        const char* name = untouched;
        EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_op_name(kind, code, &name))
            << "kind " << kind << " code " << code;
        EXPECT_EQ(untouched, name);
        EXPECT_NE(std::string(fathom_last_error()).find("op_name"), std::string::npos)
            << fathom_last_error();
    }
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_op_name(FATHOM_OP_KIND_UNARY, 0, nullptr));
}

TEST(OpTable, messagesNameTheOpAsTheTableDoes) {
    TestTensor src = make_tensor(FATHOM_I64, {2}), dst = make_tensor(FATHOM_I64, {2});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_unary(FATHOM_UNARY_EXP, src.desc(), dst.desc(), 0, 0));
    EXPECT_NE(std::string(fathom_last_error()).find("unary(exp)"), std::string::npos)
        << fathom_last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_unary(-1, src.desc(), dst.desc(), 0, 0));
    EXPECT_NE(std::string(fathom_last_error()).find("unknown op -1"), std::string::npos)
        << fathom_last_error();
}

TEST(OpTable, withUnaryOpVisitsExactlyTheScalarMapRows) {
    int visited = 0;
#define FATHOM_ROW(S, code, name, K, ...)                                               \
    {                                                                                   \
        int got = -1;                                                                   \
        fathom::with_unary_op(code, [&](auto tag) { got = decltype(tag)::value; });     \
        if (fathom::is_scalar_map<fathom::unary_kernels::K>) {                          \
            EXPECT_EQ(code, got) << name;                                               \
            ++visited;                                                                  \
        } else {                                                                        \
            EXPECT_EQ(-1, got) << name << " is not a scalar map";                       \
        }                                                                               \
    }
    FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
    EXPECT_EQ(21, visited);  // all but copy, fill and range
    bool called = false;
    fathom::with_unary_op(FATHOM_UNARY_SOFTPLUS + 1, [&](auto) { called = true; });
    fathom::with_binary_op(FATHOM_BINARY_GE + 1, [&](auto) { called = true; });
    EXPECT_FALSE(called);
}

// What fathom_unary(Op) writes at row-major position i for input x.
template <int Op>
double unary_expected(fathom_dtype dtype, double x, int64_t i, double alpha, double beta) {
    using K = typename fathom::UnaryKernelOf<Op>::type;
    if constexpr (fathom::is_scalar_map<K>) {
        return dtype == FATHOM_F32
                   ? fathom::unary_value<Op, float>(float(x), float(alpha), float(beta))
                   : fathom::unary_value<Op, double>(x, alpha, beta);
    } else {
        double v = x;  // copy
        if (Op == FATHOM_UNARY_FILL) v = alpha;
        if (Op == FATHOM_UNARY_RANGE) v = alpha + static_cast<double>(i) * beta;
        return dtype == FATHOM_F32 ? double(float(v)) : v;
    }
}

TEST(OpTable, everyUnaryRowDispatchesToItsKernel) {
    const double alpha = 0.75, beta = 1.25;
    const int64_t n = static_cast<int64_t>(kInputs.size());
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
#define FATHOM_ROW(S, code, name, ...)                                                 \
    {                                                                                  \
        TestTensor src = make_tensor(dtype, {n}), dst = make_tensor(dtype, {n});       \
        for (int64_t i = 0; i < n; ++i) src.set({i}, kInputs[i]);                      \
        ASSERT_EQ(FATHOM_OK, fathom_unary(code, src.desc(), dst.desc(), alpha, beta))  \
            << name << ": " << fathom_last_error();                                    \
        for (int64_t i = 0; i < n; ++i) {                                              \
            const double want = unary_expected<code>(dtype, kInputs[i], i, alpha, beta); \
            EXPECT_TRUE(same_value(dst.at({i}), want))                                 \
                << name << " at " << kInputs[i] << ": " << dst.at({i}) << " vs " << want; \
        }                                                                              \
    }
        FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
    }
}

TEST(OpTable, everyBinaryRowDispatchesToItsKernel) {
    const int64_t n = static_cast<int64_t>(kInputs.size());
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
#define FATHOM_ROW(S, code, name, ...)                                                        \
    {                                                                                         \
        TestTensor a = make_tensor(dtype, {n}), b = make_tensor(dtype, {n});                  \
        TestTensor dst = make_tensor(dtype, {n});                                             \
        for (int64_t i = 0; i < n; ++i) {                                                     \
            a.set({i}, kInputs[i]);                                                           \
            b.set({i}, kInputs[n - 1 - i]);                                                   \
        }                                                                                     \
        ASSERT_EQ(FATHOM_OK, fathom_binary(code, a.desc(), b.desc(), dst.desc()))             \
            << name << ": " << fathom_last_error();                                           \
        for (int64_t i = 0; i < n; ++i) {                                                     \
            const double x = kInputs[i], y = kInputs[n - 1 - i];                              \
            const double want =                                                               \
                dtype == FATHOM_F32                                                           \
                    ? double(float(fathom::binary_value<code, float>(float(x), float(y))))    \
                    : double(fathom::binary_value<code, double>(x, y));                       \
            EXPECT_TRUE(same_value(dst.at({i}), want))                                        \
                << name << "(" << x << ", " << y << "): " << dst.at({i}) << " vs " << want;   \
        }                                                                                     \
    }
        FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
    }
}

TEST(OpTable, everyReduceRowDispatchesToItsKernel) {
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
#define FATHOM_ROW(S, code, name, ...)                                                          \
    {                                                                                           \
        TestTensor src = make_tensor(dtype, {3, 4});                                            \
        src.randomize(7 + code, -2.0, 2.0);                                                     \
        TestTensor fast = make_tensor(dtype, {3, 1}), ref = make_tensor(dtype, {3, 1});         \
        TestTensor fast_i = make_tensor(FATHOM_I64, {3, 1}), ref_i = make_tensor(FATHOM_I64, {3, 1}); \
        const bool with_indices = fathom::reduce_writes_indices(code);                          \
        ASSERT_EQ(FATHOM_OK, fathom_reduce(code, src.desc(), fast.desc(),                       \
                                           with_indices ? fast_i.desc() : nullptr))             \
            << name << ": " << fathom_last_error();                                             \
        const fathom::TensorView ref_i_view = ref_i.view();                                     \
        fathom::reduce_forward_ref(code, src.view(), ref.view(),                                \
                                   with_indices ? &ref_i_view : nullptr);                       \
        for (int64_t r = 0; r < 3; ++r) {                                                       \
            EXPECT_NEAR(ref.at({r, 0}), fast.at({r, 0}), 1e-6) << name << " row " << r;         \
            if (with_indices) EXPECT_EQ(ref_i.at({r, 0}), fast_i.at({r, 0})) << name;           \
        }                                                                                       \
    }
        FATHOM_REDUCE_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
    }
}
