// Fast random fill and the checks for fathom_random: the same per-element
// function as the reference (ops/random.h), over a row-major walk split across
// threads; each chunk knows its first linear index, hence its counters.
#include "ops/random.h"

#include <cmath>

#include "core/error.h"
#include "core/threads.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

constexpr const char* kRandomNames[] = {"uniform", "normal", "bernoulli"};
constexpr int kRandomOps = sizeof(kRandomNames) / sizeof(kRandomNames[0]);

}  // namespace

RandomArgs check_random(int32_t op, int64_t offset, const fathom_tensor_desc* dst, double alpha,
                        double beta) {
    if (op < 0 || op >= kRandomOps) fail(FATHOM_INVALID_ARGUMENT, "random: unknown op ", op);
    RandomArgs args;
    args.name = std::string("random(") + kRandomNames[op] + ")";
    const char* name = args.name.c_str();
    args.dst = output_view(name, "dst", dst);
    const TensorView& d = args.dst;
    if (d.dtype != FATHOM_F32 && d.dtype != FATHOM_F64 &&
        !(op == FATHOM_RANDOM_BERNOULLI && d.dtype == FATHOM_BOOL))
        fail(FATHOM_INVALID_ARGUMENT, name, ": dtype ", dtype_name(d.dtype), " not supported (dst ",
             shape_str(d), ")");
    if (offset < 0) fail(FATHOM_INVALID_ARGUMENT, name, ": offset=", offset, " is negative");
    switch (op) {
        case FATHOM_RANDOM_UNIFORM:
            if (!std::isfinite(alpha) || !std::isfinite(beta) || alpha > beta)
                fail(FATHOM_INVALID_ARGUMENT, name, ": needs finite low <= high, got [", alpha,
                     ", ", beta, ")");
            break;
        case FATHOM_RANDOM_NORMAL:
            if (!std::isfinite(alpha) || !std::isfinite(beta) || beta < 0)
                fail(FATHOM_INVALID_ARGUMENT, name, ": needs a finite mean and std >= 0, got mean=",
                     alpha, " std=", beta);
            break;
        default:
            if (!(alpha >= 0.0 && alpha <= 1.0))
                fail(FATHOM_INVALID_ARGUMENT, name, ": probability ", alpha, " is outside [0, 1]");
    }
    return args;
}

void random_forward(int32_t op, uint64_t seed, uint64_t offset, const TensorView& dst,
                    double alpha, double beta) {
    // Ten Philox rounds per element (plus log and cos for NORMAL): a costly op.
    ThreadGrant grant(elementwise_work(dst.numel(), /*costly=*/true));
    const StridedLoop loop = make_loop({&dst}, /*keep_order=*/true);
    with_random_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        run_loop(loop, grant.threads(),
                 [&](int64_t first, int64_t n, char* const* p, const int64_t* s) {
                     const uint64_t base = offset + static_cast<uint64_t>(first);
                     for (int64_t i = 0; i < n; ++i)
                         *reinterpret_cast<T*>(p[0] + i * s[0]) =
                             random_value<T>(op, seed, base + i, alpha, beta);
                 });
    });
}

}  // namespace fathom
