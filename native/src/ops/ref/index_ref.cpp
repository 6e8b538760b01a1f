// Reference indexing kernels: the specification of index_select, index_add,
// gather and scatter_add, written as the index formulas in fathom.h.
// The accumulating ones walk src in row-major order, so duplicate indices add
// up in increasing source order.
#include "ops/index.h"

#include <algorithm>

namespace fathom {

namespace {

int64_t index_at(const TensorView& index, const int64_t* i) {
    return *index.at<const int64_t>(i);
}

}  // namespace

void index_select_forward_ref(const IndexArgs& a) {
    with_dtype(a.dst.dtype, [&](auto t) {
        using T = decltype(t);
        // dst[.., l, ..] = src[.., index[l], ..]
        for_each_index(a.dst.ndim, a.dst.shape, [&](const int64_t* out) {
            int64_t in[FATHOM_MAX_DIMS];
            std::copy(out, out + a.dst.ndim, in);
            in[a.dim] = index_at(a.index, &out[a.dim]);
            *a.dst.at<T>(out) = *a.src.at<const T>(in);
        });
    });
}

void index_add_forward_ref(const IndexArgs& a) {
    with_dtype(a.dst.dtype, [&](auto t) {
        using T = decltype(t);
        // dst[.., index[l], ..] += src[.., l, ..]
        for_each_index(a.src.ndim, a.src.shape, [&](const int64_t* in) {
            int64_t out[FATHOM_MAX_DIMS];
            std::copy(in, in + a.src.ndim, out);
            out[a.dim] = index_at(a.index, &in[a.dim]);
            add_into(*a.dst.at<T>(out), *a.src.at<const T>(in));
        });
    });
}

void gather_forward_ref(const IndexArgs& a) {
    with_dtype(a.dst.dtype, [&](auto t) {
        using T = decltype(t);
        // dst[i][j][k] = src[index[i][j][k]][j][k] (dim 0)
        for_each_index(a.dst.ndim, a.dst.shape, [&](const int64_t* out) {
            int64_t in[FATHOM_MAX_DIMS];
            std::copy(out, out + a.dst.ndim, in);
            in[a.dim] = index_at(a.index, out);
            *a.dst.at<T>(out) = *a.src.at<const T>(in);
        });
    });
}

void scatter_add_forward_ref(const IndexArgs& a) {
    with_dtype(a.dst.dtype, [&](auto t) {
        using T = decltype(t);
        // dst[index[i][j][k]][j][k] += src[i][j][k] (dim 0)
        for_each_index(a.src.ndim, a.src.shape, [&](const int64_t* in) {
            int64_t out[FATHOM_MAX_DIMS];
            std::copy(in, in + a.src.ndim, out);
            out[a.dim] = index_at(a.index, in);
            add_into(*a.dst.at<T>(out), *a.src.at<const T>(in));
        });
    });
}

}  // namespace fathom
