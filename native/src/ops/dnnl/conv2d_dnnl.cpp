// oneDNN backend for fathom_conv2d_*: convolution_forward,
// convolution_backward_data and convolution_backward_weights on F32.
//
// Layouts. Every primitive is created with format_tag::any for src, weights
// and dst (diff_* alike), so oneDNN picks its blocked layouts (nChw16c,
// OIhw16i16o, nhwc, ...) and a JIT/brgemm kernel; the caller's plain NCHW /
// OIHW (GOIHW for groups) buffers are reordered into those layouts before the
// primitive runs and back after it. NOTE: plain nchw descriptors made oneDNN
// fall back to a reference kernel at 0.3 GFLOP/s (DESIGN.md section 4).
// Reordered weights are not kept across calls: they change every step.
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
// (params, threads, pass): the primitive, its reorders and the memory objects
// that describe each layout. The blocked buffers themselves and the oneDNN
// scratchpad (scratchpad_mode::user) are per-thread scratch slots that grow to
// the largest shape seen and are reused by every cached entry, so a thread
// holds about one layer's worth of blocked copies, not one per cached shape.
// NOTE: that memory (up to a few times the largest activation) stays with the
// thread until it exits and is not counted by fathom_live_bytes.
#include <dnnl.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "ops/conv2d.h"

