// Elementwise families: fathom_unary, fathom_binary, fathom_where.
//
// The ops are the rows of ops/op_table.h; the scalar kernel of every op lives
// here, once (the functors below, named by the rows): the reference kernels
// (ops/ref/elementwise_ref.cpp, the spec) and the fast kernels
// (ops/elementwise.cpp) differ only in how they walk memory, and the
// hand-computed tests in tests/native pin the math itself. Forward only: the
// derivatives are formulas over these same ops, written in Java.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"
#include "ops/op_table.h"

// The scalar kernels compile for the GPU too (ops/cuda/elementwise_cuda.cu),
// so that one formula per op serves every backend.
#ifdef __CUDACC__
#define FATHOM_HD __host__ __device__
#else
#define FATHOM_HD
#endif

namespace fathom {

// --- scalar math -------------------------------------------------------------

// COPY's conversion. Float -> int truncates toward zero like a C++ cast, but NaN
// becomes 0 and out-of-range values saturate, as Java's (int)/(long) casts do
// (a plain C++ cast is undefined there). Anything -> BOOL is (x != 0).
template <typename D, typename S>
FATHOM_HD inline D cast_value(S x) {
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

// The scalar kernels named by the rows of ops/op_table.h. A unary kernel is
// T apply(T x, T alpha, T beta), a binary one apply(T a, T b) (T, or bool for
// the comparisons, written as 1/0).
namespace unary_kernels {

// The rows that do not map src through a scalar function: unary_forward and
// the reference run them by name (COPY casts between dtypes; FILL and RANGE
// ignore src).
struct NotAMap {};
struct Copy : NotAMap {};
struct Fill : NotAMap {};
struct Range : NotAMap {};

struct Neg { template <typename T> FATHOM_HD static T apply(T x, T, T) { return -x; } };
struct Abs { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::abs(x); } };
struct Exp { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::exp(x); } };
struct Log { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::log(x); } };
struct Sqrt { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::sqrt(x); } };
struct Rsqrt { template <typename T> FATHOM_HD static T apply(T x, T, T) { return T(1) / std::sqrt(x); } };
struct Square { template <typename T> FATHOM_HD static T apply(T x, T, T) { return x * x; } };
struct Reciprocal { template <typename T> FATHOM_HD static T apply(T x, T, T) { return T(1) / x; } };
struct Sigmoid {
    template <typename T>
    FATHOM_HD static T apply(T x, T, T) {
        // NOTE: each branch calls exp of a non-positive number only. e/(1+e)
        // alone is inf/inf = NaN for large x; 1/(1+exp(-x)) alone flushes to 0
        // for x < -88 (f32) where e/(1+e) still has a representable value.
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
};
struct Tanh { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::tanh(x); } };
// NOTE: written as x < 0 so that NaN fails the test and propagates.
struct Relu { template <typename T> FATHOM_HD static T apply(T x, T, T) { return x < T(0) ? T(0) : x; } };
// sign(+-0) = +-0 and sign(NaN) = NaN: only the non-zero signs are replaced.
struct Sign {
    template <typename T>
    FATHOM_HD static T apply(T x, T, T) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x); }
};
struct Sin { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::sin(x); } };
struct Cos { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::cos(x); } };
struct Log1p { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::log1p(x); } };
struct Expm1 { template <typename T> FATHOM_HD static T apply(T x, T, T) { return std::expm1(x); } };
struct PowScalar {
    template <typename T> FATHOM_HD static T apply(T x, T alpha, T) { return std::pow(x, alpha); }
};
struct Affine {
    template <typename T> FATHOM_HD static T apply(T x, T alpha, T beta) { return alpha * x + beta; }
};
struct Clamp {
    template <typename T>
    FATHOM_HD static T apply(T x, T alpha, T beta) {
        const T lo = x < alpha ? alpha : x;  // NaN x stays NaN through both
        return beta < lo ? beta : lo;
    }
};
struct LeakyRelu {
    template <typename T> FATHOM_HD static T apply(T x, T alpha, T) { return x > T(0) ? x : alpha * x; }
};
struct Softplus {
    // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exp never overflows.
    template <typename T>
    FATHOM_HD static T apply(T x, T, T) { return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x))); }
};

}  // namespace unary_kernels

