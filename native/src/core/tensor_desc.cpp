// Descriptor validation for the tensor entry points: every check names the
// entry point, the operand and its shape, so a Java-side bug reads as
// "index_select: index 7 out of range for dim 1 of size 5", not as a crash.
#include "core/tensor_desc.h"

#include "core/device.h"

#include <cstring>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace fathom {

const char* dtype_name(int32_t dtype) {
    switch (dtype) {
        case FATHOM_F32: return "float32";
        case FATHOM_F64: return "float64";
        case FATHOM_I32: return "int32";
        case FATHOM_I64: return "int64";
        case FATHOM_BOOL: return "bool";
        default: return "unknown";
    }
}

size_t dtype_size(fathom_dtype dtype) {
    switch (dtype) {
        case FATHOM_F64:
        case FATHOM_I64: return 8;
        case FATHOM_BOOL: return 1;
        case FATHOM_F32:
        case FATHOM_I32:
        default: return 4;
    }
}

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    return n;
}

int64_t TensorView::offset(const int64_t* index) const {
    int64_t off = 0;
    for (int d = 0; d < ndim; ++d) off += index[d] * strides[d];
    return off;
}

std::string shape_str(const int64_t* shape, int ndim) {
    std::ostringstream os;
    os << '[';
    for (int d = 0; d < ndim; ++d) os << (d ? "," : "") << shape[d];
    os << ']';
    return os.str();
}

TensorView to_view(const fathom_tensor_desc& desc) {
    TensorView t;
    t.data = reinterpret_cast<char*>(static_cast<intptr_t>(desc.data));
    t.dtype = static_cast<fathom_dtype>(desc.dtype);
    t.ndim = desc.ndim;
    // NOTE: whole fixed-size arrays: a loop bounded by ndim compiles to
    // `rep movs`, whose start-up cost dominated small-tensor calls.
    std::memcpy(t.shape, desc.shape, sizeof(t.shape));
    std::memcpy(t.strides, desc.strides, sizeof(t.strides));
    t.layout = desc.layout;
    t.device = desc.device;
    return t;
}

namespace {

// The checks every descriptor passes; `any_layout` admits nChw16c (the
// layout-aware families check its shape rules themselves).
TensorView checked_view(const char* op, const char* name, const fathom_tensor_desc* desc,
                        bool any_layout, int32_t device = FATHOM_DEVICE_CPU) {
    if (desc == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " is null");
    if (desc->device != device) {
        const std::string shape = shape_str(desc->shape,
            desc->ndim < 0 || desc->ndim > FATHOM_MAX_DIMS ? 0 : desc->ndim);
        if (device == FATHOM_DEVICE_CPU)
            fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape, " is on ",
                 device_name(desc->device), " but this entry point runs on the host (cpu)");
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape, " is on ",
             device_name(desc->device), " but this call runs on ", device_name(device));
    }
    if (desc->layout != FATHOM_LAYOUT_NCHW &&
        (!any_layout || desc->layout != FATHOM_LAYOUT_NCHW16C)) {
        if (desc->layout == FATHOM_LAYOUT_NCHW16C)
            fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ",
                 shape_str(desc->shape, desc->ndim < 0 || desc->ndim > FATHOM_MAX_DIMS ? 0 : desc->ndim),
                 " is nChw16c, which ", op,
                 " does not read; convert it to NCHW first (fathom_convert_layout)");
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown layout ", desc->layout, " of ", name);
    }
    if (desc->ndim < 0 || desc->ndim > FATHOM_MAX_DIMS)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ndim ", desc->ndim, " of ", name,
             " is outside [0, ", FATHOM_MAX_DIMS, "]");
    // NOTE: messages are built only on failure; this runs on every small-tensor call.
    auto shape = [&] { return shape_str(desc->shape, desc->ndim); };
    if (desc->dtype < FATHOM_F32 || desc->dtype > FATHOM_BOOL)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown dtype ", desc->dtype, " of ", name, " ",
             shape());
    int64_t numel = 1;
    bool empty = false;
    for (int d = 0; d < desc->ndim; ++d) {
        const int64_t size = desc->shape[d];
        if (size < 0)
            fail(FATHOM_INVALID_ARGUMENT, op, ": negative size in shape ", shape(), " of ", name);
        if (size == 0) empty = true;
        if (size > 1 && numel > std::numeric_limits<int64_t>::max() / size)
            fail(FATHOM_INVALID_ARGUMENT, op, ": shape ", shape(), " of ", name,
                 " has more than 2^63 elements");
        if (size > 1) numel *= size;
    }
    if (!empty && desc->data == 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": data of ", name, " is null but shape ", shape(),
             " has ", numel, " elements");
    return to_view(*desc);
}

}  // namespace

TensorView input_view(const char* op, const char* name, const fathom_tensor_desc* desc,
                      int32_t device) {
    return checked_view(op, name, desc, false, device);
}

TensorView output_view(const char* op, const char* name, const fathom_tensor_desc* desc,
                       int32_t device) {
    return output_view_checks(op, name, checked_view(op, name, desc, false, device));
}

TensorView input_view(const char* op, const char* name, const fathom_tensor_desc* desc) {
    return checked_view(op, name, desc, false);
}

TensorView input_view_any_layout(const char* op, const char* name, const fathom_tensor_desc* desc) {
    return checked_view(op, name, desc, true);
}

TensorView output_view_any_layout(const char* op, const char* name,
                                  const fathom_tensor_desc* desc) {
    return output_view_checks(op, name, checked_view(op, name, desc, true));
}

TensorView output_view(const char* op, const char* name, const fathom_tensor_desc* desc) {
    return output_view_checks(op, name, input_view(op, name, desc));
}

TensorView output_view_checks(const char* op, const char* name, TensorView t) {
    if (t.numel() > 1)
        for (int d = 0; d < t.ndim; ++d)
            if (t.shape[d] > 1 && t.strides[d] == 0)
                fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape_str(t),
                     " has stride 0 in dim ", d, " (outputs must not broadcast)");
    return t;
}

void require_same_shape(const char* op, const TensorView& t, const char* name,
                        const TensorView& ref, const char* ref_name) {
    bool same = t.ndim == ref.ndim;
    for (int d = 0; same && d < t.ndim; ++d) same = t.shape[d] == ref.shape[d];
    if (!same)
        fail(FATHOM_INVALID_ARGUMENT, op, ": shape ", shape_str(t), " of ", name,
             " does not match ", ref_name, " ", shape_str(ref));
}

void require_same_dtype(const char* op, const TensorView& t, const char* name,
                        const TensorView& ref, const char* ref_name) {
    if (t.dtype != ref.dtype)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dtype ", dtype_name(t.dtype), " of ", name,
             " does not match ", ref_name, " ", dtype_name(ref.dtype));
}

void require_float(const char* op, const TensorView& t, const char* name) {
    if (t.dtype != FATHOM_F32 && t.dtype != FATHOM_F64)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dtype ", dtype_name(t.dtype), " not supported (",
             name, " ", shape_str(t), ")");
}

void require_dtype(const char* op, const TensorView& t, const char* name, fathom_dtype dtype) {
    if (t.dtype != dtype)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape_str(t), " must be ",
             dtype_name(dtype), ", got ", dtype_name(t.dtype));
}

int require_dim(const char* op, int32_t dim, const TensorView& t, const char* name) {
    if (dim < 0 || dim >= t.ndim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dim ", dim, " out of range for ", name, " ",
             shape_str(t));
    return dim;
}

}  // namespace fathom
