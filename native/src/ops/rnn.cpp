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
#include "ops/checker.h"
#include "ops/dispatch.h"
#include "ops/nchw_args.h"

namespace fathom {

namespace {

constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();

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

// The 4*L*D weights (or diff weights): count, then each one's shape.
void check_weight_list(const Checker& ck, const RnnPlan& plan, const char* list,
                       const fathom_tensor_desc* descs, int32_t count, Checker::Access access) {
    const RnnParams& p = plan.p;
    if (descs == nullptr)
        ck.fail(list, " is null but ", p.weights_count(), " tensors are expected");
    if (count != p.weights_count())
        ck.fail(list, " has ", count, " tensors but ", p.weights_count(),
                " are expected (4 per layer and direction: w_ih, w_hh, b_ih, b_hh)");
    for (int64_t w = 0; w < count; ++w) {
        const std::string name =
            std::string(list) + "[" + std::to_string(w) + "] (" + rnn_weight_name(p, w) + ")";
        const int64_t k = w / (4 * p.D), kind = w % 4, rows = p.G * p.H;
        if (kind == 0)
            ck.tensor(name.c_str(), &descs[w], access, {rows, p.input_of(k)}, plan.dtype);
        else if (kind == 1)
            ck.tensor(name.c_str(), &descs[w], access, {rows, p.H}, plan.dtype);
        else
            ck.tensor(name.c_str(), &descs[w], access, {rows}, plan.dtype);
    }
}

// src, src_iter(_c) and dst, dst_iter(_c), weights: shared by both entry points.
void check_common(const Checker& ck, const RnnPlan& plan, RnnArgs& a,
                  const fathom_tensor_desc* src, const fathom_tensor_desc* src_iter,
                  const fathom_tensor_desc* src_iter_c, const fathom_tensor_desc* weights,
                  int32_t weights_count, const fathom_tensor_desc* dst,
                  const fathom_tensor_desc* dst_iter, const fathom_tensor_desc* dst_iter_c,
                  Checker::Access dst_access) {
    const RnnParams& p = a.p;
    const fathom_dtype dt = plan.dtype;
    const int64_t LD = p.L * p.D;
    ck.require(src, "src");
    a.src = ck.tensor("src", src, Checker::kInput, {p.T, p.N, p.I}, dt);
    if (!p.lstm() && src_iter_c != nullptr)
        ck.fail("src_iter_c is given but mode ", rnn_mode_name(p.mode),
                " has no cell state (lstm only)");
    if (!p.lstm() && dst_iter_c != nullptr)
        ck.fail("dst_iter_c is given but mode ", rnn_mode_name(p.mode),
                " has no cell state (lstm only)");
    a.src_iter = ck.optional("src_iter", src_iter, Checker::kInput, {LD, p.N, p.H}, dt);
    a.src_iter_c = ck.optional("src_iter_c", src_iter_c, Checker::kInput, {LD, p.N, p.H}, dt);
    check_weight_list(ck, plan, "weights", weights, weights_count, Checker::kInput);
    a.weights = weights;
    ck.require(dst, "dst");
    ck.require(dst_iter, "dst_iter");
    if (p.lstm()) ck.require(dst_iter_c, "dst_iter_c", " (lstm needs it)");
    a.dst = ck.tensor("dst", dst, dst_access, {p.T, p.N, p.D * p.H}, dt);
    a.dst_iter = ck.tensor("dst_iter", dst_iter, dst_access, {LD, p.N, p.H}, dt);
    a.dst_iter_c = ck.optional("dst_iter_c", dst_iter_c, dst_access, {LD, p.N, p.H}, dt);
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
            payload = a.workspace + sizeof(WorkspaceHeader);
            payload_bytes = a.workspace_bytes - static_cast<int64_t>(sizeof(WorkspaceHeader));
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
    return params_hash({p.mode, p.T, p.N, p.I, p.H, p.L, p.D});
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
    return static_cast<int64_t>(sizeof(WorkspaceHeader)) + payload;
}

char* RnnArgs::weight(int64_t w) const { return to_view(weights[w]).data; }
char* RnnArgs::diff_weight(int64_t w) const { return to_view(diff_weights[w]).data; }

std::shared_ptr<RnnPlan> make_rnn_plan(const fathom_rnn_params* raw, int32_t dtype) {
    const char* op = "rnn_plan_create";
    auto plan = std::make_shared<RnnPlan>();
    plan->p = check_rnn_params(op, raw);
    plan->dtype = require_float_plan_dtype(op, "rnn", dtype, [&] { return plan->p.str(); });
    plan->backend = resolve_rnn_backend(op, plan->p, plan->dtype);
    return plan;
}

namespace {

WorkspaceExpectation expected_workspace(const RnnPlan& plan, int64_t bytes) {
    return {kRnnWorkspaceMagic, "a training rnn_forward", "rnn", plan.backend, plan.dtype, "src",
            rnn_params_hash(plan.p), bytes};
}

}  // namespace

RnnArgs check_rnn_forward(const RnnPlan& plan, int32_t training, const fathom_tensor_desc* src,
                          const fathom_tensor_desc* src_iter, const fathom_tensor_desc* src_iter_c,
                          const fathom_tensor_desc* weights, int32_t weights_count,
                          const fathom_tensor_desc* dst, const fathom_tensor_desc* dst_iter,
                          const fathom_tensor_desc* dst_iter_c,
                          const fathom_tensor_desc* workspace) {
    const auto context = [&] { return plan.p.str(); };
    const Checker ck("rnn_forward", context);
    RnnArgs a;
    a.p = plan.p;
    a.dtype = plan.dtype;
    a.backend = plan.backend;
    if (training != 0 && training != 1) ck.fail("training=", training, " must be 0 or 1");
    a.training = training != 0;
    check_common(ck, plan, a, src, src_iter, src_iter_c, weights, weights_count, dst, dst_iter,
                 dst_iter_c, Checker::kOutput);
    int64_t numel = 0;
    a.workspace = ck.workspace(workspace, 64, &numel);
    if (a.training && workspace == nullptr)
        ck.fail("training=1 needs the workspace of the plan's workspace_bytes");
    if (!a.training && workspace != nullptr)
        ck.fail("workspace is given but training=0 (inference writes none)");
    if (a.training) {
        a.workspace_bytes = rnn_workspace_bytes(a.p, a.dtype, a.backend);
        if (numel != a.workspace_bytes)
            ck.fail("workspace holds ", numel, " bytes but the plan's workspace_bytes is ",
                    a.workspace_bytes);
    }
    return a;
}

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
                           const fathom_tensor_desc* diff_weights, int32_t diff_weights_count) {
    const auto context = [&] { return plan.p.str(); };
    const Checker ck("rnn_backward", context);
    RnnArgs a;
    a.p = plan.p;
    a.dtype = plan.dtype;
    a.backend = plan.backend;
    const RnnParams& p = a.p;
    const fathom_dtype dt = plan.dtype;
    const int64_t LD = p.L * p.D;
    a.training = true;
    check_common(ck, plan, a, src, src_iter, src_iter_c, weights, weights_count, dst, dst_iter,
                 dst_iter_c, Checker::kInput);
    if (!p.lstm() && (diff_dst_iter_c != nullptr || diff_src_iter_c != nullptr))
        ck.fail(diff_dst_iter_c ? "diff_dst_iter_c" : "diff_src_iter_c", " is given but mode ",
                rnn_mode_name(p.mode), " has no cell state (lstm only)");
    ck.require(diff_dst, "diff_dst");
    a.diff_dst = ck.tensor("diff_dst", diff_dst, Checker::kInput, {p.T, p.N, p.D * p.H}, dt);
    a.diff_dst_iter =
        ck.optional("diff_dst_iter", diff_dst_iter, Checker::kInput, {LD, p.N, p.H}, dt);
    a.diff_dst_iter_c =
        ck.optional("diff_dst_iter_c", diff_dst_iter_c, Checker::kInput, {LD, p.N, p.H}, dt);
    a.diff_src = ck.optional("diff_src", diff_src, Checker::kOutput, {p.T, p.N, p.I}, dt);
    a.diff_src_iter =
        ck.optional("diff_src_iter", diff_src_iter, Checker::kOutput, {LD, p.N, p.H}, dt);
    a.diff_src_iter_c =
        ck.optional("diff_src_iter_c", diff_src_iter_c, Checker::kOutput, {LD, p.N, p.H}, dt);
    if (diff_weights != nullptr || diff_weights_count != 0) {
        check_weight_list(ck, plan, "diff_weights", diff_weights, diff_weights_count,
                          Checker::kOutput);
        a.diff_weights = diff_weights;
    }
    ck.require(workspace, "workspace", " (backward needs the forward's)");
    int64_t numel = 0;
    a.workspace = ck.workspace(workspace, 64, &numel);
    a.workspace_bytes = rnn_workspace_bytes(p, a.dtype, a.backend);
    check_workspace_header(ck, a.workspace, numel, expected_workspace(plan, a.workspace_bytes));
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
    if (a.workspace)
        write_workspace_header(a.workspace,
                               {kRnnWorkspaceMagic, "a training rnn_forward", "rnn", a.backend,
                                a.dtype, "src", rnn_params_hash(a.p), a.workspace_bytes});
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
