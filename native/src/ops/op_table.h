// The op tables: one row per op of fathom_unary, fathom_binary and
// fathom_reduce. Everything else about an op is generated from its row:
//  - the dispatch switches (with_unary_op, with_binary_op in elementwise.h,
//    with_reducer in reduce.cpp),
//  - the names in messages ("unary(exp)") and fathom_op_name, through which
//    Java checks its own table (internal/nativ UnaryOp, BinaryOp, ReduceOp),
//  - the per-op properties (cost, result type, indices).
// The public enums in fathom.h keep their explicit values (ABI and JavaCPP);
// the static_asserts below tie every row's code to its enum constant.
//
// Adding an op (design.md, "adding an elementwise or reduction op"): the enum
// constant in fathom.h, one row here, and its kernel: a scalar functor in
// elementwise.h (unary, binary) or a reducer in reduce.cpp plus its case in
// the reference (ops/ref/reduce_ref.cpp); then its constant in Java's
// UnaryOp, BinaryOp or ReduceOp.
//
// Columns are plain tokens, resolved where a table is expanded:
//  X(SUFFIX, code, "name", Kernel, properties...)
#pragma once

#include <cstdint>

#include "fathom/fathom.h"

namespace fathom {

// How much one element costs; a libm call justifies threads on smaller tensors
// (see elementwise_work in ops/strided_loop.h).
enum class OpCost { load_store, libm };
// What a binary op writes: its operands' dtype, or 1/0 (BOOL or that dtype).
enum class BinaryResult { arithmetic, comparison };
// Whether a reduction can write the position of its result (I64 indices).
enum class ReduceIndices { none, position };

}  // namespace fathom

// Kernel: a functor of ops/elementwise.h, namespace fathom::unary_kernels;
// Copy, Fill and Range are not scalar maps of src and unary_forward handles
// them itself (Copy casts between dtypes, Fill and Range ignore src).
// property: OpCost.
#define FATHOM_UNARY_OP_TABLE(X)                                 \
    X(COPY, 0, "copy", Copy, load_store)                         \
    X(NEG, 1, "neg", Neg, load_store)                            \
    X(ABS, 2, "abs", Abs, load_store)                            \
    X(EXP, 3, "exp", Exp, libm)                                  \
    X(LOG, 4, "log", Log, libm)                                  \
    X(SQRT, 5, "sqrt", Sqrt, load_store)                         \
    X(RSQRT, 6, "rsqrt", Rsqrt, load_store)                      \
    X(SQUARE, 7, "square", Square, load_store)                   \
    X(RECIPROCAL, 8, "reciprocal", Reciprocal, load_store)       \
    X(SIGMOID, 9, "sigmoid", Sigmoid, libm)                      \
    X(TANH, 10, "tanh", Tanh, libm)                              \
    X(RELU, 11, "relu", Relu, load_store)                        \
    X(SIGN, 12, "sign", Sign, load_store)                        \
    X(SIN, 13, "sin", Sin, libm)                                 \
    X(COS, 14, "cos", Cos, libm)                                 \
    X(LOG1P, 15, "log1p", Log1p, libm)                           \
    X(EXPM1, 16, "expm1", Expm1, libm)                           \
    X(POW_SCALAR, 17, "pow_scalar", PowScalar, libm)             \
    X(AFFINE, 18, "affine", Affine, load_store)                  \
    X(CLAMP, 19, "clamp", Clamp, load_store)                     \
    X(LEAKY_RELU, 20, "leaky_relu", LeakyRelu, load_store)       \
    X(FILL, 21, "fill", Fill, load_store)                        \
    X(RANGE, 22, "range", Range, load_store)                     \
    X(SOFTPLUS, 23, "softplus", Softplus, libm)

