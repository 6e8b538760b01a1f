// Recurrent layers: parameter and descriptor checks, the workspace header and
// dispatch to the reference or oneDNN kernels (ops/rnn.h). Everything is
// checked before anything is written, so a refused call leaves its outputs
// and the workspace as they were. Messages name the entry point, the operand,
// the shapes and the params, e.g.
//   rnn_forward: weights[1] (weight_hh_l0) [12,4] does not match the expected [12,3] (mode=gru ...)
#include "ops/rnn.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include "core/cpu_rules.h"
#include "core/error.h"
#include "core/threads.h"
#include "ops/dispatch.h"
#include "ops/nchw_args.h"

namespace fathom {

namespace {

constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();

const char* backend_name(int32_t b) {
    switch (b) {
        case FATHOM_RNN_AUTO: return "auto";
        case FATHOM_RNN_REFERENCE: return "reference";
        case FATHOM_RNN_ONEDNN: return "oneDNN";
        default: return "unknown";
    }
}

std::string describe(const fathom_rnn_params& r) {
    std::ostringstream os;
    os << "mode=" << rnn_mode_name(r.mode) << " T=" << r.seq_len << " N=" << r.batch
       << " I=" << r.input_size << " H=" << r.hidden_size << " layers=" << r.layers
       << " bidirectional=" << r.bidirectional << " backend=" << backend_name(r.backend);
    return os.str();
}

fathom_rnn_params raw_of(const RnnParams& p) {
    fathom_rnn_params r{};
    r.mode = p.mode;
    r.backend = p.backend;
    r.seq_len = p.T;
    r.batch = p.N;
    r.input_size = p.I;
    r.hidden_size = p.H;
    r.layers = static_cast<int32_t>(p.L);
    r.bidirectional = p.D == 2 ? 1 : 0;
    return r;
}

// Checks of one call; every message ends with the params.
class Checker {
public:
    Checker(const char* op, const RnnParams& p) : op_(op), p_(p) {}

    template <typename... Parts>
    [[noreturn]] void fail_with(const Parts&... parts) const {
        fail_status(FATHOM_INVALID_ARGUMENT, parts...);
    }
    template <typename... Parts>
    [[noreturn]] void fail_status(fathom_status status, const Parts&... parts) const {
        std::ostringstream os;
        os << op_ << ": ";
        (os << ... << parts);
        os << " (" << p_.str() << ")";
        throw Error(status, os.str());
    }

    // A present operand: descriptor checks, exact shape, contiguity, and the
    // dtype of `like` (the first operand), which must be F32 or F64.
    TensorView tensor(const char* name, const fathom_tensor_desc* desc, bool output,
                      std::initializer_list<int64_t> expected, const TensorView* like) const {
        TensorView t;
        try {
            t = output ? output_view(op_, name, desc) : input_view(op_, name, desc);
            if (like == nullptr) require_float(op_, t, name);
        } catch (const Error& e) {
            throw Error(e.status(), std::string(e.what()) + " (" + p_.str() + ")");
        }
        if (like != nullptr && t.dtype != like->dtype)
            fail_with("dtype ", dtype_name(t.dtype), " of ", name, " ", shape_str(t),
                      " does not match src ", dtype_name(like->dtype));
        try {
            require_exact_shape(op_, t, name, expected);
            require_contiguous(op_, t, name);
        } catch (const Error& e) {
            throw Error(e.status(), std::string(e.what()) + " (" + p_.str() + ")");
        }
        return t;
    }

    // An operand that may be null.
    TensorView optional(const char* name, const fathom_tensor_desc* desc, bool output,
                        std::initializer_list<int64_t> expected, const TensorView* like) const {
        return desc == nullptr ? TensorView{} : tensor(name, desc, output, expected, like);
    }

