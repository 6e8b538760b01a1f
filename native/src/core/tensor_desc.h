// C++ view of fathom_tensor_desc: the validated form every tensor kernel takes,
// plus the checks that turn a bad descriptor into FATHOM_INVALID_ARGUMENT with a
// message naming the entry point and the shapes, e.g.
//   binary(add): shape [2,3] of b does not match dst [2,4]
// It owns no memory and outlives no call (Java owns tensor metadata).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "fathom/fathom.h"

namespace fathom {

const char* dtype_name(int32_t dtype);  // "float32", "float64", "int32", "int64", "bool"
size_t dtype_size(fathom_dtype dtype);

struct TensorView {
    char* data = nullptr;  // element (0,...,0)
    fathom_dtype dtype = FATHOM_F32;
    int ndim = 0;
    int64_t shape[FATHOM_MAX_DIMS] = {};
    int64_t strides[FATHOM_MAX_DIMS] = {};  // in elements; any sign, 0 broadcasts
    int32_t layout = FATHOM_LAYOUT_NCHW;    // fathom_layout; NCHW16C only where admitted
    int32_t device = FATHOM_DEVICE_CPU;     // device code (fathom.h): whose memory data is in

    int64_t numel() const;
    size_t itemsize() const { return dtype_size(dtype); }
    int64_t offset(const int64_t* index) const;  // in elements
    template <typename T>
    T* at(const int64_t* index) const {
        return reinterpret_cast<T*>(data) + offset(index);
    }
};

std::string shape_str(const int64_t* shape, int ndim);  // "[2,3]", "[]" for a scalar
inline std::string shape_str(const TensorView& t) { return shape_str(t.shape, t.ndim); }

// Converts without checks (tests build views of descriptors they trust).
TensorView to_view(const fathom_tensor_desc& desc);

// Checks a descriptor: non-null, on the host (device 0), layout NCHW,
// ndim in [0, FATHOM_MAX_DIMS], shape >= 0 with an element count that fits
// int64, a known dtype, data != 0 unless it has no elements. A blocked
// (nChw16c) operand is refused with a message that says to convert it first:
// layouts change at fathom_convert_layout only.
TensorView input_view(const char* op, const char* name, const fathom_tensor_desc* desc);
// The same for an entry point that runs on `device` (a device code, fathom.h):
// the operand must be in that device's memory ("<op>: src [2,3] is on cpu but
// this call runs on cuda:0").
TensorView input_view(const char* op, const char* name, const fathom_tensor_desc* desc,
                      int32_t device);
TensorView output_view(const char* op, const char* name, const fathom_tensor_desc* desc,
                       int32_t device);
// input_view plus: no stride 0 along a dimension of size > 1 (outputs must not
// broadcast, or two elements would be written to one address).
TensorView output_view(const char* op, const char* name, const fathom_tensor_desc* desc);
TensorView output_view_checks(const char* op, const char* name, TensorView t);
// The same, admitting FATHOM_LAYOUT_NCHW16C too: for the families that read
// blocked activations (convolution, pooling, batch norm, convert_layout),
// which check its rules (4-D or (N,C,S), F32, C % 16 == 0) themselves.
TensorView input_view_any_layout(const char* op, const char* name, const fathom_tensor_desc* desc);
TensorView output_view_any_layout(const char* op, const char* name,
                                  const fathom_tensor_desc* desc);

// "<op>: shape [2,3] of <name> does not match <ref_name> [2,4]"
void require_same_shape(const char* op, const TensorView& t, const char* name,
                        const TensorView& ref, const char* ref_name);
// "<op>: dtype int64 of <name> does not match <ref_name> float32"
void require_same_dtype(const char* op, const TensorView& t, const char* name,
                        const TensorView& ref, const char* ref_name);
// "<op>: dtype int64 not supported (<name> [2,3])" unless t is F32 or F64.
void require_float(const char* op, const TensorView& t, const char* name);
// "<op>: <name> [2,3] must be int64, got float32"
void require_dtype(const char* op, const TensorView& t, const char* name, fathom_dtype dtype);
// Returns dim if it lies in [0, ndim), else "<op>: dim 3 out of range for <name> [2,3]".
int require_dim(const char* op, int32_t dim, const TensorView& t, const char* name);

// Calls fn(index) for every index of `shape` in row-major order (index has ndim
// entries). The readable N-d walk the reference kernels use.
template <typename Fn>
void for_each_index(int ndim, const int64_t* shape, Fn&& fn) {
    for (int d = 0; d < ndim; ++d)
        if (shape[d] == 0) return;
    int64_t index[FATHOM_MAX_DIMS] = {};
    while (true) {
        fn(static_cast<const int64_t*>(index));
        int d = ndim - 1;
        for (; d >= 0; --d) {
            if (++index[d] < shape[d]) break;
            index[d] = 0;
        }
        if (d < 0) return;
    }
}

// Type dispatch: calls fn(T{}) with the C++ storage type of dtype (BOOL is uint8_t).
template <typename Fn>
decltype(auto) with_dtype(fathom_dtype dtype, Fn&& fn) {
    switch (dtype) {
        case FATHOM_F64: return fn(double{});
        case FATHOM_I32: return fn(int32_t{});
        case FATHOM_I64: return fn(int64_t{});
        case FATHOM_BOOL: return fn(uint8_t{});
        case FATHOM_F32:
        default: return fn(float{});
    }
}

// As with_dtype, for kernels defined only on F32 and F64 (validated before).
template <typename Fn>
decltype(auto) with_float_dtype(fathom_dtype dtype, Fn&& fn) {
    if (dtype == FATHOM_F64) return fn(double{});
    return fn(float{});
}

}  // namespace fathom
