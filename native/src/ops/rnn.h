// Recurrent layers (fathom_rnn_*): the validated C++ view of fathom_rnn_params,
// the argument checks every entry point runs before it writes anything, the
// workspace header, backend dispatch and the kernels' signatures.
// Not here: autograd (the Java op pairs forward with backward), cells applied
// one step at a time, padding/packed sequences, projections and peepholes.
//
// Sizes and layouts are those of fathom.h "Recurrent layers (ABI 4)":
//   src (T,N,I), src_iter / src_iter_c / dst_iter / dst_iter_c (L*D,N,H),
//   dst (T,N,D*H), weights 4*L*D tensors (w_ih (G*H,I_k), w_hh (G*H,H),
//   b_ih (G*H), b_hh (G*H)) per layer k and direction, PyTorch's gate rows.
//
// Workspace (training): a WorkspaceHeader (ops/checker.h), then the backend's payload.
// The reference payload holds, per layer, the layer's output (all but the
// last layer, whose output is dst) and per direction the activated gates,
// the cell states (LSTM) and h' W_hn^T + b_hn (GRU_PYTORCH), in the dtype of
// the tensors (see ops/ref/rnn_ref.cpp). oneDNN's holds each layer's
// primitive workspace and the outputs of all but the last layer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

struct RnnParams {
    fathom_rnn_mode mode = FATHOM_RNN_TANH;
    fathom_rnn_backend backend = FATHOM_RNN_AUTO;  // as passed (AUTO unresolved)
    int64_t T = 0, N = 0, I = 0, H = 0;
    int64_t L = 0;  // layers
    int64_t D = 1;  // directions
    int64_t G = 1;  // gates: 1 RNN, 3 GRU, 4 LSTM

    bool lstm() const { return mode == FATHOM_RNN_LSTM; }
    bool gru() const { return mode == FATHOM_RNN_GRU || mode == FATHOM_RNN_GRU_PYTORCH; }
    // Input width of layer k: I for the first layer, D*H above it.
    int64_t input_of(int64_t layer) const { return layer == 0 ? I : D * H; }
    int64_t weights_count() const { return 4 * L * D; }
    // Forward flops of one time step (the widest layer), which sizes the thread
    // grant: threads join at every step (see rnn.cpp).
    // Every pass opens its ThreadGrant with this one estimate, so the
    // forward, the backward and the workspace size use the same cached
    // oneDNN primitives.
    double work_flops() const;
    std::string str() const;  // "mode=lstm T=35 N=32 I=60 H=256 layers=1 bidirectional=0 backend=auto"
};

const char* rnn_mode_name(int32_t mode);  // "tanh", "relu", "gru", "gru_pytorch", "lstm"
// PyTorch's state_dict name of weight w (0-based, contract order), e.g. "bias_hh_l1_reverse".
std::string rnn_weight_name(const RnnParams& p, int64_t w);

// Checks the params alone: a known mode and backend, sizes >= 1 and below
// 2^31, bidirectional 0 or 1, element counts that fit. Throws
// FATHOM_INVALID_ARGUMENT "<op>: ... (mode=... T=... )".
RnnParams check_rnn_params(const char* op, const fathom_rnn_params* p);

// The backend that runs a call (AUTO resolved); refuses ONEDNN for non-F32 and
// in a build without oneDNN (FATHOM_UNSUPPORTED).
fathom_rnn_backend resolve_rnn_backend(const char* op, const RnnParams& p, fathom_dtype dtype);

// The workspace header (ops/checker.h) of a training forward.
constexpr uint32_t kRnnWorkspaceMagic = 0x4e4e5246u;  // "FRNN" in memory

uint64_t rnn_params_hash(const RnnParams& p);  // everything but the backend
// Header plus payload for this dtype and resolved backend.
int64_t rnn_workspace_bytes(const RnnParams& p, fathom_dtype dtype, fathom_rnn_backend backend);

// Validated arguments of one call. Absent (null) operands have data == nullptr.
struct RnnArgs {
    RnnParams p;
    fathom_rnn_backend backend = FATHOM_RNN_REFERENCE;  // resolved
    fathom_dtype dtype = FATHOM_F32;
    bool training = false;
    TensorView src, src_iter, src_iter_c, dst, dst_iter, dst_iter_c;
    const fathom_tensor_desc* weights = nullptr;  // weights_count() descriptors, checked
    // Backward only.
    TensorView diff_dst, diff_dst_iter, diff_dst_iter_c, diff_src, diff_src_iter, diff_src_iter_c;
    const fathom_tensor_desc* diff_weights = nullptr;  // null: no weight gradients
    char* workspace = nullptr;                         // header first; null in inference
    int64_t workspace_bytes = 0;