    // The 4*L*D weights (or diff weights): count, then each one's shape.
    void weight_list(const char* list, const fathom_tensor_desc* descs, int32_t count,
                     bool output, const TensorView& like) const {
        if (descs == nullptr)
            fail_with(list, " is null but ", p_.weights_count(), " tensors are expected");
        if (count != p_.weights_count())
            fail_with(list, " has ", count, " tensors but ", p_.weights_count(),
                      " are expected (4 per layer and direction: w_ih, w_hh, b_ih, b_hh)");
        for (int64_t w = 0; w < count; ++w) {
            const std::string name =
                std::string(list) + "[" + std::to_string(w) + "] (" + rnn_weight_name(p_, w) + ")";
            const int64_t k = w / (4 * p_.D), kind = w % 4, rows = p_.G * p_.H;
            if (kind == 0)
                tensor(name.c_str(), &descs[w], output, {rows, p_.input_of(k)}, &like);
            else if (kind == 1)
                tensor(name.c_str(), &descs[w], output, {rows, p_.H}, &like);
            else
                tensor(name.c_str(), &descs[w], output, {rows}, &like);
        }
    }

    // The workspace: null, or a contiguous, 64-byte aligned BOOL tensor.
    char* workspace(const fathom_tensor_desc* desc, int64_t* numel) const {
        *numel = 0;
        if (desc == nullptr) return nullptr;
        const TensorView ws = input_view(op_, "workspace", desc);
        if (ws.dtype != FATHOM_BOOL)
            fail_with("workspace ", shape_str(ws), " must be bool (bytes), got ",
                      dtype_name(ws.dtype));
        require_contiguous(op_, ws, "workspace");
        *numel = ws.numel();
        if (reinterpret_cast<uintptr_t>(ws.data) % 64 != 0)
            fail_with("workspace address must be 64-byte aligned");
        return ws.data;
    }

private:
    const char* op_;
    const RnnParams& p_;
};

// src, src_iter(_c) and dst, dst_iter(_c), weights: shared by both entry points.
void check_common(const Checker& ck, RnnArgs& a, const fathom_tensor_desc* src,
                  const fathom_tensor_desc* src_iter, const fathom_tensor_desc* src_iter_c,
                  const fathom_tensor_desc* weights, int32_t weights_count,
                  const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                  const fathom_tensor_desc* dst_iter_c, bool dst_is_output) {
    const RnnParams& p = a.p;
    const int64_t LD = p.L * p.D;
    if (src == nullptr) ck.fail_with("src is null");
    a.src = ck.tensor("src", src, false, {p.T, p.N, p.I}, nullptr);
    a.dtype = a.src.dtype;
    if (!p.lstm() && src_iter_c != nullptr)
        ck.fail_with("src_iter_c is given but mode ", rnn_mode_name(p.mode),
                     " has no cell state (lstm only)");
    if (!p.lstm() && dst_iter_c != nullptr)
        ck.fail_with("dst_iter_c is given but mode ", rnn_mode_name(p.mode),
                     " has no cell state (lstm only)");
    a.src_iter = ck.optional("src_iter", src_iter, false, {LD, p.N, p.H}, &a.src);
    a.src_iter_c = ck.optional("src_iter_c", src_iter_c, false, {LD, p.N, p.H}, &a.src);
    ck.weight_list("weights", weights, weights_count, false, a.src);
    a.weights = weights;
    if (dst == nullptr) ck.fail_with("dst is null");
    if (dst_iter == nullptr) ck.fail_with("dst_iter is null");
    if (p.lstm() && dst_iter_c == nullptr) ck.fail_with("dst_iter_c is null (lstm needs it)");
    a.dst = ck.tensor("dst", dst, dst_is_output, {p.T, p.N, p.D * p.H}, &a.src);
    a.dst_iter = ck.tensor("dst_iter", dst_iter, dst_is_output, {LD, p.N, p.H}, &a.src);
    a.dst_iter_c = ck.optional("dst_iter_c", dst_iter_c, dst_is_output, {LD, p.N, p.H}, &a.src);
}

// The typed pointers of one call (weights as arrays) and its workspace payload.
template <typename T>
struct Call {
    std::vector<const T*> w;
    std::vector<T*> dw;
    RnnTensors<T> t;
    char* payload = nullptr;     // after the header; null in inference
    int64_t payload_bytes = 0;

