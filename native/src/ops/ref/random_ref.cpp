// Reference random fill: the specification of fathom_random. Walks dst in
// row-major order, element i taking counter offset + i (see ops/random.h).
#include "ops/random.h"

namespace fathom {

void random_forward_ref(int32_t op, uint64_t seed, uint64_t offset, const TensorView& dst,
                        double alpha, double beta) {
    with_random_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        uint64_t counter = offset;
        for_each_index(dst.ndim, dst.shape, [&](const int64_t* i) {
            *dst.at<T>(i) = random_value<T>(op, seed, counter++, alpha, beta);
        });
    });
}

}  // namespace fathom
