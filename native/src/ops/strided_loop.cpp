// Building a StridedLoop: drop size-1 dims, optionally order by the output's
// strides, merge dims that are contiguous in every operand.
#include "ops/strided_loop.h"

#include <cstdlib>
#include <utility>

namespace fathom {

StridedLoop make_loop(std::initializer_list<const TensorView*> operands, bool keep_order) {
    StridedLoop loop;
    loop.operands = static_cast<int>(operands.size());
    const TensorView& out = **operands.begin();
    int dims[FATHOM_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < out.ndim; ++d)
        if (out.shape[d] != 1) dims[n++] = d;
    // Stable insertion sort by |output stride|, largest first. NOTE: not
    // std::stable_sort, which allocates a buffer on every call for <= 8 items.
    auto larger = [&](int x, int y) {
        return std::llabs(out.strides[x]) > std::llabs(out.strides[y]);
    };
    for (int i = 1; !keep_order && i < n; ++i)
        for (int j = i; j > 0 && larger(dims[j], dims[j - 1]); --j) std::swap(dims[j - 1], dims[j]);

    int k = 0;
    for (const TensorView* t : operands) loop.data[k++] = t->data;
    loop.ndim = 0;
    for (int i = 0; i < n; ++i) {
        const int d = dims[i];
        const int64_t size = out.shape[d];
        int64_t stride[kMaxOperands];
        k = 0;
        for (const TensorView* t : operands)
            stride[k++] = t->strides[d] * static_cast<int64_t>(t->itemsize());
        loop.numel *= size;
        // Merge into the previous (outer) dim when, in every operand, that one
        // steps exactly over this whole dim.
        bool merge = loop.ndim > 0;
        for (k = 0; merge && k < loop.operands; ++k)
            merge = loop.strides[k][loop.ndim - 1] == stride[k] * size;
        if (merge) {
            loop.shape[loop.ndim - 1] *= size;
        } else {
            loop.shape[loop.ndim++] = size;
        }
        for (k = 0; k < loop.operands; ++k) loop.strides[k][loop.ndim - 1] = stride[k];
    }
    if (loop.ndim == 0) {  // a scalar or all sizes 1: one element
        loop.ndim = 1;
        loop.shape[0] = 1;
    }
    return loop;
}

}  // namespace fathom
