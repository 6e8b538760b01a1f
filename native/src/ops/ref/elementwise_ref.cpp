// Reference elementwise kernels: the specification of fathom_unary,
// fathom_binary and fathom_where. One N-d index walk per call, the offset of
// every operand recomputed from its strides at each element; slow and plain.
#include "ops/elementwise.h"

namespace fathom {

namespace {

template <typename D, typename S>
void copy_ref(const TensorView& src, const TensorView& dst) {
    for_each_index(dst.ndim, dst.shape, [&](const int64_t* i) {
        *dst.at<D>(i) = cast_value<D>(*src.at<const S>(i));
    });
}

}  // namespace

void unary_forward_ref(int32_t op, const TensorView& src, const TensorView& dst, double alpha,
                       double beta) {
    if (op == FATHOM_UNARY_COPY) {
        with_dtype(src.dtype, [&](auto s) {
            with_dtype(dst.dtype, [&](auto d) { copy_ref<decltype(d), decltype(s)>(src, dst); });
        });
        return;
    }
    if (op == FATHOM_UNARY_FILL || op == FATHOM_UNARY_RANGE) {
        with_dtype(dst.dtype, [&](auto d) {
            using D = decltype(d);
            int64_t linear = 0;  // row-major index over dst's shape
            for_each_index(dst.ndim, dst.shape, [&](const int64_t* i) {
                const double v = op == FATHOM_UNARY_FILL ? alpha : alpha + linear * beta;
                *dst.at<D>(i) = cast_value<D>(v);
                ++linear;
            });
        });
        return;
    }
    with_unary_op(op, [&](auto op_tag) {
        constexpr int Op = decltype(op_tag)::value;
        with_float_dtype(dst.dtype, [&](auto t) {
            using T = decltype(t);
            for_each_index(dst.ndim, dst.shape, [&](const int64_t* i) {
                *dst.at<T>(i) = unary_value<Op, T>(*src.at<const T>(i), T(alpha), T(beta));
            });
        });
    });
}

void binary_forward_ref(int32_t op, const TensorView& a, const TensorView& b,
                        const TensorView& dst) {
    with_binary_op(op, [&](auto op_tag) {
        constexpr int Op = decltype(op_tag)::value;
        with_float_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            // dst is T, or BOOL for a comparison (written as 1/0 either way).
            auto run = [&](auto d) {
                using D = decltype(d);
                for_each_index(dst.ndim, dst.shape, [&](const int64_t* i) {
                    *dst.at<D>(i) = static_cast<D>(
                        binary_value<Op, T>(*a.at<const T>(i), *b.at<const T>(i)));
                });
            };
            if constexpr (is_comparison(Op)) {
                if (dst.dtype == FATHOM_BOOL) return run(uint8_t{});
            }
            run(T{});
        });
    });
}

void where_forward_ref(const TensorView& cond, const TensorView& a, const TensorView& b,
                       const TensorView& dst) {
    with_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        for_each_index(dst.ndim, dst.shape, [&](const int64_t* i) {
            *dst.at<T>(i) = *cond.at<const uint8_t>(i) != 0 ? *a.at<const T>(i) : *b.at<const T>(i);
        });
    });
}

}  // namespace fathom
