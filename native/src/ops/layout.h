// Activation layouts (fathom.h "Activation layouts"): NCHW and oneDNN's
// nChw16c, the checks behind fathom_convert_layout, and the copies between
// them that the kernels use at their edges.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

inline const char* layout_name(int32_t layout) {
    return layout == FATHOM_LAYOUT_NCHW16C ? "nChw16c" : layout == FATHOM_LAYOUT_NCHW ? "NCHW" : "unknown";
}

// Element offset of (n, c, s) in an (N, C, S) buffer of `layout`.
inline int64_t layout_offset(int32_t layout, int64_t c_count, int64_t s_count, int64_t n,
                             int64_t c, int64_t s) {
    if (layout == FATHOM_LAYOUT_NCHW16C)
        return ((n * (c_count / 16) + c / 16) * s_count + s) * 16 + c % 16;
    return (n * c_count + c) * s_count + s;
}

// Copies an F32 (N, C, S) buffer from one layout to the other (or as is when
// they are equal). oneDNN's reorder where built with it, loops otherwise.
// `threads` is the caller's grant.
void convert_layout(const float* src, int32_t src_layout, float* dst, int32_t dst_layout,
                    int64_t n, int64_t c, int64_t s, int threads);

// Checks and runs fathom_convert_layout (the layouts are the descriptors').
void convert_layout_api(const fathom_tensor_desc* src, const fathom_tensor_desc* dst);

// The same by hand (builds without oneDNN; tests compare both), and for
// elements of 1, 4 or 8 bytes of any dtype (bool masks of blocked tensors).
void convert_layout_bytes(const void* src, int32_t src_layout, void* dst, size_t itemsize,
                          int64_t n, int64_t c, int64_t s, int threads);
void convert_layout_loops(const float* src, int32_t src_layout, float* dst, int64_t n,
                          int64_t c, int64_t s, int threads);

#ifdef FATHOM_WITH_DNNL
// oneDNN's reorder between NCHW and nChw16c of (N, C, H*W) F32 buffers.
void convert_layout_dnnl(const float* src, bool src_blocked, float* dst, int64_t n, int64_t c,
                         int64_t s, int threads);
#endif

}  // namespace fathom
