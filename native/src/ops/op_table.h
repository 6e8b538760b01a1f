// The op tables of the elementwise and reduction families: one row per op,
// from which everything that lists ops is generated: the names in messages
// and fathom_op_name (which the Java enums UnaryOp, BinaryOp and ReduceOp are
// tested against), the dispatch switches of ops/elementwise.h and the cost
// classes that size thread grants. The C enums in fathom.h keep their
// explicit values (the ABI); the static_asserts below tie each row to them.
//
// Adding a unary op: its value in fathom_unary_op (fathom.h), one row here,
// its scalar definition in unary_value (ops/elementwise.h), the constant in
// java/.../internal/nativ/UnaryOp.java, and its Java forward and backward
// (tensor/ElementwiseOps.java).
#pragma once

#include <cstdint>
#include <iterator>

#include "fathom/fathom.h"

namespace fathom {

// How a unary op runs: kSpecial ops (copy, fill, range) have their own loops;
// kCheap and kCostly (a libm call per element, which pays for threads on
// smaller tensors) go through unary_value.
enum class UnaryKind { kSpecial, kCheap, kCostly };
// kArith writes the operands' dtype; kCompare writes 1/0 (BOOL or that dtype).
enum class BinaryKind { kArith, kCostly, kCompare };

// X(ENUM_SUFFIX, "name", kind)
#define FATHOM_UNARY_OP_TABLE(X)                  \
    X(COPY, "copy", UnaryKind::kSpecial)          \
    X(NEG, "neg", UnaryKind::kCheap)              \
    X(ABS, "abs", UnaryKind::kCheap)              \
    X(EXP, "exp", UnaryKind::kCostly)             \
    X(LOG, "log", UnaryKind::kCostly)             \
    X(SQRT, "sqrt", UnaryKind::kCheap)            \
    X(RSQRT, "rsqrt", UnaryKind::kCheap)          \
    X(SQUARE, "square", UnaryKind::kCheap)        \
    X(RECIPROCAL, "reciprocal", UnaryKind::kCheap) \
    X(SIGMOID, "sigmoid", UnaryKind::kCostly)     \
    X(TANH, "tanh", UnaryKind::kCostly)           \
    X(RELU, "relu", UnaryKind::kCheap)            \
    X(SIGN, "sign", UnaryKind::kCheap)            \
    X(SIN, "sin", UnaryKind::kCostly)             \
    X(COS, "cos", UnaryKind::kCostly)             \
    X(LOG1P, "log1p", UnaryKind::kCostly)         \
    X(EXPM1, "expm1", UnaryKind::kCostly)         \
    X(POW_SCALAR, "pow_scalar", UnaryKind::kCostly) \
    X(AFFINE, "affine", UnaryKind::kCheap)        \
    X(CLAMP, "clamp", UnaryKind::kCheap)          \
    X(LEAKY_RELU, "leaky_relu", UnaryKind::kCheap) \
    X(FILL, "fill", UnaryKind::kSpecial)          \
    X(RANGE, "range", UnaryKind::kSpecial)        \
    X(SOFTPLUS, "softplus", UnaryKind::kCostly)

#define FATHOM_BINARY_OP_TABLE(X)          \
    X(ADD, "add", BinaryKind::kArith)      \
    X(SUB, "sub", BinaryKind::kArith)      \
    X(MUL, "mul", BinaryKind::kArith)      \
    X(DIV, "div", BinaryKind::kArith)      \
    X(POW, "pow", BinaryKind::kCostly)     \
    X(MAX, "max", BinaryKind::kArith)      \
    X(MIN, "min", BinaryKind::kArith)      \
    X(EQ, "eq", BinaryKind::kCompare)      \
    X(NE, "ne", BinaryKind::kCompare)      \
    X(LT, "lt", BinaryKind::kCompare)      \
    X(LE, "le", BinaryKind::kCompare)      \
    X(GT, "gt", BinaryKind::kCompare)      \
    X(GE, "ge", BinaryKind::kCompare)

// X(ENUM_SUFFIX, "name")
#define FATHOM_REDUCE_OP_TABLE(X) \
    X(SUM, "sum")                 \
    X(MEAN, "mean")               \
    X(MAX, "max")                 \
    X(MIN, "min")                 \
    X(PROD, "prod")

namespace op_table {

struct UnaryRow {
    int32_t code;
    const char* name;
    UnaryKind kind;
};
struct BinaryRow {
    int32_t code;
    const char* name;
    BinaryKind kind;
};
struct ReduceRow {
    int32_t code;
    const char* name;
};

#define FATHOM_ROW(e, n, k) {FATHOM_UNARY_##e, n, k},
inline constexpr UnaryRow kUnary[] = {FATHOM_UNARY_OP_TABLE(FATHOM_ROW)};
#undef FATHOM_ROW
#define FATHOM_ROW(e, n, k) {FATHOM_BINARY_##e, n, k},
inline constexpr BinaryRow kBinary[] = {FATHOM_BINARY_OP_TABLE(FATHOM_ROW)};
#undef FATHOM_ROW
#define FATHOM_ROW(e, n) {FATHOM_REDUCE_##e, n},
inline constexpr ReduceRow kReduce[] = {FATHOM_REDUCE_OP_TABLE(FATHOM_ROW)};
#undef FATHOM_ROW

// Rows are in code order with no gaps, so a code indexes its row.
template <typename Row, size_t N>
constexpr bool dense(const Row (&rows)[N]) {
    for (size_t i = 0; i < N; ++i)
        if (rows[i].code != static_cast<int32_t>(i)) return false;
    return true;
}
static_assert(dense(kUnary), "FATHOM_UNARY_OP_TABLE rows follow fathom_unary_op's values");
static_assert(dense(kBinary), "FATHOM_BINARY_OP_TABLE rows follow fathom_binary_op's values");
static_assert(dense(kReduce), "FATHOM_REDUCE_OP_TABLE rows follow fathom_reduce_op's values");

// Index lookups, not pointers: GCC's -fsanitize=undefined makes a pointer
// comparison non-constant, and these run in `if constexpr`.
template <typename Row, size_t N>
constexpr bool has(const Row (&)[N], int32_t code) {
    return code >= 0 && code < static_cast<int32_t>(N);
}

}  // namespace op_table

// "exp", "add", "sum"; nullptr for a code outside the table.
constexpr const char* unary_op_name(int32_t op) {
    return op_table::has(op_table::kUnary, op) ? op_table::kUnary[op].name : nullptr;
}
constexpr const char* binary_op_name(int32_t op) {
    return op_table::has(op_table::kBinary, op) ? op_table::kBinary[op].name : nullptr;
}
constexpr const char* reduce_op_name(int32_t op) {
    return op_table::has(op_table::kReduce, op) ? op_table::kReduce[op].name : nullptr;
}

constexpr bool is_costly_unary(int32_t op) {
    return op_table::has(op_table::kUnary, op) &&
           op_table::kUnary[op].kind == UnaryKind::kCostly;
}
constexpr bool is_costly_binary(int32_t op) {
    return op_table::has(op_table::kBinary, op) &&
           op_table::kBinary[op].kind == BinaryKind::kCostly;
}
constexpr bool is_comparison(int32_t op) {
    return op_table::has(op_table::kBinary, op) &&
           op_table::kBinary[op].kind == BinaryKind::kCompare;
}
constexpr UnaryKind unary_kind(int32_t op) {
    return op_table::has(op_table::kUnary, op) ? op_table::kUnary[op].kind : UnaryKind::kSpecial;
}

}  // namespace fathom
