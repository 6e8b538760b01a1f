// Elementwise families: fathom_unary, fathom_binary, fathom_where.
//
// The scalar definition of every op lives here, once: the reference kernels
// (ops/ref/elementwise_ref.cpp, the spec) and the fast kernels
// (ops/elementwise.cpp) differ only in how they walk memory, and the
// hand-computed tests in tests/native pin the math itself. Forward only: the
// derivatives are formulas over these same ops, written in Java.
#pragma once

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

// --- scalar math -------------------------------------------------------------

// COPY's conversion. Float -> int truncates toward zero like a C++ cast, but NaN
// becomes 0 and out-of-range values saturate, as Java's (int)/(long) casts do
// (a plain C++ cast is undefined there). Anything -> BOOL is (x != 0).
template <typename D, typename S>
inline D cast_value(S x) {
    if constexpr (std::is_same_v<D, uint8_t>) {
        return x != S(0) ? 1 : 0;
    } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
        const double v = static_cast<double>(x);
        if (v != v) return 0;
        // 2^31 and 2^63 are exact doubles; anything at or above them saturates.
        constexpr double top = static_cast<double>(std::numeric_limits<D>::max()) + 1.0;
        if (v >= top) return std::numeric_limits<D>::max();
        if (v < -top) return std::numeric_limits<D>::min();
        return static_cast<D>(v);
    } else {
        return static_cast<D>(x);
    }
}

// dst = op(x) for the ops that read src (not COPY, FILL, RANGE).
template <int Op, typename T>
inline T unary_value(T x, T alpha, T beta) {
    if constexpr (Op == FATHOM_UNARY_NEG) return -x;
    else if constexpr (Op == FATHOM_UNARY_ABS) return std::abs(x);
    else if constexpr (Op == FATHOM_UNARY_EXP) return std::exp(x);
    else if constexpr (Op == FATHOM_UNARY_LOG) return std::log(x);
    else if constexpr (Op == FATHOM_UNARY_SQRT) return std::sqrt(x);
    else if constexpr (Op == FATHOM_UNARY_RSQRT) return T(1) / std::sqrt(x);
    else if constexpr (Op == FATHOM_UNARY_SQUARE) return x * x;
    else if constexpr (Op == FATHOM_UNARY_RECIPROCAL) return T(1) / x;
    else if constexpr (Op == FATHOM_UNARY_SIGMOID) {
        // NOTE: each branch calls exp of a non-positive number only. e/(1+e)
        // alone is inf/inf = NaN for large x; 1/(1+exp(-x)) alone flushes to 0
        // for x < -88 (f32) where e/(1+e) still has a representable value.
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    } else if constexpr (Op == FATHOM_UNARY_TANH) return std::tanh(x);
    // NOTE: written as x < 0 so that NaN fails the test and propagates.
    else if constexpr (Op == FATHOM_UNARY_RELU) return x < T(0) ? T(0) : x;
    // sign(+-0) = +-0 and sign(NaN) = NaN: only the non-zero signs are replaced.
    else if constexpr (Op == FATHOM_UNARY_SIGN) return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);
    else if constexpr (Op == FATHOM_UNARY_SIN) return std::sin(x);
    else if constexpr (Op == FATHOM_UNARY_COS) return std::cos(x);
    else if constexpr (Op == FATHOM_UNARY_LOG1P) return std::log1p(x);
    else if constexpr (Op == FATHOM_UNARY_EXPM1) return std::expm1(x);
    else if constexpr (Op == FATHOM_UNARY_POW_SCALAR) return std::pow(x, alpha);
    else if constexpr (Op == FATHOM_UNARY_AFFINE) return alpha * x + beta;
    else if constexpr (Op == FATHOM_UNARY_CLAMP) {
        const T lo = x < alpha ? alpha : x;  // NaN x stays NaN through both
        return beta < lo ? beta : lo;
    } else if constexpr (Op == FATHOM_UNARY_LEAKY_RELU) return x > T(0) ? x : alpha * x;
    else if constexpr (Op == FATHOM_UNARY_SOFTPLUS)
        // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exp never overflows.
        return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
    else static_assert(Op < 0, "not an elementwise unary op");
}

