// Descriptor checks shared by the pooling, batch-norm and resize entry points:
// their operands are contiguous row-major tensors of one exact shape, since
// oneDNN reads them as plain nchw memory. Messages name the entry point, the
// operand and both shapes, e.g.
//   pool2d_forward: dst [2,3,4,4] does not match the expected [2,3,3,3]
#pragma once

#include <cstdint>
#include <initializer_list>

#include "core/error.h"
#include "core/tensor_desc.h"

namespace fathom {

// The backend that runs for pooling and batch norm (AUTO resolved: oneDNN for
// F32 when built with it, else the reference); refuses ONEDNN for non-F32 or
// in a build without oneDNN.
inline fathom_cnn_backend resolve_cnn_backend(const char* op, int32_t backend, fathom_dtype dtype) {
    if (backend == FATHOM_CNN_REFERENCE) return FATHOM_CNN_REFERENCE;
    if (backend == FATHOM_CNN_ONEDNN) {
        if (dtype != FATHOM_F32)
            fail(FATHOM_INVALID_ARGUMENT, op, ": the oneDNN backend takes float32, got ",
                 dtype_name(dtype));
#ifndef FATHOM_WITH_DNNL
        fail(FATHOM_UNSUPPORTED, op, ": this build has no oneDNN backend");
#endif
        return FATHOM_CNN_ONEDNN;
    }
#ifdef FATHOM_WITH_DNNL
    return dtype == FATHOM_F32 ? FATHOM_CNN_ONEDNN : FATHOM_CNN_REFERENCE;
#else
    return FATHOM_CNN_REFERENCE;
#endif
}

// "<op>: <name> [2,3,4,4] does not match the expected [2,3,3,3]"
inline void require_exact_shape(const char* op, const TensorView& t, const char* name,
                                std::initializer_list<int64_t> expected) {
    bool same = t.ndim == static_cast<int>(expected.size());
    int d = 0;
    for (int64_t e : expected) {
        if (!same) break;
        same = t.shape[d++] == e;
    }
    if (!same) {
        int64_t want[FATHOM_MAX_DIMS] = {};
        int n = 0;
        for (int64_t e : expected)
            if (n < FATHOM_MAX_DIMS) want[n++] = e;
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape_str(t),
             " does not match the expected ", shape_str(want, n));
    }
}

// "<op>: <name> [2,3,4,4] must be contiguous (strides [48,16,1,4])"; strides of
// size-1 dims are free.
inline void require_contiguous(const char* op, const TensorView& t, const char* name) {
    int64_t step = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
        if (t.shape[d] != 1 && t.strides[d] != step)
            fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape_str(t),
                 " must be contiguous (strides ", shape_str(t.strides, t.ndim), ")");
        step *= t.shape[d];
    }
}

}  // namespace fathom
