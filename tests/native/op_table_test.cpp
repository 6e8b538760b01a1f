// The op tables (ops/op_table.h): every row's name through fathom_op_name,
// codes outside the tables refused, and every row dispatching to a kernel
// that computes its scalar definition (one element, against unary_value /
// binary_value called directly).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "ops/elementwise.h"
#include "ops/op_table.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

std::string name_of(int32_t family, int32_t code) {
    char buf[32];
    if (fathom_op_name(family, code, buf, sizeof(buf)) != FATHOM_OK) return "";
    return buf;
}

TEST(OpTable, namesComeFromTheRows) {
    for (const auto& r : fathom::op_table::kUnary)
        EXPECT_EQ(r.name, name_of(FATHOM_OPS_UNARY, r.code));
    for (const auto& r : fathom::op_table::kBinary)
        EXPECT_EQ(r.name, name_of(FATHOM_OPS_BINARY, r.code));
    for (const auto& r : fathom::op_table::kReduce)
        EXPECT_EQ(r.name, name_of(FATHOM_OPS_REDUCE, r.code));
    EXPECT_EQ("exp", name_of(FATHOM_OPS_UNARY, FATHOM_UNARY_EXP));
    EXPECT_EQ("ge", name_of(FATHOM_OPS_BINARY, FATHOM_BINARY_GE));
    EXPECT_EQ("prod", name_of(FATHOM_OPS_REDUCE, FATHOM_REDUCE_PROD));
}

TEST(OpTable, codesOutsideTheTablesAreRefused) {
    char buf[32];
    const int32_t past[] = {static_cast<int32_t>(std::size(fathom::op_table::kUnary)),
                            static_cast<int32_t>(std::size(fathom::op_table::kBinary)),
                            static_cast<int32_t>(std::size(fathom::op_table::kReduce))};
    for (int32_t family = 0; family < 3; ++family) {
        EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_op_name(family, past[family], buf, sizeof(buf)));
        EXPECT_NE(nullptr, std::strstr(fathom_last_error(), "op_name: no op"));
        EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_op_name(family, -1, buf, sizeof(buf)));
    }
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_op_name(3, 0, buf, sizeof(buf)));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_op_name(FATHOM_OPS_UNARY, FATHOM_UNARY_SIGMOID, buf, 7));
    EXPECT_NE(nullptr, std::strstr(fathom_last_error(), "8 needed")) << fathom_last_error();
    EXPECT_EQ(FATHOM_OK, fathom_op_name(FATHOM_OPS_UNARY, FATHOM_UNARY_SIGMOID, buf, 8));
}


TEST(OpTable, everyUnaryRowDispatches) {
    const double x = 0.75;
    for (const auto& r : fathom::op_table::kUnary) {
        if (r.kind == fathom::UnaryKind::kSpecial) continue;
        TestTensor src = make_tensor(FATHOM_F64, {1}), dst = make_tensor(FATHOM_F64, {1});
        src.set_storage(0, x);
        dst.set_storage(0, std::nan(""));
        ASSERT_EQ(FATHOM_OK, fathom_unary(r.code, src.desc(), dst.desc(), 0.5, 0.25))
            << r.name << ": " << fathom_last_error();
        double want = 0;
        fathom::with_unary_op(r.code, [&](auto tag) {
            want = fathom::unary_value<decltype(tag)::value, double>(x, 0.5, 0.25);
        });
        EXPECT_DOUBLE_EQ(want, dst.storage_at(0)) << r.name;
    }
}

TEST(OpTable, everyBinaryRowDispatches) {
    const double a = 1.5, b = 0.5;
    for (const auto& r : fathom::op_table::kBinary) {
        TestTensor ta = make_tensor(FATHOM_F64, {1}), tb = make_tensor(FATHOM_F64, {1});
        TestTensor dst = make_tensor(FATHOM_F64, {1});
        ta.set_storage(0, a);
        tb.set_storage(0, b);
        dst.set_storage(0, std::nan(""));
        ASSERT_EQ(FATHOM_OK, fathom_binary(r.code, ta.desc(), tb.desc(), dst.desc()))
            << r.name << ": " << fathom_last_error();
        double want = 0;
        fathom::with_binary_op(r.code, [&](auto tag) {
            want = static_cast<double>(fathom::binary_value<decltype(tag)::value, double>(a, b));
        });
        EXPECT_DOUBLE_EQ(want, dst.storage_at(0)) << r.name;
    }
}

}  // namespace
