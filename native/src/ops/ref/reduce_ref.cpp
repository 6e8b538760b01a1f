// Reference reductions: the specification of fathom_reduce. For each dst
// element, walk the reduced dimensions in row-major order and accumulate.
#include "ops/reduce.h"

namespace fathom {

namespace {

template <typename T>
void reduce_ref(int32_t op, const TensorView& src, const TensorView& dst,
                const TensorView* indices) {
    // Shape of the walk over one dst element's inputs: the reduced sizes, else 1.
    int64_t rshape[FATHOM_MAX_DIMS];
    int reduced_dim = -1;
    int64_t count = 1;
    for (int d = 0; d < src.ndim; ++d) {
        const bool reduced = dst.shape[d] == 1 && src.shape[d] != 1;
        rshape[d] = reduced ? src.shape[d] : 1;
        if (reduced) {
            reduced_dim = d;
            count *= src.shape[d];
        }
    }
    for_each_index(dst.ndim, dst.shape, [&](const int64_t* out) {
        double acc = op == FATHOM_REDUCE_PROD ? 1.0 : 0.0;
        T best = T(0);
        int64_t best_pos = -1;
        for_each_index(src.ndim, rshape, [&](const int64_t* r) {
            int64_t in[FATHOM_MAX_DIMS];
            for (int d = 0; d < src.ndim; ++d) in[d] = rshape[d] == 1 ? out[d] : r[d];
            const T x = *src.at<const T>(in);
            const int64_t pos = reduced_dim < 0 ? 0 : r[reduced_dim];
            switch (op) {
                case FATHOM_REDUCE_SUM:
                case FATHOM_REDUCE_MEAN: acc += x; break;
                case FATHOM_REDUCE_PROD: acc *= x; break;
                case FATHOM_REDUCE_MAX:
                    if (best_pos < 0 || replaces_extreme<true>(x, best)) best = x, best_pos = pos;
                    break;
                case FATHOM_REDUCE_MIN:
                    if (best_pos < 0 || replaces_extreme<false>(x, best)) best = x, best_pos = pos;
                    break;
            }
        });
        T& y = *dst.at<T>(out);
        switch (op) {
            case FATHOM_REDUCE_SUM:
            case FATHOM_REDUCE_PROD: y = static_cast<T>(acc); break;
            case FATHOM_REDUCE_MEAN: y = static_cast<T>(acc / static_cast<double>(count)); break;
            default:
                y = best;
                if (indices) *indices->at<int64_t>(out) = best_pos;
        }
    });
}

}  // namespace

void reduce_forward_ref(int32_t op, const TensorView& src, const TensorView& dst,
                        const TensorView* indices) {
    with_float_dtype(src.dtype, [&](auto t) { reduce_ref<decltype(t)>(op, src, dst, indices); });
}

}  // namespace fathom
