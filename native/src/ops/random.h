// fathom_random: counter-based random numbers (Philox4x32-10, Salmon et al.,
// "Parallel random numbers: as easy as 1, 2, 3", SC'11).
//
// Element i (row-major over dst's shape) is a pure function of (seed, offset + i):
//   key     = (low 32 bits of seed, high 32 bits of seed)
//   counter = (low 32 bits of offset + i, high 32 bits, 0, 0)
//   words w0..w3 = philox4x32_10(counter, key)
// so any thread count and any chunking of a tensor give the same numbers;
// Java advances `offset` by numel after each call. Per element:
//   u24  = (w0 >> 8) * 2^-24                      in [0, 1)  (UNIFORM f32)
//   u53  = ((w0 << 32 | w1) >> 11) * 2^-53        in [0, 1)  (UNIFORM f64, BERNOULLI)
//   NORMAL: Box-Muller on two uniforms of the same block, z = sqrt(-2 ln u1) cos(2 pi u2),
//     f32: u1 = 1 - u24(w0), u2 = u24(w1);  f64: u1 = 1 - u53(w0,w1), u2 = u53(w2,w3)
//     (u1 in (0, 1], so the log is finite); only the cosine half is used.
//   BERNOULLI: 1 if u53 < alpha, for every dst dtype, so an F32 mask and a BOOL
//     mask drawn with the same (seed, offset) agree.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

struct PhiloxBlock {
    uint32_t w[4];
};

inline PhiloxBlock philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                 uint32_t k1) {
    constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
    constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        const uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
        const uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
        const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
        const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += kWeyl0;
        k1 += kWeyl1;
    }
    return {{c0, c1, c2, c3}};
}

inline PhiloxBlock philox_block(uint64_t seed, uint64_t counter) {
    return philox4x32_10(static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0,
                         0, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

inline double uniform24(uint32_t w) { return (w >> 8) * 0x1.0p-24; }
inline double uniform53(uint32_t hi, uint32_t lo) {
    return static_cast<double>(((static_cast<uint64_t>(hi) << 32) | lo) >> 11) * 0x1.0p-53;
}

// The value of the element with this counter. T is float or double, or uint8_t
// (BOOL, checked to be BERNOULLI).
template <typename T>
inline T random_value(int32_t op, uint64_t seed, uint64_t counter, double alpha, double beta) {
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    const PhiloxBlock b = philox_block(seed, counter);
    if constexpr (std::is_floating_point_v<T>) {
        constexpr bool f32 = sizeof(T) == sizeof(float);
        if (op == FATHOM_RANDOM_UNIFORM) {
            const double u = f32 ? uniform24(b.w[0]) : uniform53(b.w[0], b.w[1]);
            const T v = static_cast<T>(alpha + (beta - alpha) * u);
            // NOTE: rounding to T can land on beta itself (e.g. [1,2) in f32 with
            // u just below 1); the interval is half-open, so step back below beta.
            const T hi = static_cast<T>(beta);
            return v < hi || !(alpha < beta) ? v : std::nextafter(hi, static_cast<T>(alpha));
        }
        if (op == FATHOM_RANDOM_NORMAL) {
            const double u1 = f32 ? 1.0 - uniform24(b.w[0]) : 1.0 - uniform53(b.w[0], b.w[1]);
            const double u2 = f32 ? uniform24(b.w[1]) : uniform53(b.w[2], b.w[3]);
            const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
            return static_cast<T>(alpha + beta * z);
        }
    }
    return uniform53(b.w[0], b.w[1]) < alpha ? T(1) : T(0);  // BERNOULLI (the only BOOL op)
}

// Calls fn(T{}) with dst's storage type: float, double, or uint8_t for BOOL.
template <typename Fn>
void with_random_dtype(fathom_dtype dtype, Fn&& fn) {
    if (dtype == FATHOM_BOOL) fn(uint8_t{});
    else with_float_dtype(dtype, fn);
}

// dst F32/F64 (BOOL for BERNOULLI); UNIFORM needs finite alpha <= beta, NORMAL
// finite alpha and beta >= 0, BERNOULLI alpha in [0, 1]; offset >= 0.
struct RandomArgs {
    std::string name;  // "random(normal)"
    TensorView dst;
};
RandomArgs check_random(int32_t op, int64_t offset, const fathom_tensor_desc* dst, double alpha,
                        double beta);

// dst (any shape): element i = random_value(op, seed, offset + i, alpha, beta).
void random_forward_ref(int32_t op, uint64_t seed, uint64_t offset, const TensorView& dst,
                        double alpha, double beta);
void random_forward(int32_t op, uint64_t seed, uint64_t offset, const TensorView& dst,
                    double alpha, double beta);

}  // namespace fathom
