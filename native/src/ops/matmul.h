// fathom_matmul: batched matrix product over strided tensor views,
//   dst (..., m, n) = a (..., m, k) @ b (..., k, n),
// all three with the same ndim >= 2 and dst's batch dims (a and b may be
// stride-0 broadcasts there). F32 runs on the GEMM backends (ops/gemm.h, AUTO),
// F64 on the double reference GEMM. Forward only: the backward is two matmuls
// in Java (da = dy @ b^T, db = a^T @ dy, as transposed views).
#pragma once

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

struct MatmulArgs {
    TensorView a, b, dst;
};
// `device`: the device code the call runs on (dst's); every operand must be there.
MatmulArgs check_matmul(const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                        const fathom_tensor_desc* dst, int32_t device = FATHOM_DEVICE_CPU);

// Naive triple loop over the strided views, accumulating in double.
void matmul_forward_ref(const MatmulArgs& args);
void matmul_forward(const MatmulArgs& args);
// The same on a GPU (ops/cuda/matmul_cuda.cu); a CPU build fails with FATHOM_UNSUPPORTED.
void matmul_forward_cuda(const MatmulArgs& args);

}  // namespace fathom
