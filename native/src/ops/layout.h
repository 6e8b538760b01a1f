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

// The checks of a params struct's layout fields (batch norm, pooling):
// "<op>: unknown layout 2 (<describe()>)", nChw16c with C % 16 != 0,
// reserved != 0. describe() runs only for a message.
template <typename Describe>
void check_layout_fields(const char* op, int32_t layout, int64_t c, int32_t reserved,
                         Describe&& describe) {
    if (layout != FATHOM_LAYOUT_NCHW && layout != FATHOM_LAYOUT_NCHW16C)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown layout ", layout, " (", describe(), ")");
    if (layout == FATHOM_LAYOUT_NCHW16C && c % 16 != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": nChw16c layout needs c divisible by 16 (",
             describe(), ")");
    if (reserved != 0) fail(FATHOM_INVALID_ARGUMENT, op, ": reserved=", reserved, " must be 0");
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

// Checks and runs fathom_convert_layout.
void convert_layout_api(const fathom_tensor_desc* src, int32_t src_layout,
                        const fathom_tensor_desc* dst, int32_t dst_layout);

// An NCHW copy of an operand in `layout`, for kernels that only read NCHW
// (the reference kernels): plain() is the operand itself when it is NCHW.
class PlainCopy {
public:
    PlainCopy(const float* data, int32_t layout, int64_t n, int64_t c, int64_t s)
        : data_(data), layout_(layout), n_(n), c_(c), s_(s) {
        if (layout_ != FATHOM_LAYOUT_NCHW && data_ != nullptr) {
            copy_.resize(static_cast<size_t>(n * c * s));
            convert_layout(data_, layout_, copy_.data(), FATHOM_LAYOUT_NCHW, n, c, s, 1);
        }
    }
    const float* plain() const { return copy_.empty() ? data_ : copy_.data(); }
    float* plain_mut() { return copy_.empty() ? const_cast<float*>(data_) : copy_.data(); }
    // Writes the (modified) NCHW copy back in the operand's layout.
    void write_back() {
        if (!copy_.empty())
            convert_layout(copy_.data(), FATHOM_LAYOUT_NCHW, const_cast<float*>(data_), layout_,
                           n_, c_, s_, 1);
    }

private:
    const float* data_;
    int32_t layout_;
    int64_t n_, c_, s_;
    std::vector<float> copy_;
};

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
