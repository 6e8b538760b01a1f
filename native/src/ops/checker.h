// The one argument checker of the op families with plans (conv2d, pool2d,
// batch_norm, rnn): every entry point checks its operands through a
// Checker before it writes anything, so each family refuses bad input with
// the same wording:
//   "<op>: <what is wrong> (<context>)"
// where the context (the plan's params, and for conv2d every operand's shape)
// is built only when a check fails. Also the backends' private workspaces:
// a 64-byte WorkspaceHeader names the backend, dtype and params that wrote
// the payload behind it, so a backward pass refuses another forward's bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

class Checker {
public:
    enum Access { kInput, kOutput };
    enum Layouts { kPlainOnly, kAnyLayout };  // kAnyLayout: nChw16c accepted (F32)

    // `context` is a callable returning the context string; it must outlive
    // the checker (pass a named lambda, not a temporary).
    template <typename Context>
    Checker(const char* op, const Context& context)
        : op_(op),
          context_(&context),
          describe_([](const void* c) { return (*static_cast<const Context*>(c))(); }) {}
    template <typename Context>
    Checker(const char* op, const Context&& context) = delete;

    const char* op() const { return op_; }
    std::string context() const { return describe_(context_); }

    template <typename... Parts>
    [[noreturn]] void fail(const Parts&... parts) const {
        fail_status(FATHOM_INVALID_ARGUMENT, parts...);
    }
    template <typename... Parts>
    [[noreturn]] void fail_status(fathom_status status, const Parts&... parts) const {
        std::ostringstream os;
        os << op_ << ": ";
        (os << ... << parts);
        throw Error(status, os.str() + " (" + context() + ")");
    }
    // An error of a shared descriptor check ("<op>: ..."), with the context added.
    [[noreturn]] void rethrow(const Error& e) const {
        throw Error(e.status(), std::string(e.what()) + " (" + context() + ")");
    }

    // A present operand: descriptor checks, exactly `shape`, contiguous, and
    // the plan's dtype.
    TensorView tensor(const char* name, const fathom_tensor_desc* desc, Access access,
                      std::initializer_list<int64_t> shape, fathom_dtype dtype,
                      Layouts layouts = kPlainOnly) const;
    // As tensor(); null gives an empty view (data == nullptr).
    TensorView optional(const char* name, const fathom_tensor_desc* desc, Access access,
                        std::initializer_list<int64_t> shape, fathom_dtype dtype,
                        Layouts layouts = kPlainOnly) const {
        return desc == nullptr ? TensorView{} : tensor(name, desc, access, shape, dtype, layouts);
    }
    // Refuses a null operand: "<name> is null<why>".
    void require(const fathom_tensor_desc* desc, const char* name, const char* why = "") const {
        if (desc == nullptr) fail(name, " is null", why);
    }

    // A workspace operand: null (returns null, *numel 0) or a contiguous BOOL
    // tensor whose address is `align`-byte aligned.
    char* workspace(const fathom_tensor_desc* desc, int64_t align, int64_t* numel) const;

private:
    const char* op_;
    const void* context_;
    std::string (*describe_)(const void*);
};

// Params checks every plan_create shares: "<op>: unknown backend 7" unless
// AUTO, REFERENCE or ONEDNN (the CNN and RNN enums share these values), and a
// float plan dtype, else "<op>: dtype int32 not supported; <family> takes
// float32 or float64 (<context>)".
void require_known_backend(const char* op, int32_t backend);
template <typename Context>
fathom_dtype require_float_plan_dtype(const char* op, const char* family, int32_t dtype,
                                      const Context& context) {
    if (dtype != FATHOM_F32 && dtype != FATHOM_F64)
        fail(FATHOM_INVALID_ARGUMENT, op, ": dtype ", dtype_name(dtype), " not supported; ",
             family, " takes float32 or float64 (", context(), ")");
    return static_cast<fathom_dtype>(dtype);
}

// "[2,3]", "null", or "(ndim 9)" for a descriptor that failed its checks.
std::string desc_shape(const fathom_tensor_desc* d);

struct WorkspaceHeader {
    uint32_t magic;         // the family's magic once its forward wrote the payload
    uint32_t version;       // 1
    int32_t backend;        // fathom_cnn_backend / fathom_rnn_backend (same values)
    int32_t dtype;          // fathom_dtype of the tensors
    int64_t payload_bytes;  // bytes after the header
    uint64_t params_hash;   // hash of the forward's params (backend excluded)
    uint8_t reserved[32];
};
static_assert(sizeof(WorkspaceHeader) == 64, "keeps the payload 64-byte aligned");

// What a backward pass expects its workspace's header to say.
struct WorkspaceExpectation {
    uint32_t magic;
    const char* writer;        // "pool2d_forward", "a training rnn_forward"
    const char* family;        // "pooling", "rnn": "... for other <family> params"
    int32_t backend;
    int32_t dtype;
    const char* dtype_operand;  // the operand whose dtype the workspace must match
    uint64_t params_hash;
    int64_t bytes;              // header + payload
};

// Checks a workspace of `numel` bytes against `want`, header first: a workspace
// from another backend or dtype also has another size, and "written by the
// oneDNN backend" says more than "holds 1234 bytes".
void check_workspace_header(const Checker& ck, const char* workspace, int64_t numel,
                            const WorkspaceExpectation& want);
// Writes the header of a payload a forward pass has just written.
void write_workspace_header(char* workspace, const WorkspaceExpectation& what);
// FNV-1a over values (the params that shape a payload).
uint64_t params_hash(std::initializer_list<int64_t> values);
const char* backend_name(int32_t backend);  // "auto", "reference", "oneDNN"

}  // namespace fathom
