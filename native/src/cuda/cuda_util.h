// Shared by the CUDA sources: turning a cudaError_t into a Fathom error, and
// the calling thread's stream on a device (cuda/device_memory.cu).
#pragma once

#include <cuda_runtime.h>

#include "core/error.h"

namespace fathom {

// "<op>[cuda]: <what>: <CUDA's message>" as FATHOM_BACKEND_ERROR.
inline void check_cuda(cudaError_t err, const char* op, const char* what) {
    if (err != cudaSuccess)
        fail(FATHOM_BACKEND_ERROR, op, "[cuda]: ", what, ": ", cudaGetErrorString(err));
}

// The calling thread's non-blocking stream on GPU `ordinal` (created on first use).
cudaStream_t cuda_stream(int ordinal);

}  // namespace fathom