namespace fathom {

namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

enum class Pass : int32_t { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

struct ConvKey {
    fathom_conv2d_params p;  // backend zeroed: AUTO and ONEDNN share entries
    int32_t threads;
    int32_t pass;
    bool operator==(const ConvKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(ConvKey) == sizeof(fathom_conv2d_params) + 8, "ConvKey must have no holes");

struct ConvKeyHash {
    size_t operator()(const ConvKey& key) const {
        // Keys are zero-initialised and have no padding holes, so hashing (and
        // memcmp) the bytes is exact.
        const auto* bytes = reinterpret_cast<const unsigned char*>(&key);
        size_t h = 1469598103934665603ull;
        for (size_t i = 0; i < sizeof(key); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
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
};

dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

dnnl::memory::desc image_md(int64_t n, int64_t c, int64_t h, int64_t w, tag t) {
    return dnnl::memory::desc(dims{n, c, h, w}, dt::f32, t);
}

// The caller's (N,C,H,W) and (N,K,OH,OW) buffers.
dnnl::memory::desc src_plain(const Conv2dParams& p) {
    return image_md(p.n, p.c, p.h, p.w, tag::nchw);
}
dnnl::memory::desc dst_plain(const Conv2dParams& p) {
    return image_md(p.n, p.k, p.oh, p.ow, tag::nchw);
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

dnnl::convolution_forward::primitive_desc forward_pd(const Conv2dParams& p, bool training,
                                                     bool with_bias,
                                                     const dnnl::primitive_attr& attr) {
    const Geometry g = geometry(p);
    return dnnl::convolution_forward::primitive_desc(
        cpu_engine(), training ? dnnl::prop_kind::forward_training
                               : dnnl::prop_kind::forward_inference,
        dnnl::algorithm::convolution_direct, image_md(p.n, p.c, p.h, p.w, tag::any),
        weights_md(p, true), with_bias ? bias_md(p) : dnnl::memory::desc(),
        image_md(p.n, p.k, p.oh, p.ow, tag::any), g.strides, g.dilates, g.pad_l, g.pad_r, attr);
}

void finish(ConvEntry& e, const dnnl::primitive_desc_base& pd, const int* arg_of_port) {
    e.scratchpad_bytes = pd.scratchpad_desc().get_size();
    if (e.scratchpad_bytes > 0)
        e.scratchpad = dnnl::memory(pd.scratchpad_desc(), cpu_engine(), DNNL_MEMORY_NONE);
    for (size_t i = 0; i < e.ports.size(); ++i) e.args[arg_of_port[i]] = e.ports[i].inner;
    if (e.scratchpad_bytes > 0) e.args[DNNL_ARG_SCRATCHPAD] = e.scratchpad;
}

// Ports: src, weights, [bias], dst.
ConvEntry create_forward(const Conv2dParams& p) {
    dnnl::primitive_attr attr = base_attr();
    if (p.post_relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        attr.set_post_ops(ops);
    }
    auto pd = forward_pd(p, /*training=*/!p.post_relu, p.has_bias, attr);
    ConvEntry e;
    e.primitive = dnnl::convolution_forward(pd);
    e.ports.push_back(make_port(src_plain(p), pd.src_desc(), false));
    e.ports.push_back(make_port(weights_md(p, false), pd.weights_desc(), false));
    if (p.has_bias) e.ports.push_back(make_port(bias_md(p), pd.bias_desc(), false));
    e.ports.push_back(make_port(dst_plain(p), pd.dst_desc(), true));
    const int with_bias[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    const int without[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    finish(e, pd, p.has_bias ? with_bias : without);
    return e;
}

// Ports: diff_dst, weights, diff_src.
ConvEntry create_backward_data(const Conv2dParams& p) {
    const dnnl::primitive_attr attr = base_attr();
    const auto hint = forward_pd(p, /*training=*/true, /*with_bias=*/false, attr);
    const Geometry g = geometry(p);
    auto pd = dnnl::convolution_backward_data::primitive_desc(
        cpu_engine(), dnnl::algorithm::convolution_direct, image_md(p.n, p.c, p.h, p.w, tag::any),
        weights_md(p, true), image_md(p.n, p.k, p.oh, p.ow, tag::any), g.strides, g.dilates,
        g.pad_l, g.pad_r, hint, attr);
    ConvEntry e;
    e.primitive = dnnl::convolution_backward_data(pd);
    e.ports.push_back(make_port(dst_plain(p), pd.diff_dst_desc(), false));
    e.ports.push_back(make_port(weights_md(p, false), pd.weights_desc(), false));
    e.ports.push_back(make_port(src_plain(p), pd.diff_src_desc(), true));
    const int args[] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    finish(e, pd, args);
    return e;
}

// Ports: src, diff_dst, diff_weights, [diff_bias].
ConvEntry create_backward_weights(const Conv2dParams& p) {
    const dnnl::primitive_attr attr = base_attr();
    const auto hint = forward_pd(p, /*training=*/true, p.has_bias, attr);
    const Geometry g = geometry(p);
    auto pd = dnnl::convolution_backward_weights::primitive_desc(
        cpu_engine(), dnnl::algorithm::convolution_direct, image_md(p.n, p.c, p.h, p.w, tag::any),
        weights_md(p, true), bias_md(p), image_md(p.n, p.k, p.oh, p.ow, tag::any), g.strides,
        g.dilates, g.pad_l, g.pad_r, hint, attr);
    ConvEntry e;
    e.primitive = dnnl::convolution_backward_weights(pd);
    e.ports.push_back(make_port(src_plain(p), pd.src_desc(), false));
    e.ports.push_back(make_port(dst_plain(p), pd.diff_dst_desc(), false));
    e.ports.push_back(make_port(weights_md(p, false), pd.diff_weights_desc(), true));
    if (p.has_bias)
        e.ports.push_back(make_port(bias_md(p), pd.diff_bias_desc(), true));
    const int args[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS,
                        DNNL_ARG_DIFF_BIAS};
    finish(e, pd, args);
    return e;
}

constexpr size_t kMaxCachedPerThread = 256;

// Finds or creates the entry, then: inputs reordered into their blocked
// copies, the primitive, outputs reordered back. `buffers` follow e.ports.
void run(const Conv2dParams& p, Pass pass, int threads, void* const* buffers) {
    thread_local std::unordered_map<ConvKey, ConvEntry, ConvKeyHash> cache;
    thread_local std::unique_ptr<dnnl::stream> stream;
    thread_local ScratchSlot slots[kMaxPorts + 1];
    if (!stream) stream = std::make_unique<dnnl::stream>(cpu_engine());

    ConvKey key;
    std::memset(&key, 0, sizeof(key));
    key.p = p.raw;
    key.p.backend = 0;
    key.threads = threads;
    key.pass = static_cast<int32_t>(pass);
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() >= kMaxCachedPerThread) cache.clear();  // bounded: shapes churn rarely
        ConvEntry entry = pass == Pass::Forward        ? create_forward(p)
                          : pass == Pass::BackwardData ? create_backward_data(p)
                                                       : create_backward_weights(p);
        it = cache.emplace(key, std::move(entry)).first;
    }
    ConvEntry& e = it->second;

    for (size_t i = 0; i < e.ports.size(); ++i) {
        Port& port = e.ports[i];
        port.user.set_data_handle(buffers[i]);
        if (port.reordered)
            port.inner.set_data_handle(slots[i].get(port.inner.get_desc().get_size()));
    }
    if (e.scratchpad_bytes > 0)
        e.scratchpad.set_data_handle(slots[kScratchpadSlot].get(e.scratchpad_bytes));
    for (Port& port : e.ports)
        if (port.reordered && !port.output) port.reorder.execute(*stream, port.user, port.inner);
    e.primitive.execute(*stream, e.args);
    for (Port& port : e.ports)
        if (port.reordered && port.output) port.reorder.execute(*stream, port.inner, port.user);
    stream->wait();
}

void* mut(const float* p) { return const_cast<float*>(p); }

}  // namespace

void conv2d_forward_dnnl(const Conv2dParams& p, const float* src, const float* weights,
                         const float* bias, float* dst, int threads) {
    void* with_bias[] = {mut(src), mut(weights), mut(bias), dst};
    void* without[] = {mut(src), mut(weights), dst};
    run(p, Pass::Forward, threads, p.has_bias ? with_bias : without);
}

void conv2d_backward_data_dnnl(const Conv2dParams& p, const float* diff_dst,
                               const float* weights, float* diff_src, int threads) {
    void* buffers[] = {mut(diff_dst), mut(weights), diff_src};
    run(p, Pass::BackwardData, threads, buffers);
}

void conv2d_backward_weights_dnnl(const Conv2dParams& p, const float* src, const float* diff_dst,
                                  float* diff_weights, float* diff_bias, int threads) {
    void* buffers[] = {mut(src), mut(diff_dst), diff_weights, diff_bias};
    run(p, Pass::BackwardWeights, threads, buffers);
}

}  // namespace fathom
