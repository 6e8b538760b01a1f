// oneDNN backend for fathom_conv2d_*: convolution_forward,
// convolution_backward_data and convolution_backward_weights on F32.
//
// Layouts. Primitives are created with format_tag::any for src, weights and
// dst (diff_* alike), so oneDNN picks its blocked layouts (nChw16c,
// OIhw16i16o, nhwc, ...) and a JIT/brgemm kernel; the caller's buffers (NCHW,
// or nChw16c activations where their descriptors say so, OIHW / GOIHW weights)
// are reordered into those layouts before the primitive runs and back after
// it, unless they already match. Java keeps activations in nChw16c between
// layers when the plan says the kernel uses it, so inside a run
// of layers only the weights are reordered. NOTE: plain nchw descriptors made oneDNN
// fall back to a reference kernel at 0.3 GFLOP/s (docs/design.md, build facts), so a
// plain-activation (nchw) primitive (oneDNN's im2col + GEMM) is only used where
// a shape rule or tuning measured it faster, and reference implementations are
// never tried (see "Shape rules" and "Autotuning").
// Reordered weights are not kept across calls: they change every step.
// A 1x1 input that meets a single kernel tap runs as a 1x1 convolution
// (single_tap, at the end).
//
// prop_kind. forward_training unless post_relu, which is fused as an
// eltwise_relu post-op into a forward_inference primitive: the ABI allows
// post_relu only in forward, because relu's backward needs the pre-relu mask
// that a fused kernel never stores. For convolution both kinds compute the
// same numbers (no workspace), though oneDNN may pick different kernels. The
// backward passes are created with a forward_training primitive_desc (no
// post-ops) as their hint, as in oneDNN's cnn_training_f32 example.
// Bias and diff_bias go through the primitives (plain `a` layout, which oneDNN
// keeps, so they are used in place).
//
// Caching. Per thread (memory objects are not thread-safe to share), keyed by
// (plan, threads, pass, layouts): the primitive, its reorders and the memory objects
// that describe each layout. The blocked buffers themselves and the oneDNN
// scratchpad (scratchpad_mode::user) are per-thread scratch slots that grow to
// the largest shape seen and are reused by every cached entry, so a thread
// holds about one layer's worth of blocked copies, not one per cached shape.
// NOTE: that memory (up to a few times the largest activation) stays with the
// thread until it exits and is not counted by fathom_live_bytes.
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/cpu_rules.h"
#include "core/error.h"
#include "core/threads.h"
#include "ops/conv2d.h"
#include "ops/gemm.h"