namespace binary_kernels {

struct Add { template <typename T> FATHOM_HD static T apply(T a, T b) { return a + b; } };
struct Sub { template <typename T> FATHOM_HD static T apply(T a, T b) { return a - b; } };
struct Mul { template <typename T> FATHOM_HD static T apply(T a, T b) { return a * b; } };
struct Div { template <typename T> FATHOM_HD static T apply(T a, T b) { return a / b; } };
struct Pow { template <typename T> FATHOM_HD static T apply(T a, T b) { return std::pow(a, b); } };
// NOTE: a NaN in either operand gives NaN (std::max would drop a NaN b).
struct Max { template <typename T> FATHOM_HD static T apply(T a, T b) { return (a > b || a != a) ? a : b; } };
struct Min { template <typename T> FATHOM_HD static T apply(T a, T b) { return (a < b || a != a) ? a : b; } };
struct Eq { template <typename T> FATHOM_HD static bool apply(T a, T b) { return a == b; } };
struct Ne { template <typename T> FATHOM_HD static bool apply(T a, T b) { return a != b; } };
struct Lt { template <typename T> FATHOM_HD static bool apply(T a, T b) { return a < b; } };
struct Le { template <typename T> FATHOM_HD static bool apply(T a, T b) { return a <= b; } };
struct Gt { template <typename T> FATHOM_HD static bool apply(T a, T b) { return a > b; } };
struct Ge { template <typename T> FATHOM_HD static bool apply(T a, T b) { return a >= b; } };

}  // namespace binary_kernels

// The kernel of each row, by code.
template <int Op> struct UnaryKernelOf;
template <int Op> struct BinaryKernelOf;
#define FATHOM_ROW(S, code, name, K, ...) \
    template <> struct UnaryKernelOf<code> { using type = unary_kernels::K; };
FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
#define FATHOM_ROW(S, code, name, K, ...) \
    template <> struct BinaryKernelOf<code> { using type = binary_kernels::K; };
FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW

template <typename K>
constexpr bool is_scalar_map = !std::is_base_of_v<unary_kernels::NotAMap, K>;

// dst = op(x) for the ops that read src (not COPY, FILL, RANGE).
template <int Op, typename T>
FATHOM_HD inline T unary_value(T x, T alpha, T beta) {
    using K = typename UnaryKernelOf<Op>::type;
    static_assert(is_scalar_map<K>, "not an elementwise unary op");
    return K::apply(x, alpha, beta);
}

// Arithmetic ops return T; comparisons return bool (written as 1/0).
template <int Op, typename T>
FATHOM_HD inline auto binary_value(T a, T b) {
    return BinaryKernelOf<Op>::type::apply(a, b);
}

// Calls fn(std::integral_constant<int, Op>{}) for a unary op that reads src
// (a row whose kernel is a scalar map); does nothing for any other code.
template <typename Fn>
void with_unary_op(int32_t op, Fn&& fn) {
    switch (op) {
#define FATHOM_ROW(S, code, name, K, ...)                                  \
    case code:                                                             \
        if constexpr (is_scalar_map<unary_kernels::K>)                     \
            fn(std::integral_constant<int, code>{});                       \
        return;
        FATHOM_UNARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return;
    }
}

// Calls fn(std::integral_constant<int, Op>{}) for a binary op; nothing otherwise.
template <typename Fn>
void with_binary_op(int32_t op, Fn&& fn) {
    switch (op) {
#define FATHOM_ROW(S, code, name, ...) \
    case code: fn(std::integral_constant<int, code>{}); return;
        FATHOM_BINARY_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return;
    }
}

// --- validation ----------------------------------------------------------------

// Checked operands. src.data is null for FILL and RANGE.
struct UnaryArgs {
    std::string name;
    TensorView src, dst;
};
// Same shape; COPY casts between any dtypes; FILL and RANGE ignore src (it may be
// null) and write any dtype; every other op is F32/F64 with src.dtype == dst.dtype.
// `device` is the device code the call runs on (the output's); every operand
// must be there.
UnaryArgs check_unary(int32_t op, const fathom_tensor_desc* src, const fathom_tensor_desc* dst,
                      int32_t device = FATHOM_DEVICE_CPU);

struct BinaryArgs {
    std::string name;
    TensorView a, b, dst;
};
// a, b F32/F64 of one dtype; dst the same dtype, or BOOL for comparisons.
BinaryArgs check_binary(int32_t op, const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                        const fathom_tensor_desc* dst, int32_t device = FATHOM_DEVICE_CPU);

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
// The same on a GPU (ops/cuda/elementwise_cuda.cu): operands in the memory of
// the device of their views, any strides; every op of the tables (COPY casts,
// FILL, RANGE included). A CPU build fails with FATHOM_UNSUPPORTED.
void unary_forward_cuda(int32_t op, const TensorView& src, const TensorView& dst, double alpha,
                        double beta);
void binary_forward_cuda(int32_t op, const TensorView& a, const TensorView& b,
                         const TensorView& dst);
// cond (S), a (S), b (S) -> dst (S)
void where_forward_ref(const TensorView& cond, const TensorView& a, const TensorView& b,
                       const TensorView& dst);
void where_forward(const TensorView& cond, const TensorView& a, const TensorView& b,
                   const TensorView& dst);

}  // namespace fathom