    // Data of weight w (validated contiguous and shaped), or of diff weight w.
    char* weight(int64_t w) const;
    char* diff_weight(int64_t w) const;
};

// A plan: what fathom_rnn_plan_create validated and chose, immutable.
struct RnnPlan {
    int64_t id = 0;
    RnnParams p;
    fathom_dtype dtype = FATHOM_F32;
    fathom_rnn_backend backend = FATHOM_RNN_REFERENCE;  // resolved
};
// Validates (params, dtype F32/F64) and resolves the backend.
std::shared_ptr<RnnPlan> make_rnn_plan(const fathom_rnn_params* p, int32_t dtype);

// Per call: every operand of the plan's dtype and shape (fathom.h), contiguous;
// the workspace as fathom.h says. Messages "rnn_forward: ... (mode=... T=...)".
RnnArgs check_rnn_forward(const RnnPlan& plan, int32_t training, const fathom_tensor_desc* src,
                          const fathom_tensor_desc* src_iter, const fathom_tensor_desc* src_iter_c,
                          const fathom_tensor_desc* weights, int32_t weights_count,
                          const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                          const fathom_tensor_desc* dst_iter_c,
                          const fathom_tensor_desc* workspace);
RnnArgs check_rnn_backward(const RnnPlan& plan, const fathom_tensor_desc* src,
                           const fathom_tensor_desc* src_iter, const fathom_tensor_desc* src_iter_c,
                           const fathom_tensor_desc* weights, int32_t weights_count,
                           const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                           const fathom_tensor_desc* dst_iter_c, const fathom_tensor_desc* diff_dst,
                           const fathom_tensor_desc* diff_dst_iter,
                           const fathom_tensor_desc* diff_dst_iter_c,
                           const fathom_tensor_desc* workspace, const fathom_tensor_desc* diff_src,
                           const fathom_tensor_desc* diff_src_iter,
                           const fathom_tensor_desc* diff_src_iter_c,
                           const fathom_tensor_desc* diff_weights, int32_t diff_weights_count);

// Dispatch (validated arguments; opens the ThreadGrant, writes the header).
void rnn_forward(const RnnArgs& a);
void rnn_backward(const RnnArgs& a);

// --- kernels -------------------------------------------------------------------
// Plain pointers of one call; every pointer is contiguous data of the shape
// above. Nullable: src_iter, src_iter_c (zeros); in backward diff_dst_iter(_c)
// (zeros) and every diff_* output (not wanted); weights[w] / diff_weights[w]
// index the 4*L*D list (diff_weights null: no weight gradients).
template <typename T>
struct RnnTensors {
    const T* src = nullptr;
    const T* src_iter = nullptr;
    const T* src_iter_c = nullptr;
    const T* const* weights = nullptr;
    T* dst = nullptr;  // const in backward
    T* dst_iter = nullptr;
    T* dst_iter_c = nullptr;
    const T* diff_dst = nullptr;
    const T* diff_dst_iter = nullptr;
    const T* diff_dst_iter_c = nullptr;
    T* diff_src = nullptr;
    T* diff_src_iter = nullptr;
    T* diff_src_iter_c = nullptr;
    T* const* diff_weights = nullptr;
};

// Reference (ops/ref/rnn_ref.cpp): the specification, f32 and f64. workspace is
// the payload (after the header), null in inference.
int64_t rnn_ref_payload_bytes(const RnnParams& p, fathom_dtype dtype);
void rnn_forward_ref(const RnnParams& p, const RnnTensors<float>& t, void* workspace);
void rnn_forward_ref(const RnnParams& p, const RnnTensors<double>& t, void* workspace);
void rnn_backward_ref(const RnnParams& p, const RnnTensors<float>& t, const void* workspace);
void rnn_backward_ref(const RnnParams& p, const RnnTensors<double>& t, const void* workspace);

// oneDNN (ops/dnnl/rnn_dnnl.cpp), F32; `threads` is the call's grant and
// payload_bytes the workspace payload's size (0 in inference), checked
// against the layout of the primitives this call uses.
int64_t rnn_dnnl_payload_bytes(const RnnParams& p, int threads);
void rnn_forward_dnnl(const RnnParams& p, const RnnTensors<float>& t, void* workspace,
                      int64_t payload_bytes, int threads);
void rnn_backward_dnnl(const RnnParams& p, const RnnTensors<float>& t, const void* workspace,
                       int64_t payload_bytes, int threads);

}  // namespace fathom