    explicit Call(const RnnArgs& a) {
        auto in = [](const TensorView& v) { return reinterpret_cast<const T*>(v.data); };
        auto out = [](const TensorView& v) { return reinterpret_cast<T*>(v.data); };
        t.src = in(a.src);
        t.src_iter = in(a.src_iter);
        t.src_iter_c = in(a.src_iter_c);
        for (int64_t i = 0; i < a.p.weights_count(); ++i)
            w.push_back(reinterpret_cast<const T*>(a.weight(i)));
        t.weights = w.data();
        t.dst = out(a.dst);
        t.dst_iter = out(a.dst_iter);
        t.dst_iter_c = out(a.dst_iter_c);
        t.diff_dst = in(a.diff_dst);
        t.diff_dst_iter = in(a.diff_dst_iter);
        t.diff_dst_iter_c = in(a.diff_dst_iter_c);
        t.diff_src = out(a.diff_src);
        t.diff_src_iter = out(a.diff_src_iter);
        t.diff_src_iter_c = out(a.diff_src_iter_c);
        if (a.diff_weights != nullptr) {
            for (int64_t i = 0; i < a.p.weights_count(); ++i)
                dw.push_back(reinterpret_cast<T*>(a.diff_weight(i)));
            t.diff_weights = dw.data();
        }
        if (a.workspace != nullptr) {
            payload = a.workspace + sizeof(RnnWorkspaceHeader);
            payload_bytes = a.workspace_bytes - static_cast<int64_t>(sizeof(RnnWorkspaceHeader));
        }
    }
    Call(const Call&) = delete;  // t points into w and dw
    Call& operator=(const Call&) = delete;
};

}  // namespace

const char* rnn_mode_name(int32_t mode) {
    switch (mode) {
        case FATHOM_RNN_TANH: return "tanh";
        case FATHOM_RNN_RELU: return "relu";
        case FATHOM_RNN_GRU: return "gru";
        case FATHOM_RNN_GRU_PYTORCH: return "gru_pytorch";
        case FATHOM_RNN_LSTM: return "lstm";
        default: return "unknown";
    }
}

std::string rnn_weight_name(const RnnParams& p, int64_t w) {
    static const char* const kinds[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    const int64_t k = w / (4 * p.D), dir = (w / 4) % p.D;
    return std::string(kinds[w % 4]) + "_l" + std::to_string(k) + (dir ? "_reverse" : "");
}

// Sized by one time step's forward work, not the sequence's: the recurrence
// joins the threads at every step, and with passive waiting (libfathom_env)
// each join costs a wake-up. Measured on the char-LM shapes (batch 32, hidden
// 256, 35 steps, 2 cores): sequence sizing gave 2 threads and 66k tokens/s
// (RNN), 42k (GRU), 45k (LSTM) for a training step; 1 thread gave 187k, 80k, 60k.
// How much step work pays for a second thread's wake-ups is per CPU
// (cpu_rules.h): on Zen 4 the LSTM's 18.6 MFLOP step gains from two.
double RnnParams::work_flops() const {
    double step = 0;
    for (int64_t k = 0; k < L; ++k)
        step = std::max(step, 2.0 * static_cast<double>(N) * static_cast<double>(G * H) *
                                  static_cast<double>(input_of(k) + H) * static_cast<double>(D));
    return step * (kFlopsPerThread / cpu_rules().rnn_step_flops_per_thread);
}

std::string RnnParams::str() const { return describe(raw_of(*this)); }

RnnParams check_rnn_params(const char* op, const fathom_rnn_params* raw) {
    if (raw == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    const fathom_rnn_params& r = *raw;
    auto bad = [&](const auto&... parts) {
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", parts..., " (", describe(r), ")");
    };
    if (r.mode < FATHOM_RNN_TANH || r.mode > FATHOM_RNN_LSTM) bad("unknown mode ", r.mode);
    if (r.backend != FATHOM_RNN_AUTO && r.backend != FATHOM_RNN_REFERENCE &&
        r.backend != FATHOM_RNN_ONEDNN)
        bad("unknown backend ", r.backend);
    const struct {
        const char* name;
        int64_t value;
    } sizes[] = {{"seq_len", r.seq_len},
                 {"batch", r.batch},
                 {"input_size", r.input_size},
                 {"hidden_size", r.hidden_size},
                 {"layers", r.layers}};
    for (const auto& s : sizes) {
        if (s.value < 1) bad(s.name, "=", s.value, " must be >= 1");
        if (s.value > kMaxSize) bad(s.name, "=", s.value, " is above 2^31-1");
    }
    if (r.bidirectional != 0 && r.bidirectional != 1)
        bad("bidirectional=", r.bidirectional, " must be 0 or 1");
    RnnParams p;
    p.mode = static_cast<fathom_rnn_mode>(r.mode);
    p.backend = static_cast<fathom_rnn_backend>(r.backend);
    p.T = r.seq_len, p.N = r.batch, p.I = r.input_size, p.H = r.hidden_size;
    p.L = r.layers;
    p.D = r.bidirectional ? 2 : 1;
    p.G = p.lstm() ? 4 : p.gru() ? 3 : 1;
    // NOTE: 2^52 elements per tensor (and per workspace part, a few times the
    // gates T*N*G*H*L*D) keeps every byte count below 2^63 with room to spare.
    const double limit = static_cast<double>(int64_t{1} << 52);
    const double gates = static_cast<double>(p.T) * p.N * p.G * p.H * p.L * p.D;
    const double weights = static_cast<double>(p.G * p.H) * (std::max(p.I, p.D * p.H) + p.H);
    if (gates > limit || weights > limit || static_cast<double>(p.T) * p.N * p.I > limit)
        bad("sizes too large (more than 2^52 elements in one tensor)");
    return p;
}

// The backend enums share their values, so the CNN resolver serves both.
static_assert(FATHOM_RNN_AUTO == static_cast<int>(FATHOM_CNN_AUTO) &&
                  FATHOM_RNN_REFERENCE == static_cast<int>(FATHOM_CNN_REFERENCE) &&
                  FATHOM_RNN_ONEDNN == static_cast<int>(FATHOM_CNN_ONEDNN),
              "fathom_rnn_backend mirrors fathom_cnn_backend");

fathom_rnn_backend resolve_rnn_backend(const char* op, const RnnParams& p, fathom_dtype dtype) {
    const auto cnn = resolve_cnn_backend(op, p.backend, dtype);
    return cnn == FATHOM_CNN_ONEDNN ? FATHOM_RNN_ONEDNN : FATHOM_RNN_REFERENCE;
}

uint64_t rnn_params_hash(const RnnParams& p) {
    const int64_t v[] = {p.mode, p.T, p.N, p.I, p.H, p.L, p.D};
    uint64_t h = 1469598103934665603ull;
    for (int64_t x : v)
        for (int b = 0; b < 8; ++b)
            h = (h ^ ((static_cast<uint64_t>(x) >> (8 * b)) & 0xff)) * 1099511628211ull;
    return h;
}

int64_t rnn_workspace_bytes(const RnnParams& p, fathom_dtype dtype, fathom_rnn_backend backend) {
    int64_t payload = 0;
#ifdef FATHOM_WITH_DNNL
    if (backend == FATHOM_RNN_ONEDNN) {
        ThreadGrant grant(p.work_flops());
        payload = rnn_dnnl_payload_bytes(p, grant.threads());
    }
#endif
    if (backend != FATHOM_RNN_ONEDNN) payload = rnn_ref_payload_bytes(p, dtype);
    return static_cast<int64_t>(sizeof(RnnWorkspaceHeader)) + payload;
}

char* RnnArgs::weight(int64_t w) const { return to_view(weights[w]).data; }
char* RnnArgs::diff_weight(int64_t w) const { return to_view(diff_weights[w]).data; }

RnnArgs check_rnn_forward(const fathom_rnn_params* params, int32_t training,
                          const fathom_tensor_desc* src, const fathom_tensor_desc* src_iter,
                          const fathom_tensor_desc* src_iter_c, const fathom_tensor_desc* weights,
                          int32_t weights_count, const fathom_tensor_desc* dst,
                          const fathom_tensor_desc* dst_iter, const fathom_tensor_desc* dst_iter_c,
                          const fathom_tensor_desc* workspace) {
    const char* op = "rnn_forward";
    RnnArgs a;
    a.p = check_rnn_params(op, params);
    const Checker ck(op, a.p);
    if (training != 0 && training != 1) ck.fail_with("training=", training, " must be 0 or 1");
    a.training = training != 0;
    check_common(ck, a, src, src_iter, src_iter_c, weights, weights_count, dst, dst_iter,
                 dst_iter_c, true);
    a.backend = resolve_rnn_backend(op, a.p, a.dtype);
    int64_t numel = 0;
    a.workspace = ck.workspace(workspace, &numel);
    if (a.training && workspace == nullptr)
        ck.fail_with("training=1 needs the workspace of rnn_workspace_bytes");
    if (!a.training && workspace != nullptr)
        ck.fail_with("workspace is given but training=0 (inference writes none)");
    if (a.training) {
        a.workspace_bytes = rnn_workspace_bytes(a.p, a.dtype, a.backend);
        if (numel != a.workspace_bytes)
            ck.fail_with("workspace holds ", numel, " bytes but rnn_workspace_bytes is ",
                         a.workspace_bytes);
    }
    return a;
}

RnnArgs check_rnn_backward(const fathom_rnn_params* params, const fathom_tensor_desc* src,
                           const fathom_tensor_desc* src_iter, const fathom_tensor_desc* src_iter_c,
                           const fathom_tensor_desc* weights, int32_t weights_count,
                           const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                           const fathom_tensor_desc* dst_iter_c, const fathom_tensor_desc* diff_dst,
                           const fathom_tensor_desc* diff_dst_iter,
                           const fathom_tensor_desc* diff_dst_iter_c,
                           const fathom_tensor_desc* workspace, const fathom_tensor_desc* diff_src,
                           const fathom_tensor_desc* diff_src_iter,
                           const fathom_tensor_desc* diff_src_iter_c,
                           const fathom_tensor_desc* diff_weights, int32_t diff_weights_count) {
    const char* op = "rnn_backward";
    RnnArgs a;
    a.p = check_rnn_params(op, params);
    const RnnParams& p = a.p;
    const Checker ck(op, p);
    const int64_t LD = p.L * p.D;
    a.training = true;
    check_common(ck, a, src, src_iter, src_iter_c, weights, weights_count, dst, dst_iter,
                 dst_iter_c, false);
    a.backend = resolve_rnn_backend(op, p, a.dtype);
    if (!p.lstm() && (diff_dst_iter_c != nullptr || diff_src_iter_c != nullptr))
        ck.fail_with(diff_dst_iter_c ? "diff_dst_iter_c" : "diff_src_iter_c",
                     " is given but mode ", rnn_mode_name(p.mode),
                     " has no cell state (lstm only)");
    if (diff_dst == nullptr) ck.fail_with("diff_dst is null");
    a.diff_dst = ck.tensor("diff_dst", diff_dst, false, {p.T, p.N, p.D * p.H}, &a.src);
    a.diff_dst_iter = ck.optional("diff_dst_iter", diff_dst_iter, false, {LD, p.N, p.H}, &a.src);
    a.diff_dst_iter_c =
        ck.optional("diff_dst_iter_c", diff_dst_iter_c, false, {LD, p.N, p.H}, &a.src);
    a.diff_src = ck.optional("diff_src", diff_src, true, {p.T, p.N, p.I}, &a.src);
    a.diff_src_iter = ck.optional("diff_src_iter", diff_src_iter, true, {LD, p.N, p.H}, &a.src);
    a.diff_src_iter_c =
        ck.optional("diff_src_iter_c", diff_src_iter_c, true, {LD, p.N, p.H}, &a.src);
    if (diff_weights != nullptr || diff_weights_count != 0) {
        ck.weight_list("diff_weights", diff_weights, diff_weights_count, true, a.src);
        a.diff_weights = diff_weights;
    }

    if (workspace == nullptr) ck.fail_with("workspace is null (backward needs the forward's)");
    int64_t numel = 0;
    a.workspace = ck.workspace(workspace, &numel);
    // The header first: a workspace from another backend or dtype also has
    // another size, and "written by oneDNN" says more than "holds 1234 bytes".
    RnnWorkspaceHeader h;
    if (numel < static_cast<int64_t>(sizeof(h)))
        ck.fail_with("workspace holds ", numel, " bytes, less than its header");
    std::memcpy(&h, a.workspace, sizeof(h));
    if (h.magic != kRnnWorkspaceMagic || h.version != 1)
        ck.fail_with("workspace was not written by a training rnn_forward");
    if (h.backend != a.backend)
        ck.fail_with("workspace was written by the ", backend_name(h.backend),
                     " backend but this call runs the ", backend_name(a.backend), " backend");
    if (h.dtype != a.dtype)
        ck.fail_with("workspace was written for ", dtype_name(h.dtype), " but src is ",
                     dtype_name(a.dtype));
    a.workspace_bytes = rnn_workspace_bytes(p, a.dtype, a.backend);
    if (h.params_hash != rnn_params_hash(p) ||
        h.payload_bytes != a.workspace_bytes - static_cast<int64_t>(sizeof(h)))
        ck.fail_with("workspace was written for other rnn params");
    if (numel != a.workspace_bytes)
        ck.fail_with("workspace holds ", numel, " bytes but rnn_workspace_bytes is ",
                     a.workspace_bytes);
    return a;
}

void rnn_forward(const RnnArgs& a) {
    run_kernel(
        a.backend == FATHOM_RNN_ONEDNN, a.dtype, a.p.work_flops(),
        [&](int threads) {
            const Call<float> c(a);
            rnn_forward_dnnl(a.p, c.t, c.payload, c.payload_bytes, threads);
        },
        [&](auto zero) {
            const Call<decltype(zero)> c(a);
            rnn_forward_ref(a.p, c.t, c.payload);
        });
    if (a.workspace) {
        RnnWorkspaceHeader h{};
        h.magic = kRnnWorkspaceMagic;
        h.version = 1;
        h.backend = a.backend;
        h.dtype = a.dtype;
        h.payload_bytes = a.workspace_bytes - static_cast<int64_t>(sizeof(h));
        h.params_hash = rnn_params_hash(a.p);
        std::memcpy(a.workspace, &h, sizeof(h));
    }
}

void rnn_backward(const RnnArgs& a) {
    run_kernel(
        a.backend == FATHOM_RNN_ONEDNN, a.dtype, a.p.work_flops(),
        [&](int threads) {
            const Call<float> c(a);
            rnn_backward_dnnl(a.p, c.t, c.payload, c.payload_bytes, threads);
        },
        [&](auto zero) {
            const Call<decltype(zero)> c(a);
            rnn_backward_ref(a.p, c.t, c.payload);
        });
}

}  // namespace fathom
