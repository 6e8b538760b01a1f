// Reference matmul: the specification of fathom_matmul, a triple loop over the
// strided views with a double accumulator (the correctly rounded f32 result).
//   dst[.., r, c] = sum_q a[.., r, q] * b[.., q, c]
#include "ops/matmul.h"

#include <algorithm>

namespace fathom {

void matmul_forward_ref(const MatmulArgs& args) {
    const TensorView &a = args.a, &b = args.b, &dst = args.dst;
    const int nd = dst.ndim;
    const int64_t k = a.shape[nd - 1];
    with_float_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        for_each_index(nd, dst.shape, [&](const int64_t* out) {
            int64_t ia[FATHOM_MAX_DIMS], ib[FATHOM_MAX_DIMS];
            std::copy(out, out + nd, ia);
            std::copy(out, out + nd, ib);
            double acc = 0.0;
            for (int64_t q = 0; q < k; ++q) {
                ia[nd - 1] = q;
                ib[nd - 2] = q;
                acc += static_cast<double>(*a.at<const T>(ia)) * *b.at<const T>(ib);
            }
            *dst.at<T>(out) = static_cast<T>(acc);
        });
    });
}

}  // namespace fathom
