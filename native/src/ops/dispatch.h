// The one dispatch of the kernel families with a oneDNN backend (convolution,
// pooling, batch norm, recurrent layers): the backend a call resolved to, its
// thread grant, and the reference fallback in the call's dtype; for the CNN
// families also the NCHW copies that let the reference kernels read blocked
// (nChw16c) operands, here once instead of in every family.
#pragma once

#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/tensor_desc.h"
#include "core/threads.h"
#include "fathom/fathom.h"
#include "ops/layout.h"

namespace fathom {

// Runs dnnl(threads) when the call resolved to oneDNN, else ref(T{}) with T
// the C++ type of dtype (F32 or F64, validated before), inside one
// ThreadGrant sized by work_flops.
template <typename Dnnl, typename Ref>
void run_kernel(bool on_onednn, fathom_dtype dtype, double work_flops, Dnnl&& dnnl, Ref&& ref) {
    ThreadGrant grant(work_flops);
#ifdef FATHOM_WITH_DNNL
    if (on_onednn) {
        dnnl(grant.threads());
        return;
    }
#else
    (void)dnnl;
#endif
    (void)on_onednn;
    with_float_dtype(dtype, [&](auto t) { ref(t); });
}

// An (N, C, S) operand as the reference kernels read it: the tensor itself
// when it is NCHW, else an NCHW copy (written back by write_back() for
// outputs). Blocked operands are F32 (the checks refuse others).
template <typename T>
class PlainOperand {
public:
    PlainOperand(const TensorView& t, int64_t n, int64_t c, int64_t s)
        : PlainOperand(t.data, t.layout, n, c, s) {}
    PlainOperand(const void* data, int32_t layout, int64_t n, int64_t c, int64_t s)
        : data_(static_cast<T*>(const_cast<void*>(data))), layout_(layout), n_(n), c_(c), s_(s) {
        if (layout_ != FATHOM_LAYOUT_NCHW && data_ != nullptr) {
            if constexpr (std::is_same_v<T, float>) {
                copy_.resize(static_cast<size_t>(n * c * s));
                convert_layout(data_, layout_, copy_.data(), FATHOM_LAYOUT_NCHW, n, c, s, 1);
            } else {
                fail(FATHOM_INTERNAL_ERROR, "nChw16c operand of a non-float32 kernel");
            }
        }
    }
    const T* in() const { return copy_.empty() ? data_ : copy_.data(); }
    T* out() { return copy_.empty() ? data_ : copy_.data(); }
    void write_back() {
        if constexpr (std::is_same_v<T, float>)
            if (!copy_.empty())
                convert_layout(copy_.data(), FATHOM_LAYOUT_NCHW, data_, layout_, n_, c_, s_, 1);
    }

private:
    T* data_;
    int32_t layout_;
    int64_t n_, c_, s_;
    std::vector<T> copy_;
};

}  // namespace fathom