// Arithmetic ops return T; comparisons return bool (written as 1/0).
template <int Op, typename T>
inline auto binary_value(T a, T b) {
    if constexpr (Op == FATHOM_BINARY_ADD) return a + b;
    else if constexpr (Op == FATHOM_BINARY_SUB) return a - b;
    else if constexpr (Op == FATHOM_BINARY_MUL) return a * b;
    else if constexpr (Op == FATHOM_BINARY_DIV) return a / b;
    else if constexpr (Op == FATHOM_BINARY_POW) return std::pow(a, b);
    // NOTE: a NaN in either operand gives NaN (std::max would drop a NaN b).
    else if constexpr (Op == FATHOM_BINARY_MAX) return (a > b || a != a) ? a : b;
    else if constexpr (Op == FATHOM_BINARY_MIN) return (a < b || a != a) ? a : b;
    else if constexpr (Op == FATHOM_BINARY_EQ) return a == b;
    else if constexpr (Op == FATHOM_BINARY_NE) return a != b;
    else if constexpr (Op == FATHOM_BINARY_LT) return a < b;
    else if constexpr (Op == FATHOM_BINARY_LE) return a <= b;
    else if constexpr (Op == FATHOM_BINARY_GT) return a > b;
    else if constexpr (Op == FATHOM_BINARY_GE) return a >= b;
    else static_assert(Op < 0, "not a binary op");
}

// Ops whose per-element cost is a libm call rather than a load and a store;
// they justify threads on smaller tensors (see ops/strided_loop.h).
constexpr bool is_costly_unary(int32_t op) {
    switch (op) {
        case FATHOM_UNARY_EXP: case FATHOM_UNARY_LOG: case FATHOM_UNARY_SIGMOID:
        case FATHOM_UNARY_TANH: case FATHOM_UNARY_SIN: case FATHOM_UNARY_COS:
        case FATHOM_UNARY_LOG1P: case FATHOM_UNARY_EXPM1: case FATHOM_UNARY_POW_SCALAR:
        case FATHOM_UNARY_SOFTPLUS: return true;
        default: return false;
    }
}

constexpr bool is_comparison(int32_t op) {
    return op >= FATHOM_BINARY_EQ && op <= FATHOM_BINARY_GE;
}

// Calls fn(std::integral_constant<int, Op>{}) for a unary op that reads src.
template <typename Fn>
void with_unary_op(int32_t op, Fn&& fn) {
#define FATHOM_CASE(name) \
    case name: fn(std::integral_constant<int, name>{}); return;
    switch (op) {
        FATHOM_CASE(FATHOM_UNARY_NEG) FATHOM_CASE(FATHOM_UNARY_ABS) FATHOM_CASE(FATHOM_UNARY_EXP)
        FATHOM_CASE(FATHOM_UNARY_LOG) FATHOM_CASE(FATHOM_UNARY_SQRT)
        FATHOM_CASE(FATHOM_UNARY_RSQRT) FATHOM_CASE(FATHOM_UNARY_SQUARE)
        FATHOM_CASE(FATHOM_UNARY_RECIPROCAL) FATHOM_CASE(FATHOM_UNARY_SIGMOID)
        FATHOM_CASE(FATHOM_UNARY_TANH) FATHOM_CASE(FATHOM_UNARY_RELU)
        FATHOM_CASE(FATHOM_UNARY_SIGN) FATHOM_CASE(FATHOM_UNARY_SIN) FATHOM_CASE(FATHOM_UNARY_COS)
        FATHOM_CASE(FATHOM_UNARY_LOG1P) FATHOM_CASE(FATHOM_UNARY_EXPM1)
        FATHOM_CASE(FATHOM_UNARY_POW_SCALAR) FATHOM_CASE(FATHOM_UNARY_AFFINE)
        FATHOM_CASE(FATHOM_UNARY_CLAMP) FATHOM_CASE(FATHOM_UNARY_LEAKY_RELU)
        FATHOM_CASE(FATHOM_UNARY_SOFTPLUS)
        default: return;
    }
}