namespace fathom {

namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

enum class Pass : int32_t { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

// The geometry is the plan's: a key names the plan, not its params.
struct ConvKey {
    int64_t plan_id;
    int32_t variant;  // Conv2dParams::variant
    int32_t threads;
    int32_t pass;
    int32_t layouts;  // the call's activation layouts
    bool operator==(const ConvKey& o) const {
        return plan_id == o.plan_id && variant == o.variant && threads == o.threads &&
               pass == o.pass && layouts == o.layouts;
    }
};

struct ConvKeyHash {
    size_t operator()(const ConvKey& key) const {
        size_t h = static_cast<size_t>(key.plan_id) * 1099511628211ull;
        for (int32_t v : {key.variant, key.threads, key.pass, key.layouts})
            h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
        return h;
    }
};

// Per-thread growable buffers for blocked copies and the scratchpad, so that
// cached entries hold no data memory. Port i of any entry uses slot i, the
// scratchpad the last one. Contents never outlive one call.
constexpr int kMaxPorts = 4;
constexpr int kScratchpadSlot = kMaxPorts;

class ScratchSlot {
public:
    ScratchSlot() = default;
    ScratchSlot(const ScratchSlot&) = delete;
    ScratchSlot& operator=(const ScratchSlot&) = delete;
    ~ScratchSlot() { std::free(ptr_); }
    void* get(size_t bytes) {
        if (bytes > size_) {
            std::free(ptr_);
            ptr_ = nullptr;
            size_ = 0;
            const size_t rounded = (bytes + 63) / 64 * 64;
            ptr_ = std::aligned_alloc(64, rounded);
            if (!ptr_) throw std::bad_alloc();
            size_ = rounded;
        }
        return ptr_;
    }

private:
    void* ptr_ = nullptr;
    size_t size_ = 0;
};

// One operand: the caller's plain memory and, when the primitive wants another
// layout, the blocked memory plus the reorder between them (user -> inner for
// inputs, inner -> user for outputs).
struct Port {
    dnnl::memory user;
    dnnl::memory inner;  // == user when no reorder is needed
    dnnl::reorder reorder;
    bool reordered = false;
    bool output = false;
};

struct ConvEntry {
    dnnl::primitive primitive;
    std::vector<Port> ports;  // in the order the kernel entry points pass buffers
    std::unordered_map<int, dnnl::memory> args;  // DNNL_ARG_* -> port.inner (+ scratchpad)
    dnnl::memory scratchpad;
    size_t scratchpad_bytes = 0;
    std::string impl;  // oneDNN's implementation name
};

dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

dnnl::memory::desc image_md(int64_t n, int64_t c, int64_t h, int64_t w, tag t) {
    return dnnl::memory::desc(dims{n, c, h, w}, dt::f32, t);
}

// The caller's (N,C,H,W) and (N,K,OH,OW) buffers: NCHW, or nChw16c where
// p.layouts says so (with one position per image those are the same bytes,
// described as NCHW).
dnnl::memory::desc src_user(const Conv2dParams& p) {
    const bool blocked = p.src_blocked() && p.h * p.w > 1;
    return image_md(p.n, p.c, p.h, p.w, blocked ? tag::nChw16c : tag::nchw);
}
dnnl::memory::desc dst_user(const Conv2dParams& p) {
    const bool blocked = p.dst_blocked() && p.oh * p.ow > 1;
    return image_md(p.n, p.k, p.oh, p.ow, blocked ? tag::nChw16c : tag::nchw);
}

// Weights (K,Cg,KH,KW); with groups oneDNN wants (G,Kg,Cg,KH,KW), the same bytes.
dnnl::memory::desc weights_md(const Conv2dParams& p, bool any) {
    if (p.groups == 1)
        return dnnl::memory::desc(dims{p.k, p.c, p.kh, p.kw}, dt::f32, any ? tag::any : tag::oihw);
    return dnnl::memory::desc(dims{p.groups, p.kg(), p.cg(), p.kh, p.kw}, dt::f32,
                              any ? tag::any : tag::goihw);
}

dnnl::memory::desc bias_md(const Conv2dParams& p) {
    return p.has_bias ? dnnl::memory::desc(dims{p.k}, dt::f32, tag::a) : dnnl::memory::desc();
}

struct Geometry {
    dims strides, dilates, pad_l, pad_r;
};

Geometry geometry(const Conv2dParams& p) {
    // oneDNN counts dilation from 0 (0 = dense). Right padding equal to the left
    // one: oneDNN checks OH = (H - span + pl + pr) / sh + 1 with floor division,
    // which is our formula, and never reads padding no output needs.
    return Geometry{dims{p.sh, p.sw}, dims{p.dh - 1, p.dw - 1}, dims{p.ph, p.pw},
                    dims{p.ph, p.pw}};
}

Port make_port(const dnnl::memory::desc& user_md, const dnnl::memory::desc& inner_md,
               bool output) {
    auto& eng = cpu_engine();
    Port port;
    port.user = dnnl::memory(user_md, eng, DNNL_MEMORY_NONE);
    port.output = output;
    port.reordered = inner_md != user_md;
    if (port.reordered) {
        port.inner = dnnl::memory(inner_md, eng, DNNL_MEMORY_NONE);
        port.reorder = output ? dnnl::reorder(port.inner, port.user)
                              : dnnl::reorder(port.user, port.inner);
    } else {
        port.inner = port.user;
    }
    return port;
}

dnnl::primitive_attr base_attr() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Conv2dParams& p, tag act,
                                                     bool training, bool with_bias,
                                                     const dnnl::primitive_attr& attr) {
    const Geometry g = geometry(p);
    return dnnl::convolution_forward::primitive_desc(
        cpu_engine(), training ? dnnl::prop_kind::forward_training
                               : dnnl::prop_kind::forward_inference,
        dnnl::algorithm::convolution_direct, image_md(p.n, p.c, p.h, p.w, act),
        weights_md(p, true), with_bias ? bias_md(p) : dnnl::memory::desc(),
        image_md(p.n, p.k, p.oh, p.ow, act), g.strides, g.dilates, g.pad_l, g.pad_r, attr);
}

void finish(ConvEntry& e, const dnnl::primitive_desc_base& pd, const int* arg_of_port) {
    e.scratchpad_bytes = pd.scratchpad_desc().get_size();
    if (e.scratchpad_bytes > 0)
        e.scratchpad = dnnl::memory(pd.scratchpad_desc(), cpu_engine(), DNNL_MEMORY_NONE);
    for (size_t i = 0; i < e.ports.size(); ++i) e.args[arg_of_port[i]] = e.ports[i].inner;
    if (e.scratchpad_bytes > 0) e.args[DNNL_ARG_SCRATCHPAD] = e.scratchpad;
}

dnnl::primitive_attr forward_attr(const Conv2dParams& p) {
    dnnl::primitive_attr attr = base_attr();
    if (p.post_relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
    }
    return attr;
}

// Calls fn(pd) with the primitive_desc of (p, pass) for activations in layout
// `act` (any or plain nchw), at each implementation in oneDNN's order (its
// first choice first), until fn returns false. Throws dnnl::error when none
// exists. NOTE: implementations are picked by walking next_impl() on one pd:
// a fresh pd stepped k times did not reliably reach the k-th entry (oneDNN
// 3.11 returned the first one again for pds it had created before).
template <typename Fn>
void for_each_impl(const Conv2dParams& p, Pass pass, tag act, Fn fn) {
    const Geometry g = geometry(p);
    if (pass == Pass::Forward) {
        auto pd = forward_pd(p, act, /*training=*/!p.post_relu, p.has_bias, forward_attr(p));
        do {
            if (!fn(pd)) return;
        } while (pd.next_impl());
        return;
    }
    const dnnl::primitive_attr attr = base_attr();
    // A backward pd uses its hint while it steps, so the hint lives as long.
    const auto hint = forward_pd(p, act, /*training=*/true,
                                 /*with_bias=*/pass == Pass::BackwardWeights && p.has_bias, attr);
    if (pass == Pass::BackwardData) {
        auto pd = dnnl::convolution_backward_data::primitive_desc(
            cpu_engine(), dnnl::algorithm::convolution_direct, image_md(p.n, p.c, p.h, p.w, act),
            weights_md(p, true), image_md(p.n, p.k, p.oh, p.ow, act), g.strides, g.dilates,
            g.pad_l, g.pad_r, hint, attr);
        do {
            if (!fn(pd)) return;
        } while (pd.next_impl());
        return;
    }
    auto pd = dnnl::convolution_backward_weights::primitive_desc(
        cpu_engine(), dnnl::algorithm::convolution_direct, image_md(p.n, p.c, p.h, p.w, act),
        weights_md(p, true), bias_md(p), image_md(p.n, p.k, p.oh, p.ow, act), g.strides,
        g.dilates, g.pad_l, g.pad_r, hint, attr);
    do {
        if (!fn(pd)) return;
    } while (pd.next_impl());
}

// The entry for a pd at its current implementation.
// Ports: src, weights, [bias], dst.
ConvEntry entry_of(const dnnl::convolution_forward::primitive_desc& pd, const Conv2dParams& p) {
    ConvEntry e;
    e.impl = pd.impl_info_str();
    e.primitive = dnnl::convolution_forward(pd);
    e.ports.push_back(make_port(src_user(p), pd.src_desc(), false));
    e.ports.push_back(make_port(weights_md(p, false), pd.weights_desc(), false));
    if (p.has_bias) e.ports.push_back(make_port(bias_md(p), pd.bias_desc(), false));
    e.ports.push_back(make_port(dst_user(p), pd.dst_desc(), true));
    const int with_bias[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    const int without[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    finish(e, pd, p.has_bias ? with_bias : without);
    return e;
}

// Ports: diff_dst, weights, diff_src.
ConvEntry entry_of(const dnnl::convolution_backward_data::primitive_desc& pd,
                   const Conv2dParams& p) {
    ConvEntry e;
    e.impl = pd.impl_info_str();
    e.primitive = dnnl::convolution_backward_data(pd);
    e.ports.push_back(make_port(dst_user(p), pd.diff_dst_desc(), false));
    e.ports.push_back(make_port(weights_md(p, false), pd.weights_desc(), false));
    e.ports.push_back(make_port(src_user(p), pd.diff_src_desc(), true));
    const int args[] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    finish(e, pd, args);
    return e;
}

// Ports: src, diff_dst, diff_weights, [diff_bias].
ConvEntry entry_of(const dnnl::convolution_backward_weights::primitive_desc& pd,
                   const Conv2dParams& p) {
    ConvEntry e;
    e.impl = pd.impl_info_str();
    e.primitive = dnnl::convolution_backward_weights(pd);
    e.ports.push_back(make_port(src_user(p), pd.src_desc(), false));
    e.ports.push_back(make_port(dst_user(p), pd.diff_dst_desc(), false));
    e.ports.push_back(make_port(weights_md(p, false), pd.diff_weights_desc(), true));
    if (p.has_bias) e.ports.push_back(make_port(bias_md(p), pd.diff_bias_desc(), true));
    const int args[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS,
                        DNNL_ARG_DIFF_BIAS};
    finish(e, pd, args);
    return e;
}

constexpr size_t kMaxCachedPerThread = 256;

bool acceptable(const std::string& impl) {
    // Reference kernels are 10-100x slower; sse41 never won and takes time to try.
    return impl.find("ref") == std::string::npos && impl.find("sse41") == std::string::npos;
}

// Which primitive serves a key: the activations' layout and oneDNN's name for
// the implementation (empty: oneDNN's first choice), or the first one whose
// name contains `impl` when `family` is set.
struct Choice {
    tag act = tag::any;
    std::string impl;
    bool family = false;
};

// Shape rules: where oneDNN's first choice measured slow, a family of
// implementations chosen from the shape alone, so every process picks the
// same kernel (tuning, below, is opt-in because it does not). Each rule is as
// narrow as the measurements behind it (2-core AVX-512 VM, 2 threads, ms,
// first choice -> rule); outside them oneDNN's first choice stays. The figures
// below are the Intel Xeon's; which rules hold is per CPU (core/cpu_rules.h),
// and docs/cpu-rules.md has the AMD Zen 4 measurements that switch some off.
//  - Single images whose weights outweigh the activations (batch-1 inference
//    of the late ResNet stages): im2col + GEMM on plain layouts. The direct
//    kernels need the weights reordered into blocks on every call, which then
//    costs more than the convolution. s4 3x3 512->512 on 3x3: forward 1.34 ->
//    0.61, backward-data 0.92 -> 0.60, backward-weights 1.79 -> 0.55; s3 3x3
//    256->256 on 6x6 forward 0.58 -> 0.30; s2 3x3 128->128 on 12x12 forward
//    0.40 -> 0.27. Not for batches: the GEMM kernel re-reads the weights for
//    every image, and at batch 4 it lost two passes of three, at 16 and 256
//    all (s4 3x3/2 256x2x2 -> 512 at batch 256: forward 2.5 -> 11.5).
//  - Backward-data into images of one to three channels (a network's first
//    layer): GEMM. Batch 256, the 96x96 stem 1->64 7x7/2: 204 -> 28; LeNet's
//    conv1: 7.0 -> 2.1; batch 1, the stem: 1.30 -> 0.18. With 6 channels
//    (LeNet conv2) the direct kernel wins.
//  - Strided 1x1 convolutions (ResNet projections) onto at least 16 output
//    positions: GEMM. Batch 256, 64x24x24 -> 128: forward 7.9 -> 5.1,
//    backward-data 10.6 -> 4.6, backward-weights 9.0 -> 6.5; 64x7x7 -> 128:
//    0.77 / 0.82 / 0.99 -> 0.69 / 0.64 / 0.81. Onto 2x2 or 1x1 outputs the
//    jit_1x1 kernels win.
//  - Strided backward-data from at least 6x6 onto at most 3x3 positions: the
//    direct jit kernel instead of brgconv_strided. s4 3x3/2 256x6x6 -> 512:
//    batch 256 33.3 -> 21.7, batch 16 2.8 -> 1.7, batch 4 1.14 -> 0.68. From
//    4x4 onto 2x2 (ResNet-18 s3 at 28x28) brgconv_strided won, 2.8 vs 3.5.
bool weights_dominate(const Conv2dParams& p) {
    const double weights = static_cast<double>(p.k) * p.cg() * p.kh * p.kw;
    const double activations =
        static_cast<double>(p.n) * (p.c * p.h * p.w + p.k * p.oh * p.ow);
    return weights >= 2.0 * activations;
}

Choice default_choice(const Conv2dParams& p, Pass pass) {
    const CpuRules& rules = cpu_rules();  // which of these rules hold on this CPU
    const Choice gemm{tag::nchw, "gemm", /*family=*/true};
    const bool strided = p.sh > 1 || p.sw > 1;
    if (rules.conv_gemm_single_image && p.n == 1 && weights_dominate(p) &&
        (!strided || pass != Pass::Forward || rules.conv_gemm_single_image_strided_forward))
        return gemm;
    if (rules.conv_gemm_backward_data_few_channels && pass == Pass::BackwardData && p.cg() <= 3)
        return gemm;
    if (rules.conv_gemm_strided_1x1 && p.kh == 1 && p.kw == 1 && strided && p.oh * p.ow >= 16)
        return gemm;
    if (rules.conv_jit_strided_backward_data && pass == Pass::BackwardData && strided &&
        p.oh * p.ow <= 9 && p.h * p.w >= 36)
        return Choice{tag::any, "jit:", /*family=*/true};
    return Choice{};
}

// Calls fn(pd) with the primitive_desc of a choice; oneDNN's first choice if
// the named one is gone.
template <typename Fn>
void with_chosen_pd(const Conv2dParams& p, Pass pass, const Choice& c, Fn fn) {
    bool found = false;
    if (!c.impl.empty()) {
        for_each_impl(p, pass, c.act, [&](const auto& pd) {
            const std::string name = pd.impl_info_str();
            if (c.family ? !acceptable(name) || name.find(c.impl) == std::string::npos
                         : c.impl != name)
                return true;
            fn(pd);
            found = true;
            return false;
        });
    }
    if (!found)
        for_each_impl(p, pass, tag::any, [&](const auto& pd) {
            fn(pd);
            return false;
        });
}

ConvEntry create(const Conv2dParams& p, Pass pass, const Choice& c) {
    ConvEntry e;
    with_chosen_pd(p, pass, c, [&](const auto& pd) { e = entry_of(pd, p); });
    return e;
}

// The activations' descriptors of a pd: (src or diff_src, dst or diff_dst).
std::pair<dnnl::memory::desc, dnnl::memory::desc> activation_mds(
    const dnnl::convolution_forward::primitive_desc& pd) {
    return {pd.src_desc(), pd.dst_desc()};
}
std::pair<dnnl::memory::desc, dnnl::memory::desc> activation_mds(
    const dnnl::convolution_backward_data::primitive_desc& pd) {
    return {pd.diff_src_desc(), pd.diff_dst_desc()};
}
std::pair<dnnl::memory::desc, dnnl::memory::desc> activation_mds(
    const dnnl::convolution_backward_weights::primitive_desc& pd) {
    return {pd.src_desc(), pd.diff_dst_desc()};
}

struct ThreadState {
    std::unordered_map<ConvKey, ConvEntry, ConvKeyHash> cache;
    std::unique_ptr<dnnl::stream> stream;
    ScratchSlot slots[kMaxPorts + 1];
};

// Reorders of small operands run on the calling thread alone: idle workers
// sleep (passive waiting), and waking one for a reorder of a few hundred KB
// costs more than the reorder (ResNet-18's s1 convolution at batch 1, three
// 147 KB reorders: forward 0.41 -> 0.35 ms). NOTE: oneDNN sizes a parallel
// region from the calling thread's OpenMP ICV at execution time, so setting
// it is enough.
constexpr size_t kSerialReorderBytes = 256 * 1024;

void reorder(ThreadState& ts, Port& port, int threads) {
    const bool serial = threads > 1 && port.user.get_desc().get_size() < kSerialReorderBytes;
    if (serial) apply_omp_threads(1);
    if (port.output)
        port.reorder.execute(*ts.stream, port.inner, port.user);
    else
        port.reorder.execute(*ts.stream, port.user, port.inner);
    if (serial) apply_omp_threads(threads);
}

// Inputs reordered into their blocked copies, the primitive, outputs
// reordered back. `buffers` follow e.ports; `threads` is the call's grant.
void execute(ThreadState& ts, ConvEntry& e, void* const* buffers, int threads) {
    for (size_t i = 0; i < e.ports.size(); ++i) {
        Port& port = e.ports[i];
        port.user.set_data_handle(buffers[i]);
        if (port.reordered)
            port.inner.set_data_handle(ts.slots[i].get(port.inner.get_desc().get_size()));
    }
    if (e.scratchpad_bytes > 0)
        e.scratchpad.set_data_handle(ts.slots[kScratchpadSlot].get(e.scratchpad_bytes));
    for (Port& port : e.ports)
        if (port.reordered && !port.output) reorder(ts, port, threads);
    e.primitive.execute(*ts.stream, e.args);
    for (Port& port : e.ports)
        if (port.reordered && port.output) reorder(ts, port, threads);
    ts.stream->wait();
}

double millis_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
        .count();
}

double timed(ThreadState& ts, ConvEntry& e, void* const* buffers, int threads) {
    const auto t0 = std::chrono::steady_clock::now();
    execute(ts, e, buffers, threads);
    return millis_since(t0);
}

// Autotuning. oneDNN's first choice for format_tag::any is not always the
// fastest, and the per-call reorders are part of the cost. Measured on the
// 2-core AVX-512 VM (batch 256, layout any + reorders, ms): LeNet conv1 (1 input
// channel) backward-data jit:avx512_core 18.6 vs x64:gemm:jit 4.1; ResNet-18's
// 96x96 stem (1 -> 64, 7x7/2) backward-data 405 vs gemm 57; a 1 -> 64 3x3 on
// 28x28 forward 18.8 vs gemm 8.4; the 1x1/2 projection (64x24x24 -> 128)
// backward-data brgconv_strided 25.5 vs gemm 12.1; s4's 3x3/2 (256x6x6 -> 512)
// backward-data brgconv_strided 79-94 vs jit:avx512_core 46-56. So, the first
// time a key is seen in the process, every non-reference implementation for
// `any` and for plain nchw (no activation reorders) is run once on the
// caller's own buffers (outputs are overwritten anyway) and the fastest is
// kept. Cheap calls (oneDNN's first choice under kTuneMinMillis) are not
// tuned, and tuning stops after about kTuneBudget times the first choice's
// time, so it costs a few training steps at most. Opt-in, like PyTorch's
// cudnn.benchmark: FATHOM_CONV_TUNE=1 tunes; unset or 0 keeps oneDNN's first
// choice, so the same seed gives the same bits in every process (the choice
// is per process: tuned runs differ in the last bits between processes, which
// moved LeNet's 10-epoch test accuracy between 0.8893 and 0.8906); =all tunes
// every call (tests). FATHOM_CONV_TUNE_DEBUG=1 prints each candidate's time.
// Gain measured on ResNet-18 training at 28x28: about 2%.
constexpr double kTuneMinMillis = 1.0;
constexpr double kTuneBudget = 8.0;

enum class TuneMode { Off, On, All };

TuneMode tune_mode() {
    const char* v = std::getenv("FATHOM_CONV_TUNE");  // read per new key: tests flip it
    if (v == nullptr || *v == '\0' || std::strcmp(v, "0") == 0) return TuneMode::Off;
    if (std::strcmp(v, "all") == 0) return TuneMode::All;
    return TuneMode::On;
}

// Candidates run on the caller's buffers, so an output that overlaps an input
// (the ABI does not forbid it; Java never does it) would feed later candidates
// garbage: such calls are not tuned.
bool outputs_overlap_inputs(const ConvEntry& e, void* const* buffers) {
    for (size_t o = 0; o < e.ports.size(); ++o) {
        if (!e.ports[o].output || buffers[o] == nullptr) continue;
        const auto* out = static_cast<const char*>(buffers[o]);
        const size_t out_bytes = e.ports[o].user.get_desc().get_size();
        for (size_t i = 0; i < e.ports.size(); ++i) {
            if (e.ports[i].output || buffers[i] == nullptr) continue;
            const auto* in = static_cast<const char*>(buffers[i]);
            const size_t in_bytes = e.ports[i].user.get_desc().get_size();
            if (out < in + in_bytes && in < out + out_bytes) return true;
        }
    }
    return false;
}

}  // namespace

// A plan's choices, shared by the threads that run it, so they (and cache
// evictions) agree and tune once; they go with the plan.
struct Conv2dTuned {
    std::mutex mutex;
    std::unordered_map<ConvKey, Choice, ConvKeyHash> choices;
};

std::shared_ptr<Conv2dTuned> make_conv2d_tuned() { return std::make_shared<Conv2dTuned>(); }

namespace {

// Creates the entry for a key seen first by this thread; on the first sight in
// the process, tunes. Either way the call's outputs are computed on return
// (`done` says whether the returned entry already ran on these buffers).
ConvEntry first_entry(ThreadState& ts, const ConvKey& key, const Conv2dParams& p, Pass pass,
                      void* const* buffers, int threads, bool& done) {
    done = false;
    Conv2dTuned& tuned = *p.tuned;
    {
        std::lock_guard<std::mutex> lock(tuned.mutex);
        auto it = tuned.choices.find(key);
        if (it != tuned.choices.end()) return create(p, pass, it->second);
    }
    const TuneMode mode = tune_mode();
    Choice best_choice = default_choice(p, pass);
    ConvEntry best = create(p, pass, best_choice);
    if (mode != TuneMode::Off) {
        const auto tune_start = std::chrono::steady_clock::now();
        double best_ms = timed(ts, best, buffers, threads);  // cold: scratch pages, caches
        const bool worth = mode == TuneMode::All || best_ms >= kTuneMinMillis;
        if (worth && !outputs_overlap_inputs(best, buffers)) {
            best_ms = std::min(best_ms, timed(ts, best, buffers, threads));
            const double budget = kTuneBudget * best_ms;
            const bool debug = std::getenv("FATHOM_CONV_TUNE_DEBUG") != nullptr;
            std::vector<std::string> tried = {
                (best_choice.act == tag::any ? "any " : "nchw ") + best.impl};
            bool over_budget = false;
            for (tag act : {tag::any, tag::nchw}) {
                try {
                    for_each_impl(p, pass, act, [&](const auto& pd) {
                        std::string name = pd.impl_info_str();
                        const std::string id = (act == tag::any ? "any " : "nchw ") + name;
                        if (!acceptable(name) ||
                            std::find(tried.begin(), tried.end(), id) != tried.end())
                            return true;
                        tried.push_back(id);
                        if (mode != TuneMode::All && millis_since(tune_start) > budget) {
                            over_budget = true;
                            return false;
                        }
                        ConvEntry e = entry_of(pd, p);
                        double ms = timed(ts, e, buffers, threads);
                        if (ms < 1.5 * best_ms) ms = std::min(ms, timed(ts, e, buffers, threads));
                        if (debug)
                            std::fprintf(stderr, "conv2d tune pass %d %s: %s %.3f ms (best %.3f)\n",
                                         static_cast<int>(pass), p.str().c_str(), id.c_str(), ms,
                                         best_ms);
                        // 3% margin: near-ties on a busy machine are noise, and
                        // oneDNN's first choice is kept for them.
                        if (ms < 0.97 * best_ms) {
                            best_ms = ms;
                            best = std::move(e);
                            best_choice = Choice{act, std::move(name)};
                        }
                        return true;
                    });
                } catch (const dnnl::error&) {
                    // no implementation for this layout
                }
                if (over_budget) break;
            }
            execute(ts, best, buffers, threads);  // the last candidate run may not be the best
        }
        done = true;
    }
    std::lock_guard<std::mutex> lock(tuned.mutex);
    auto inserted = tuned.choices.emplace(key, best_choice);
    if (!inserted.second && (inserted.first->second.act != best_choice.act ||
                             inserted.first->second.impl != best_choice.impl)) {
        // Another thread tuned the same key meanwhile: use its choice everywhere.
        done = false;
        return create(p, pass, inserted.first->second);
    }
    return best;
}

// Finds or creates (and maybe tunes) the entry, then runs it on `buffers`
// (which follow e.ports).
void run(const Conv2dParams& p, Pass pass, int threads, void* const* buffers) {
    thread_local ThreadState ts;
    if (!ts.stream) ts.stream = std::make_unique<dnnl::stream>(cpu_engine());

    if (p.tuned == nullptr) fail(FATHOM_INTERNAL_ERROR, "conv2d: oneDNN call without a plan");
    const ConvKey key{p.plan_id, p.variant, threads, static_cast<int32_t>(pass), p.layouts};
    auto it = ts.cache.find(key);
    if (it == ts.cache.end()) {
        // Bounded: plans churn rarely, and their choices survive eviction.
        // NOTE: entries of destroyed plans stay until this bound clears them.
        if (ts.cache.size() >= kMaxCachedPerThread) ts.cache.clear();
        bool done = false;
        ConvEntry entry = first_entry(ts, key, p, pass, buffers, threads, done);
        it = ts.cache.emplace(key, std::move(entry)).first;
        if (done) return;
    }
    execute(ts, it->second, buffers, threads);
}

void* mut(const float* p) { return const_cast<float*>(p); }

// A 1x1 input whose single output position sees one kernel tap, (ph, pw), the
// others falling on padding (ResNet-18's last stage at 28x28: 512x1x1, 3x3,
// padding 1): the convolution is exactly the 1x1 convolution with that tap.
// oneDNN runs the full 3x3 over padding: with 256x512x1x1 -> 512, 2 threads,
// forward 3.6-5.0 ms, backward-data 3.4 ms and backward-weights 18 ms, for
// what is a (256x512)x(512x512) product (134 MFLOP). Its 1x1 convolution
// (jit_1x1) took 1.7 / 2.1 / 5.1 ms; with groups == 1 the three passes are
// plain matrix products instead (oneDNN matmul, 1.1-1.3 ms each): per ResNet-18
// training step at 28x28 these layers went from 70 ms to 27 (1x1) to 11.
bool single_tap(const Conv2dParams& p) {
    return p.h == 1 && p.w == 1 && p.oh == 1 && p.ow == 1 && p.dh == 1 && p.dw == 1 &&
           p.ph < p.kh && p.pw < p.kw && (p.kh > 1 || p.kw > 1);
}

Conv2dParams tap_params(const Conv2dParams& p) {
    Conv2dParams q = p;
    q.variant = 1;
    q.kh = q.kw = q.sh = q.sw = 1;
    q.ph = q.pw = 0;
    q.raw.kh = q.raw.kw = q.raw.sh = q.raw.sw = 1;
    q.raw.ph = q.raw.pw = 0;
    return q;
}

// The (K, Cg) tap of (K, Cg, KH, KW) weights, copied into a per-thread buffer.
const float* gather_tap(const Conv2dParams& p, const float* weights) {
    thread_local std::vector<float> tap;
    const int64_t rows = p.k * p.cg(), taps = p.kh * p.kw, at = p.ph * p.kw + p.pw;
    tap.resize(static_cast<size_t>(rows));
    for (int64_t i = 0; i < rows; ++i) tap[i] = weights[i * taps + at];
    return tap.data();
}

// Row-major C (m x n) = op(A) * op(B) + beta * C on oneDNN's matmul.
void matmul(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
            int64_t lda, const float* b, int64_t ldb, float beta, float* c, int threads) {
    fathom_gemm_params g{};
    g.trans_a = trans_a, g.trans_b = trans_b, g.m = m, g.n = n, g.k = k;
    g.alpha = 1.0f, g.beta = beta, g.lda = lda, g.ldb = ldb, g.ldc = n, g.batch = 1;
    gemm_forward_dnnl(g, a, b, c, threads);
}

}  // namespace

int32_t conv2d_native_layouts_dnnl(const Conv2dParams& p0, int32_t pass) {
    if (single_tap(p0)) return 0;  // runs as a matrix product on NCHW
    Conv2dParams p = p0;
    p.layouts = 0;
    // The shape rules' choice, asked once per plan, before its first call: a
    // tuned choice (FATHOM_CONV_TUNE) does not exist yet; where tuning later
    // picks a kernel in another layout, that kernel reorders at its edges.
    const Choice choice = default_choice(p, static_cast<Pass>(pass));
    int32_t layouts = 0;
    // Narrow activations gain less from blocking than the reorders around
    // them cost on some CPUs (LeNet's 16 channels on Zen 4): a per-CPU floor.
    const int64_t min_channels = cpu_rules().blocked_min_channels;
    const int64_t min_batch = cpu_rules().blocked_min_batch;
    with_chosen_pd(p, static_cast<Pass>(pass), choice, [&](const auto& pd) {
        if (min_channels <= 0 || p.n < min_batch) return;
        const auto mds = activation_mds(pd);
        if (p.c >= min_channels && p.c % 16 == 0 && p.h * p.w > 1 &&
            mds.first == image_md(p.n, p.c, p.h, p.w, tag::nChw16c))
            layouts |= Conv2dParams::kSrcBlocked;
        if (p.k >= min_channels && p.k % 16 == 0 && p.oh * p.ow > 1 &&
            mds.second == image_md(p.n, p.k, p.oh, p.ow, tag::nChw16c))
            layouts |= Conv2dParams::kDstBlocked;
    });
    return layouts;
}

void conv2d_forward_dnnl(const Conv2dParams& p, const float* src, const float* weights,
                         const float* bias, float* dst, int threads) {
    if (single_tap(p) && p.groups == 1) {
        // dst (N x K) = src (N x C) * tap^T (+ bias)
        if (p.has_bias)
            for (int64_t n = 0; n < p.n; ++n) std::memcpy(dst + n * p.k, bias, p.k * sizeof(float));
        matmul(false, true, p.n, p.k, p.c, src, p.c, gather_tap(p, weights), p.c,
               p.has_bias ? 1.0f : 0.0f, dst, threads);
        if (p.post_relu)
            for (int64_t i = 0; i < p.n * p.k; ++i) dst[i] = std::max(dst[i], 0.0f);
        return;
    }
    if (single_tap(p)) {
        conv2d_forward_dnnl(tap_params(p), src, gather_tap(p, weights), bias, dst, threads);
        return;
    }
    void* with_bias[] = {mut(src), mut(weights), mut(bias), dst};
    void* without[] = {mut(src), mut(weights), dst};
    run(p, Pass::Forward, threads, p.has_bias ? with_bias : without);
}

void conv2d_backward_data_dnnl(const Conv2dParams& p, const float* diff_dst,
                               const float* weights, float* diff_src, int threads) {
    if (single_tap(p) && p.groups == 1) {
        // diff_src (N x C) = diff_dst (N x K) * tap (K x C)
        matmul(false, false, p.n, p.c, p.k, diff_dst, p.k, gather_tap(p, weights), p.c, 0.0f,
               diff_src, threads);
        return;
    }
    if (single_tap(p)) {
        conv2d_backward_data_dnnl(tap_params(p), diff_dst, gather_tap(p, weights), diff_src,
                                  threads);
        return;
    }
    void* buffers[] = {mut(diff_dst), mut(weights), diff_src};
    run(p, Pass::BackwardData, threads, buffers);
}

void conv2d_backward_weights_dnnl(const Conv2dParams& p, const float* src, const float* diff_dst,
                                  float* diff_weights, float* diff_bias, int threads) {
    if (single_tap(p)) {
        // The other taps only ever multiply padding: their gradient is zero.
        thread_local std::vector<float> tap;
        const int64_t rows = p.k * p.cg(), taps = p.kh * p.kw, at = p.ph * p.kw + p.pw;
        tap.resize(static_cast<size_t>(rows));
        if (p.groups == 1) {
            // tap (K x C) = diff_dst^T (K x N) * src (N x C); diff_bias = column sums
            matmul(true, false, p.k, p.c, p.n, diff_dst, p.k, src, p.c, 0.0f, tap.data(),
                   threads);
            if (p.has_bias) {
                std::vector<double> sums(static_cast<size_t>(p.k), 0.0);
                for (int64_t n = 0; n < p.n; ++n)
                    for (int64_t k = 0; k < p.k; ++k) sums[k] += diff_dst[n * p.k + k];
                for (int64_t k = 0; k < p.k; ++k) diff_bias[k] = static_cast<float>(sums[k]);
            }
        } else {
            conv2d_backward_weights_dnnl(tap_params(p), src, diff_dst, tap.data(), diff_bias,
                                         threads);
        }
        std::memset(diff_weights, 0, static_cast<size_t>(rows * taps) * sizeof(float));
        for (int64_t i = 0; i < rows; ++i) diff_weights[i * taps + at] = tap[i];
        return;
    }
    void* buffers[] = {mut(src), mut(diff_dst), diff_weights, diff_bias};
    run(p, Pass::BackwardWeights, threads, buffers);
}

}  // namespace fathom
