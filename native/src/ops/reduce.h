// fathom_reduce: sum, mean, max, min, prod over the dimensions where dst has
// size 1 and src does not (dst keeps src's ndim; none reduced is a copy).
//
// Conventions, enforced by check_reduce and the kernels:
//  - f32 and f64 sums, means and products accumulate in double;
//  - SUM of no elements is 0, PROD 1, MEAN NaN (0/0); MAX/MIN of none is an error;
//  - MAX/MIN: a NaN wins, the first NaN or the first of equal extremes gives
//    the index (I64, along the one reduced dimension).
// Forward only; the backward of each is a Java formula (expand, mask by index).
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

// True when x replaces the current extreme `best` of a max (IsMax) or min scan
// that visits positions in increasing order: NaN wins, ties keep the earlier.
template <bool IsMax, typename T>
inline bool replaces_extreme(T x, T best) {
    if (best != best) return false;
    if (x != x) return true;
    return IsMax ? x > best : x < best;
}

struct ReduceArgs {
    std::string name;  // "reduce(sum)"
    TensorView src, dst, indices;
    bool has_indices = false;
};
// src, dst F32/F64 of one dtype and ndim; dst.shape[d] is src.shape[d] or 1;
// indices (nullable) only for MAX/MIN with exactly one reduced dimension.
// `device`: the device code the call runs on (dst's); every operand must be there.
ReduceArgs check_reduce(int32_t op, const fathom_tensor_desc* src, const fathom_tensor_desc* dst,
                        const fathom_tensor_desc* indices, int32_t device = FATHOM_DEVICE_CPU);

// src (S) -> dst (S with reduced dims 1), indices (dst's shape) or nullptr.
void reduce_forward_ref(int32_t op, const TensorView& src, const TensorView& dst,
                        const TensorView* indices);
void reduce_forward(int32_t op, const TensorView& src, const TensorView& dst,
                    const TensorView* indices);
// The same on a GPU (ops/cuda/reduce_cuda.cu); a CPU build fails with FATHOM_UNSUPPORTED.
void reduce_forward_cuda(int32_t op, const TensorView& src, const TensorView& dst,
                         const TensorView* indices);

}  // namespace fathom