template <typename Fn>
void with_binary_op(int32_t op, Fn&& fn) {
    switch (op) {
        FATHOM_CASE(FATHOM_BINARY_ADD) FATHOM_CASE(FATHOM_BINARY_SUB) FATHOM_CASE(FATHOM_BINARY_MUL)
        FATHOM_CASE(FATHOM_BINARY_DIV) FATHOM_CASE(FATHOM_BINARY_POW) FATHOM_CASE(FATHOM_BINARY_MAX)
        FATHOM_CASE(FATHOM_BINARY_MIN) FATHOM_CASE(FATHOM_BINARY_EQ) FATHOM_CASE(FATHOM_BINARY_NE)
        FATHOM_CASE(FATHOM_BINARY_LT) FATHOM_CASE(FATHOM_BINARY_LE) FATHOM_CASE(FATHOM_BINARY_GT)
        FATHOM_CASE(FATHOM_BINARY_GE)
        default: return;
    }
#undef FATHOM_CASE
}

// --- validation ----------------------------------------------------------------

// "exp", "add"; nullptr for a value outside the enum.
inline const char* unary_op_name(int32_t op) {
    constexpr const char* kNames[] = {
        "copy",  "neg",   "abs",      "exp",     "log",   "sqrt",  "rsqrt",      "square",
        "reciprocal", "sigmoid", "tanh", "relu", "sign", "sin", "cos", "log1p",
        "expm1", "pow_scalar", "affine", "clamp", "leaky_relu", "fill", "range", "softplus"};
    return op >= 0 && op < static_cast<int32_t>(std::size(kNames)) ? kNames[op] : nullptr;
}
inline const char* binary_op_name(int32_t op) {
    constexpr const char* kNames[] = {"add", "sub", "mul", "div", "pow", "max", "min",
                                      "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
    return op >= 0 && op < static_cast<int32_t>(std::size(kNames)) ? kNames[op] : nullptr;
}

// Checked operands. src.data is null for FILL and RANGE.
struct UnaryArgs {
    std::string name;
    TensorView src, dst;
};
// Same shape; COPY casts between any dtypes; FILL and RANGE ignore src (it may be
// null) and write any dtype; every other op is F32/F64 with src.dtype == dst.dtype.
UnaryArgs check_unary(int32_t op, const fathom_tensor_desc* src, const fathom_tensor_desc* dst);

struct BinaryArgs {
    std::string name;
    TensorView a, b, dst;
};
// a, b F32/F64 of one dtype; dst the same dtype, or BOOL for comparisons.
BinaryArgs check_binary(int32_t op, const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                        const fathom_tensor_desc* dst);

struct WhereArgs {
    TensorView cond, a, b, dst;
};
// cond BOOL; a, b, dst one dtype (any).
WhereArgs check_where(const fathom_tensor_desc* cond, const fathom_tensor_desc* a,
                      const fathom_tensor_desc* b, const fathom_tensor_desc* dst);

// --- kernels (operands checked) -------------------------------------------------

// src (any shape S) -> dst (S)
void unary_forward_ref(int32_t op, const TensorView& src, const TensorView& dst, double alpha,
                       double beta);
void unary_forward(int32_t op, const TensorView& src, const TensorView& dst, double alpha,
                   double beta);
// a (S), b (S) -> dst (S)
void binary_forward_ref(int32_t op, const TensorView& a, const TensorView& b,
                        const TensorView& dst);
void binary_forward(int32_t op, const TensorView& a, const TensorView& b, const TensorView& dst);
// cond (S), a (S), b (S) -> dst (S)
void where_forward_ref(const TensorView& cond, const TensorView& a, const TensorView& b,
                       const TensorView& dst);
void where_forward(const TensorView& cond, const TensorView& a, const TensorView& b,
                   const TensorView& dst);

}  // namespace fathom