// Kernel: a functor of ops/elementwise.h, namespace fathom::binary_kernels.
// properties: BinaryResult, OpCost.
#define FATHOM_BINARY_OP_TABLE(X)                 \
    X(ADD, 0, "add", Add, arithmetic, load_store) \
    X(SUB, 1, "sub", Sub, arithmetic, load_store) \
    X(MUL, 2, "mul", Mul, arithmetic, load_store) \
    X(DIV, 3, "div", Div, arithmetic, load_store) \
    X(POW, 4, "pow", Pow, arithmetic, libm)       \
    X(MAX, 5, "max", Max, arithmetic, load_store) \
    X(MIN, 6, "min", Min, arithmetic, load_store) \
    X(EQ, 7, "eq", Eq, comparison, load_store)    \
    X(NE, 8, "ne", Ne, comparison, load_store)    \
    X(LT, 9, "lt", Lt, comparison, load_store)    \
    X(LE, 10, "le", Le, comparison, load_store)   \
    X(GT, 11, "gt", Gt, comparison, load_store)   \
    X(GE, 12, "ge", Ge, comparison, load_store)

// Kernel: a reducer template of ops/reduce.cpp (instantiated per dtype).
// property: ReduceIndices.
#define FATHOM_REDUCE_OP_TABLE(X)             \
    X(SUM, 0, "sum", SumReducer, none)        \
    X(MEAN, 1, "mean", MeanReducer, none)     \
    X(MAX, 2, "max", MaxReducer, position)    \
    X(MIN, 3, "min", MinReducer, position)    \
    X(PROD, 4, "prod", ProdReducer, none)

namespace fathom {

// Every row's code is its enum constant in fathom.h.
#define FATHOM_CHECK_ROW(KIND, S, code, ...)                   \
    static_assert(FATHOM_##KIND##_##S == (code),               \
                  "op table row " #KIND "_" #S " has another code than fathom.h");
#define FATHOM_CHECK_UNARY(...) FATHOM_CHECK_ROW(UNARY, __VA_ARGS__)
#define FATHOM_CHECK_BINARY(...) FATHOM_CHECK_ROW(BINARY, __VA_ARGS__)
#define FATHOM_CHECK_REDUCE(...) FATHOM_CHECK_ROW(REDUCE, __VA_ARGS__)
FATHOM_UNARY_OP_TABLE(FATHOM_CHECK_UNARY)
FATHOM_BINARY_OP_TABLE(FATHOM_CHECK_BINARY)
FATHOM_REDUCE_OP_TABLE(FATHOM_CHECK_REDUCE)
#undef FATHOM_CHECK_UNARY
#undef FATHOM_CHECK_BINARY
#undef FATHOM_CHECK_REDUCE
#undef FATHOM_CHECK_ROW

// "exp", "add", "sum"; nullptr for a code outside the table.
constexpr const char* unary_op_name(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, ...) case code: return name;
        FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return nullptr;
    }
}
constexpr const char* binary_op_name(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, ...) case code: return name;
        FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return nullptr;
    }
}
constexpr const char* reduce_op_name(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, ...) case code: return name;
        FATHOM_REDUCE_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return nullptr;
    }
}

// The name of code in the table of kind (fathom_op_kind); nullptr if none.
constexpr const char* op_name(int32_t kind, int32_t code) {
    switch (kind) {
        case FATHOM_OP_KIND_UNARY: return unary_op_name(code);
        case FATHOM_OP_KIND_BINARY: return binary_op_name(code);
        case FATHOM_OP_KIND_REDUCE: return reduce_op_name(code);
        default: return nullptr;
    }
}

constexpr bool is_costly_unary(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, K, cost) case code: return OpCost::cost == OpCost::libm;
        FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return false;
    }
}

constexpr bool is_comparison(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, K, result, cost) \
    case code: return BinaryResult::result == BinaryResult::comparison;
        FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return false;
    }
}

constexpr bool is_costly_binary(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, K, result, cost) case code: return OpCost::cost == OpCost::libm;
        FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return false;
    }
}

constexpr bool reduce_writes_indices(int32_t op) {
    switch (op) {
#define FATHOM_ROW(S, code, name, K, indices) \
    case code: return ReduceIndices::indices == ReduceIndices::position;
        FATHOM_REDUCE_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return false;
    }
}

}  // namespace fathom
