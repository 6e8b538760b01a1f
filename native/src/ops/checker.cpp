// The shared argument checker (ops/checker.h).
#include "ops/checker.h"

#include <cstring>

#include "ops/nchw_args.h"

namespace fathom {

TensorView Checker::tensor(const char* name, const fathom_tensor_desc* desc, Access access,
                           std::initializer_list<int64_t> shape, fathom_dtype dtype,
                           Layouts layouts) const {
    TensorView t;
    try {
        if (layouts == kAnyLayout)
            t = access == kOutput ? output_view_any_layout(op_, name, desc)
                                  : input_view_any_layout(op_, name, desc);
        else
            t = access == kOutput ? output_view(op_, name, desc) : input_view(op_, name, desc);
    } catch (const Error& e) {
        rethrow(e);
    }
    // NOTE: messages are built only on failure; this runs on every call.
    if (t.dtype != dtype)
        fail("dtype ", dtype_name(t.dtype), " of ", name, " ", shape_str(t),
             " does not match the plan's ", dtype_name(dtype));
    try {
        require_exact_shape(op_, t, name, shape);
        require_contiguous(op_, t, name);
    } catch (const Error& e) {
        rethrow(e);
    }
    return t;
}

char* Checker::workspace(const fathom_tensor_desc* desc, int64_t align, int64_t* numel) const {
    *numel = 0;
    if (desc == nullptr) return nullptr;
    TensorView ws;
    try {
        ws = input_view(op_, "workspace", desc);
    } catch (const Error& e) {
        rethrow(e);
    }
    if (ws.dtype != FATHOM_BOOL)
        fail("workspace ", shape_str(ws), " must be bool (bytes), got ", dtype_name(ws.dtype));
    *numel = ws.numel();
    if (*numel == 0) return nullptr;
    try {
        require_contiguous(op_, ws, "workspace");
    } catch (const Error& e) {
        rethrow(e);
    }
    if (reinterpret_cast<uintptr_t>(ws.data) % static_cast<uintptr_t>(align) != 0)
        fail("workspace address must be ", align, "-byte aligned");
    return ws.data;
}

std::string desc_shape(const fathom_tensor_desc* d) {
    if (d == nullptr) return "null";
    if (d->ndim < 0 || d->ndim > FATHOM_MAX_DIMS) return "(ndim " + std::to_string(d->ndim) + ")";
    return shape_str(d->shape, d->ndim);
}

void check_workspace_header(const Checker& ck, const char* workspace, int64_t numel,
                            const WorkspaceExpectation& want) {
    WorkspaceHeader h;
    if (numel < static_cast<int64_t>(sizeof(h)))
        ck.fail("workspace holds ", numel, " bytes, less than its header");
    std::memcpy(&h, workspace, sizeof(h));
    if (h.magic != want.magic || h.version != 1)
        ck.fail("workspace was not written by ", want.writer);
    if (h.backend != want.backend)
        ck.fail("workspace was written by the ", backend_name(h.backend),
                " backend but this call runs the ", backend_name(want.backend), " backend");
    if (h.dtype != want.dtype)
        ck.fail("workspace was written for ", dtype_name(h.dtype), " but ", want.dtype_operand,
                " is ", dtype_name(want.dtype));
    if (h.params_hash != want.params_hash ||
        h.payload_bytes != want.bytes - static_cast<int64_t>(sizeof(h)))
        ck.fail("workspace was written for other ", want.family, " params");
    if (numel != want.bytes)
        ck.fail("workspace holds ", numel, " bytes but the plan's workspace_bytes is ",
                want.bytes);
}

void write_workspace_header(char* workspace, const WorkspaceExpectation& what) {
    WorkspaceHeader h{};
    h.magic = what.magic;
    h.version = 1;
    h.backend = what.backend;
    h.dtype = what.dtype;
    h.payload_bytes = what.bytes - static_cast<int64_t>(sizeof(h));
    h.params_hash = what.params_hash;
    std::memcpy(workspace, &h, sizeof(h));
}

uint64_t params_hash(std::initializer_list<int64_t> values) {
    uint64_t h = 1469598103934665603ull;
    for (int64_t x : values)
        for (int b = 0; b < 8; ++b)
            h = (h ^ ((static_cast<uint64_t>(x) >> (8 * b)) & 0xff)) * 1099511628211ull;
    return h;
}

void require_known_backend(const char* op, int32_t backend) {
    if (backend != FATHOM_CNN_AUTO && backend != FATHOM_CNN_REFERENCE &&
        backend != FATHOM_CNN_ONEDNN)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown backend ", backend);
}

const char* backend_name(int32_t b) {
    switch (b) {
        case FATHOM_CNN_AUTO: return "auto";
        case FATHOM_CNN_REFERENCE: return "reference";
        case FATHOM_CNN_ONEDNN: return "oneDNN";
        default: return "unknown";
    }
}

}  // namespace fathom
