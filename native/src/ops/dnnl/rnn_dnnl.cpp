// oneDNN backend for fathom_rnn_* (F32): vanilla_rnn (tanh, relu), lstm,
// gru (vanilla_gru) and lbr_gru primitives, forward_training with a
// workspace, forward_inference without one, and backward hinted by the
// training forward.
//
// Layers. One single-layer primitive per layer (bidirectional_concat when
// D = 2), chained here: oneDNN's own multi-layer primitive feeds each
// direction of layer k+1 with only that direction's output of layer k, while
// PyTorch (and fathom.h) feed both directions with the concatenated (T,N,2H)
// output. Layers k >= 1 share one cached primitive (same input width D*H).
//
// Weights. fathom.h takes PyTorch's per-direction (G*H, I_k) / (G*H, H)
// matrices and two biases; oneDNN wants (1, D, I_k, G, H) weights in the
// layout its primitive picks (format_tag::any: for f32 a plain ldigo with a
// padded leading dimension forward, ldgoi backward, measured with oneDNN
// 3.11), one bias per gate (1, D, G, H), and its own gate order:
//   LSTM  oneDNN (i, f, c~, o)  == PyTorch (i, f, g, o)
//   GRU   oneDNN (u, r, o)      == PyTorch (z, r, n): gate 0 <- rows H..2H,
//                                  gate 1 <- rows 0..H, gate 2 <- rows 2H..3H
//   bias  vanilla gates: b_ih + b_hh (so d b_ih = d b_hh = d bias);
//         lbr_gru has a fourth gate u' whose bias is b_hn, applied inside
//         r * (h W_hn^T + b_hn), while gate o gets b_in alone.
// Every call packs the weights into per-thread buffers in those layouts (a
// strided copy, done here so no oneDNN reorder primitive is needed) and
// unpacks the weight gradients the same way; at the char-LM size (LSTM,
// T 35, N 32, I 60, H 256, 2 threads) that is 0.1 ms packing and 0.3 ms
// unpacking against about 15 ms of primitive time. oneDNN accumulates weight
// gradients into its diff buffers, which are zeroed first.
//
// Workspace payload (training), per layer k: the primitive's workspace, then
// for k < L-1 the layer's output (T,N,D*H), which is the next layer's input
// and needed again by backward; each part starts 64-byte aligned. The
// primitive workspace's size does not depend on the thread count (measured
// for 1, 2 and 8 threads at several shapes); rnn_forward_dnnl checks it.
//
// Caching. Per thread, keyed by (mode, T, N, I_k, H, D, threads): the
// primitives of the three passes (training forward and backward created
// together, inference on first use) with their memory objects. Packed
// weights, zero states, unwanted gradients, inter-layer diffs and the oneDNN
// scratchpad live in per-thread buffers that grow to the largest shape seen.
// NOTE: like conv2d_dnnl.cpp's, those buffers stay with the thread and are
// not counted by fathom_live_bytes; the workspace (the per-step memory) is.
#include <dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>

#include "core/error.h"
#include "ops/dnnl/dnnl_runtime.h"
#include "ops/rnn.h"

namespace fathom {

namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using md = dnnl::memory::desc;

int64_t align64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

// PyTorch gate (row block) that oneDNN gate g of this mode reads.
int64_t torch_gate(const RnnParams& p, int64_t g) {
    static const int64_t gru[] = {1, 0, 2};  // (u, r, o) <- (z, r, n)
    return p.gru() ? gru[g] : g;
}

// Bias gates: lbr_gru's extra u' gate carries b_hn.
int64_t bias_gates(const RnnParams& p) {
    return p.mode == FATHOM_RNN_GRU_PYTORCH ? 4 : p.G;
}

// ---------------------------------------------------------------- per-thread buffers

// A growable 64-byte aligned buffer; its contents never outlive one call.
class Buffer {
public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { std::free(data_); }
    float* floats(int64_t bytes) {
        if (static_cast<size_t>(bytes) > size_) {
            std::free(data_);
            size_ = static_cast<size_t>(align64(bytes));
            data_ = std::aligned_alloc(64, size_);
            if (!data_) {
                size_ = 0;
                throw std::bad_alloc();
            }
        }
        return static_cast<float*>(data_);
    }
    float* zeroed(int64_t bytes) {
        float* f = floats(bytes);
        std::memset(f, 0, static_cast<size_t>(bytes));
        return f;
    }

private:
    void* data_ = nullptr;
    size_t size_ = 0;
};

enum Slot {
    kWeightsLayer,
    kWeightsIter,
    kBias,
    kDiffWeightsLayer,
    kDiffWeightsIter,
    kDiffBias,
    kZeroIter,       // h0, c0 or diff_dst_iter(_c) the caller did not pass
    kZeroIterC,
    kZeroDiffIter,
    kZeroDiffIterC,
    kSinkLayer,      // diff_src the caller does not want
    kSinkIter,       // diff_src_iter(_c) the caller does not want
    kSinkIterC,
    kPing,           // inter-layer outputs (inference) or diffs (backward)
    kPong,
    kScratchpad,
    kSlots
};

Buffer& slot(Slot s) {
    thread_local Buffer buffers[kSlots];
    return buffers[s];
}

// ---------------------------------------------------------------- primitives

struct LayerKey {
    int32_t mode, directions, threads, reserved;
    int64_t T, N, In, H;
    bool operator==(const LayerKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(LayerKey) == 48, "LayerKey must have no holes");

struct LayerKeyHash {
    size_t operator()(const LayerKey& k) const {
        const auto* bytes = reinterpret_cast<const unsigned char*>(&k);
        size_t h = 1469598103934665603ull;
        for (size_t i = 0; i < sizeof(k); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
        return h;
    }
};

// One primitive with the layouts of the weights it reads (and, backward,
// writes) and a memory object per argument whose handle is set per call.
struct Pass {
    dnnl::primitive primitive;
    md weights_layer, weights_iter, diff_weights_layer, diff_weights_iter;
    int64_t scratchpad_bytes = 0;
    std::unordered_map<int, dnnl::memory> args;

    void bind(int arg, const void* data) { args.at(arg).set_data_handle(const_cast<void*>(data)); }
};

struct LayerEntry {
    Pass train, backward, infer;
    int64_t workspace_bytes = 0;
    bool has_train = false, has_infer = false;
};

// The memory descriptors of one layer; weights are `any` unless `plain`.
struct LayerDescs {
    md src, iter, weights_layer, weights_iter, bias, dst;
    md weights_layer_plain, weights_iter_plain, weights_layer_bwd_plain, weights_iter_bwd_plain;
};

LayerDescs layer_descs(const RnnParams& p, int64_t In) {
    const int64_t D = p.D, G = p.G, H = p.H;
    LayerDescs d;
    d.src = md({p.T, p.N, In}, dt::f32, tag::tnc);
    d.iter = md({1, D, p.N, H}, dt::f32, tag::ldnc);
    d.weights_layer = md({1, D, In, G, H}, dt::f32, tag::any);
    d.weights_iter = md({1, D, H, G, H}, dt::f32, tag::any);
    d.bias = md({1, D, bias_gates(p), H}, dt::f32, tag::ldgo);
    d.dst = md({p.T, p.N, D * H}, dt::f32, tag::tnc);
    d.weights_layer_plain = md({1, D, In, G, H}, dt::f32, tag::ldigo);
    d.weights_iter_plain = md({1, D, H, G, H}, dt::f32, tag::ldigo);
    d.weights_layer_bwd_plain = md({1, D, In, G, H}, dt::f32, tag::ldgoi);
    d.weights_iter_bwd_plain = md({1, D, H, G, H}, dt::f32, tag::ldgoi);
    return d;
}

dnnl::rnn_direction direction_of(const RnnParams& p) {
    return p.D == 2 ? dnnl::rnn_direction::bidirectional_concat
                    : dnnl::rnn_direction::unidirectional_left2right;
}

dnnl::algorithm activation_of(const RnnParams& p) {
    return p.mode == FATHOM_RNN_RELU ? dnnl::algorithm::eltwise_relu
                                     : dnnl::algorithm::eltwise_tanh;
}

dnnl::primitive_attr base_attr() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

bool is_plain(const md& m) { return m.get_inner_nblks() == 0; }

void add_arg(Pass& pass, int arg, const md& desc) {
    pass.args.emplace(arg, dnnl::memory(desc, cpu_engine(), DNNL_MEMORY_NONE));
}

// Memory objects of the arguments every pass shares (src/dst states, bias).
void add_state_args(Pass& pass, const RnnParams& p, const LayerDescs& d, const md& ws,
                    const md& scratchpad) {
    add_arg(pass, DNNL_ARG_SRC_LAYER, d.src);
    add_arg(pass, DNNL_ARG_SRC_ITER, d.iter);
    add_arg(pass, DNNL_ARG_WEIGHTS_LAYER, pass.weights_layer);
    add_arg(pass, DNNL_ARG_WEIGHTS_ITER, pass.weights_iter);
    add_arg(pass, DNNL_ARG_BIAS, d.bias);
    add_arg(pass, DNNL_ARG_DST_LAYER, d.dst);
    add_arg(pass, DNNL_ARG_DST_ITER, d.iter);
    if (p.lstm()) {
        add_arg(pass, DNNL_ARG_SRC_ITER_C, d.iter);
        add_arg(pass, DNNL_ARG_DST_ITER_C, d.iter);
    }
    if (ws.get_size() > 0) add_arg(pass, DNNL_ARG_WORKSPACE, ws);
    pass.scratchpad_bytes = static_cast<int64_t>(scratchpad.get_size());
    add_arg(pass, DNNL_ARG_SCRATCHPAD, scratchpad);
}

void add_backward_args(Pass& pass, const RnnParams& p, const LayerDescs& d) {
    add_arg(pass, DNNL_ARG_DIFF_SRC_LAYER, d.src);
    add_arg(pass, DNNL_ARG_DIFF_SRC_ITER, d.iter);
    add_arg(pass, DNNL_ARG_DIFF_WEIGHTS_LAYER, pass.diff_weights_layer);
    add_arg(pass, DNNL_ARG_DIFF_WEIGHTS_ITER, pass.diff_weights_iter);
    add_arg(pass, DNNL_ARG_DIFF_BIAS, d.bias);
    add_arg(pass, DNNL_ARG_DIFF_DST_LAYER, d.dst);
    add_arg(pass, DNNL_ARG_DIFF_DST_ITER, d.iter);
    if (p.lstm()) {
        add_arg(pass, DNNL_ARG_DIFF_SRC_ITER_C, d.iter);
        add_arg(pass, DNNL_ARG_DIFF_DST_ITER_C, d.iter);
    }
}

// A type as a value, so that one generic lambda can name the gru and lbr_gru classes.
template <typename T>
struct TypeTag {
    using type = T;
};

// The passes of one primitive family. make_fwd(kind, weights_layer,
// weights_iter) and make_bwd(weights_layer, weights_iter, diff_weights_layer,
// diff_weights_iter, hint) build its primitive descriptors; weights are
// `any` first, and plain ldigo / ldgoi when oneDNN picks a blocked layout,
// which move_weights cannot fill.
template <typename Fwd, typename Bwd, typename MakeFwd, typename MakeBwd>
void fill_passes(LayerEntry& e, const RnnParams& p, const LayerDescs& d, bool training,
                 MakeFwd make_fwd, MakeBwd make_bwd) {
    if (!training) {
        // NOTE: plain ldigo for inference: `any` may pick oneDNN's packed
        // GEMM format, which only a reorder primitive can fill.
        typename Fwd::primitive_desc pd =
            make_fwd(dnnl::prop_kind::forward_inference, d.weights_layer_plain,
                     d.weights_iter_plain);
        e.infer.primitive = Fwd(pd);
        e.infer.weights_layer = pd.weights_layer_desc();
        e.infer.weights_iter = pd.weights_iter_desc();
        add_state_args(e.infer, p, d, md(), pd.scratchpad_desc());
        e.has_infer = true;
        return;
    }
    typename Fwd::primitive_desc pd =
        make_fwd(dnnl::prop_kind::forward_training, d.weights_layer, d.weights_iter);
    if (!is_plain(pd.weights_layer_desc()) || !is_plain(pd.weights_iter_desc()))
        pd = make_fwd(dnnl::prop_kind::forward_training, d.weights_layer_plain,
                      d.weights_iter_plain);
    typename Bwd::primitive_desc bpd =
        make_bwd(d.weights_layer, d.weights_iter, d.weights_layer, d.weights_iter, pd);
    if (!is_plain(bpd.weights_layer_desc()) || !is_plain(bpd.weights_iter_desc()) ||
        !is_plain(bpd.diff_weights_layer_desc()) || !is_plain(bpd.diff_weights_iter_desc()))
        bpd = make_bwd(d.weights_layer_bwd_plain, d.weights_iter_bwd_plain,
                       d.weights_layer_plain, d.weights_iter_plain, pd);
    e.train.primitive = Fwd(pd);
    e.train.weights_layer = pd.weights_layer_desc();
    e.train.weights_iter = pd.weights_iter_desc();
    add_state_args(e.train, p, d, pd.workspace_desc(), pd.scratchpad_desc());
    e.backward.primitive = Bwd(bpd);
    e.backward.weights_layer = bpd.weights_layer_desc();
    e.backward.weights_iter = bpd.weights_iter_desc();
    e.backward.diff_weights_layer = bpd.diff_weights_layer_desc();
    e.backward.diff_weights_iter = bpd.diff_weights_iter_desc();
    add_state_args(e.backward, p, d, bpd.workspace_desc(), bpd.scratchpad_desc());
    add_backward_args(e.backward, p, d);
    e.workspace_bytes = static_cast<int64_t>(pd.workspace_desc().get_size());
    e.has_train = true;
}

void create(LayerEntry& e, const RnnParams& p, int64_t In, bool training) {
    const LayerDescs d = layer_descs(p, In);
    const dnnl::primitive_attr attr = base_attr();
    auto& eng = cpu_engine();
    const auto dir = direction_of(p);
    const auto bwd = dnnl::prop_kind::backward;
    switch (p.mode) {
        case FATHOM_RNN_TANH:
        case FATHOM_RNN_RELU: {
            using F = dnnl::vanilla_rnn_forward;
            using B = dnnl::vanilla_rnn_backward;
            const auto act = activation_of(p);
            fill_passes<F, B>(
                e, p, d, training,
                [&](dnnl::prop_kind kind, const md& wl, const md& wi) {
                    return F::primitive_desc(eng, kind, act, dir, d.src, d.iter, wl, wi, d.bias,
                                             d.dst, d.iter, attr);
                },
                [&](const md& wl, const md& wi, const md& dwl, const md& dwi,
                    const F::primitive_desc& hint) {
                    return B::primitive_desc(eng, bwd, act, dir, d.src, d.iter, wl, wi, d.bias,
                                             d.dst, d.iter, d.src, d.iter, dwl, dwi, d.bias,
                                             d.dst, d.iter, hint, attr);
                });
            break;
        }
        case FATHOM_RNN_LSTM: {
            using F = dnnl::lstm_forward;
            using B = dnnl::lstm_backward;
            fill_passes<F, B>(
                e, p, d, training,
                [&](dnnl::prop_kind kind, const md& wl, const md& wi) {
                    return F::primitive_desc(eng, kind, dir, d.src, d.iter, d.iter, wl, wi,
                                             d.bias, d.dst, d.iter, d.iter, attr);
                },
                [&](const md& wl, const md& wi, const md& dwl, const md& dwi,
                    const F::primitive_desc& hint) {
                    return B::primitive_desc(eng, bwd, dir, d.src, d.iter, d.iter, wl, wi, d.bias,
                                             d.dst, d.iter, d.iter, d.src, d.iter, d.iter, dwl,
                                             dwi, d.bias, d.dst, d.iter, d.iter, hint, attr);
                });
            break;
        }
        case FATHOM_RNN_GRU:
        case FATHOM_RNN_GRU_PYTORCH: {
            // gru (vanilla_gru) and lbr_gru take the same arguments.
            auto gru = [&](auto fwd_tag, auto bwd_tag) {
                using F = typename decltype(fwd_tag)::type;
                using B = typename decltype(bwd_tag)::type;
                fill_passes<F, B>(
                    e, p, d, training,
                    [&](dnnl::prop_kind kind, const md& wl, const md& wi) {
                        return typename F::primitive_desc(eng, kind, dir, d.src, d.iter, wl, wi,
                                                          d.bias, d.dst, d.iter, attr);
                    },
                    [&](const md& wl, const md& wi, const md& dwl, const md& dwi,
                        const typename F::primitive_desc& hint) {
                        return typename B::primitive_desc(eng, bwd, dir, d.src, d.iter, wl, wi,
                                                          d.bias, d.dst, d.iter, d.src, d.iter,
                                                          dwl, dwi, d.bias, d.dst, d.iter, hint,
                                                          attr);
                    });
            };
            if (p.mode == FATHOM_RNN_GRU)
                gru(TypeTag<dnnl::gru_forward>{}, TypeTag<dnnl::gru_backward>{});
            else
                gru(TypeTag<dnnl::lbr_gru_forward>{}, TypeTag<dnnl::lbr_gru_backward>{});
            break;
        }
    }
}

using LayerCache = std::unordered_map<LayerKey, LayerEntry, LayerKeyHash>;

LayerCache& layer_cache() {
    thread_local LayerCache cache;
    return cache;
}

// NOTE: references into the cache stay valid across inserts (unordered_map
// never moves its elements); layers_of clears it only before its lookups.
LayerEntry& entry_for(const RnnParams& p, int64_t layer, int threads, bool training) {
    LayerCache& cache = layer_cache();
    LayerKey key;
    std::memset(&key, 0, sizeof(key));
    key.mode = p.mode;
    key.directions = static_cast<int32_t>(p.D);
    key.threads = threads;
    key.T = p.T, key.N = p.N, key.In = p.input_of(layer), key.H = p.H;
    LayerEntry& e = cache[key];
    if (training ? !e.has_train : !e.has_infer) create(e, p, key.In, training);
    return e;
}

// ---------------------------------------------------------------- weight layouts

// Strides (l, d, i, g, o) of a plain (1, D, I, G, H) weights desc.
struct WeightStrides {
    int64_t d, i, g, o;
};
WeightStrides strides_of(const md& m) {
    const dims s = m.get_strides();
    return WeightStrides{s[1], s[2], s[3], s[4]};
}

// Moves one layer's w_ih (which = 0, K = I_k) or w_hh (which = 1, K = H)
// between PyTorch's per-direction (G*H, K) matrices, torch[dir * 4 + which]
// (the layer's list starts at torch), and oneDNN's (1, D, K, G, H) weights of
// layout m:   dnnl[d][i][g][o] == torch_d[torch_gate(g)*H + o][i].
// kPack copies PyTorch -> oneDNN (weights), else oneDNN -> PyTorch
// (gradients). A transpose for ldigo, row copies for ldgoi; 32x32 tiles keep
// both sides in cache.
template <bool kPack, typename TorchPtr, typename DnnlPtr>
void move_weights(const RnnParams& p, const TorchPtr* torch, int which, int64_t K, const md& m,
                  DnnlPtr dnnl) {
    const WeightStrides s = strides_of(m);
    const int64_t H = p.H, tiles = (H + 31) / 32;
#pragma omp parallel for collapse(3) schedule(static)
    for (int64_t d = 0; d < p.D; ++d)
        for (int64_t g = 0; g < p.G; ++g)
            for (int64_t tile = 0; tile < tiles; ++tile) {
                TorchPtr mat = torch[d * 4 + which] + torch_gate(p, g) * H * K;
                DnnlPtr block = dnnl + d * s.d + g * s.g;
                const int64_t o_end = std::min(H, (tile + 1) * 32);
                for (int64_t i0 = 0; i0 < K; i0 += 32) {
                    const int64_t i_end = std::min(K, i0 + 32);
                    for (int64_t o = tile * 32; o < o_end; ++o)
                        for (int64_t i = i0; i < i_end; ++i) {
                            if constexpr (kPack)
                                block[i * s.i + o * s.o] = mat[o * K + i];
                            else
                                mat[o * K + i] = block[i * s.i + o * s.o];
                        }
                }
            }
}

// oneDNN bias (1, D, Gb, H), ldgo: b_ih + b_hh per gate; lbr_gru: gate o gets
// b_in and the extra gate u' gets b_hn.
void pack_bias(const RnnParams& p, const float* const* w, float* out) {
    const int64_t H = p.H, Gb = bias_gates(p);
    const bool lbr = p.mode == FATHOM_RNN_GRU_PYTORCH;
    for (int64_t d = 0; d < p.D; ++d) {
        const float* b_ih = w[d * 4 + 2];
        const float* b_hh = w[d * 4 + 3];
        for (int64_t g = 0; g < p.G; ++g) {
            const int64_t r = torch_gate(p, g) * H;
            float* o = out + (d * Gb + g) * H;
            for (int64_t j = 0; j < H; ++j)
                o[j] = lbr && g == 2 ? b_ih[r + j] : b_ih[r + j] + b_hh[r + j];
        }
        if (lbr)
            for (int64_t j = 0; j < H; ++j) out[(d * Gb + 3) * H + j] = b_hh[2 * H + j];
    }
}

// The inverse for gradients: both biases of a summed gate get its gradient.
void unpack_bias(const RnnParams& p, const float* in, float* const* dw) {
    const int64_t H = p.H, Gb = bias_gates(p);
    const bool lbr = p.mode == FATHOM_RNN_GRU_PYTORCH;
    for (int64_t d = 0; d < p.D; ++d) {
        float* db_ih = dw[d * 4 + 2];
        float* db_hh = dw[d * 4 + 3];
        for (int64_t g = 0; g < p.G; ++g) {
            const int64_t r = torch_gate(p, g) * H;
            const float* src = in + (d * Gb + g) * H;
            for (int64_t j = 0; j < H; ++j) {
                db_ih[r + j] = src[j];
                db_hh[r + j] = lbr && g == 2 ? in[(d * Gb + 3) * H + j] : src[j];
            }
        }
    }
}

// ---------------------------------------------------------------- passes

int64_t output_bytes(const RnnParams& p) { return p.T * p.N * p.D * p.H * 4; }

// Offsets are computed from the cached entries, so they are the ones the
// primitives need; `entries` has L elements.
void layout_of(const RnnParams& p, LayerEntry* const* entries, int64_t* primitive,
               int64_t* output, int64_t* total) {
    int64_t off = 0;
    for (int64_t k = 0; k < p.L; ++k) {
        primitive[k] = off;
        off += align64(entries[k]->workspace_bytes);
        output[k] = off;
        if (k < p.L - 1) off += align64(output_bytes(p));
    }
    *total = off;
}

struct Layers {
    std::unique_ptr<LayerEntry*[]> entries;
    std::unique_ptr<int64_t[]> ws_primitive, ws_output;
    int64_t ws_total = 0;
};

Layers layers_of(const RnnParams& p, int threads, bool training) {
    Layers l;
    l.entries.reset(new LayerEntry*[p.L]);
    l.ws_primitive.reset(new int64_t[p.L]);
    l.ws_output.reset(new int64_t[p.L]);
    // A call needs at most two entries (layer 0, and layers >= 1 share one).
    constexpr size_t kMaxCachedPerThread = 64;
    if (layer_cache().size() + 2 > kMaxCachedPerThread) layer_cache().clear();
    for (int64_t k = 0; k < p.L; ++k) l.entries[k] = &entry_for(p, k, threads, training);
    if (training) layout_of(p, l.entries.get(), l.ws_primitive.get(), l.ws_output.get(), &l.ws_total);
    return l;
}

// Per-call state pointers of layer k (row k*D of the (L*D,N,H) tensors).
const float* layer_rows(const float* t, const RnnParams& p, int64_t k) {
    return t ? t + k * p.D * p.N * p.H : nullptr;
}
float* layer_rows(float* t, const RnnParams& p, int64_t k) {
    return t ? t + k * p.D * p.N * p.H : nullptr;
}

// A buffer for packed weights of layout m. NOTE: a padded layout (oneDNN pads
// leading dimensions) is zeroed first so that no stale value, NaN included,
// sits in the gaps, though GEMMs should not read them.
float* weights_buffer(Slot s, const md& m) {
    int64_t elements = 1;
    for (int64_t v : m.get_dims()) elements *= v;
    const int64_t bytes = static_cast<int64_t>(m.get_size());
    return bytes > elements * 4 ? slot(s).zeroed(bytes) : slot(s).floats(bytes);
}

void bind_weights(Pass& pass, const RnnParams& p, const float* const* w, int64_t In) {
    float* wl = weights_buffer(kWeightsLayer, pass.weights_layer);
    float* wi = weights_buffer(kWeightsIter, pass.weights_iter);
    float* b = slot(kBias).floats(p.D * bias_gates(p) * p.H * 4);
    move_weights<true>(p, w, 0, In, pass.weights_layer, wl);
    move_weights<true>(p, w, 1, p.H, pass.weights_iter, wi);
    pack_bias(p, w, b);
    pass.bind(DNNL_ARG_WEIGHTS_LAYER, wl);
    pass.bind(DNNL_ARG_WEIGHTS_ITER, wi);
    pass.bind(DNNL_ARG_BIAS, b);
}

void run(Pass& pass) {
    pass.bind(DNNL_ARG_SCRATCHPAD, slot(kScratchpad).floats(pass.scratchpad_bytes));
    pass.primitive.execute(thread_stream(), pass.args);
    thread_stream().wait();
}

}  // namespace

int64_t rnn_dnnl_payload_bytes(const RnnParams& p, int threads) {
    return layers_of(p, threads, true).ws_total;
}

void rnn_forward_dnnl(const RnnParams& p, const RnnTensors<float>& t, void* workspace,
                      int64_t payload_bytes, int threads) {
    const bool training = workspace != nullptr;
    Layers l = layers_of(p, threads, training);
    if (training && l.ws_total != payload_bytes)
        fail(FATHOM_INTERNAL_ERROR, "rnn_forward: oneDNN needs a ", l.ws_total,
             "-byte workspace payload here but ", payload_bytes, " were sized (", p.str(), ")");
    char* ws = static_cast<char*>(workspace);
    const int64_t state_bytes = p.D * p.N * p.H * 4;
    const float* in = t.src;
    for (int64_t k = 0; k < p.L; ++k) {
        LayerEntry& e = *l.entries[k];
        Pass& pass = training ? e.train : e.infer;
        float* out = t.dst;
        if (k < p.L - 1)
            out = training ? reinterpret_cast<float*>(ws + l.ws_output[k])
                           : slot(k % 2 ? kPong : kPing).floats(output_bytes(p));
        bind_weights(pass, p, t.weights + 4 * p.D * k, p.input_of(k));
        pass.bind(DNNL_ARG_SRC_LAYER, in);
        pass.bind(DNNL_ARG_DST_LAYER, out);
        pass.bind(DNNL_ARG_SRC_ITER, t.src_iter ? layer_rows(t.src_iter, p, k)
                                                : slot(kZeroIter).zeroed(state_bytes));
        pass.bind(DNNL_ARG_DST_ITER, layer_rows(t.dst_iter, p, k));
        if (p.lstm()) {
            pass.bind(DNNL_ARG_SRC_ITER_C, t.src_iter_c ? layer_rows(t.src_iter_c, p, k)
                                                        : slot(kZeroIterC).zeroed(state_bytes));
            pass.bind(DNNL_ARG_DST_ITER_C, layer_rows(t.dst_iter_c, p, k));
        }
        if (training) pass.bind(DNNL_ARG_WORKSPACE, ws + l.ws_primitive[k]);
        run(pass);
        in = out;
    }
}

void rnn_backward_dnnl(const RnnParams& p, const RnnTensors<float>& t, const void* workspace,
                       int64_t payload_bytes, int threads) {
    Layers l = layers_of(p, threads, true);
    if (l.ws_total != payload_bytes)
        fail(FATHOM_INTERNAL_ERROR, "rnn_backward: oneDNN needs a ", l.ws_total,
             "-byte workspace payload here but the forward wrote ", payload_bytes, " (", p.str(),
             ")");
    char* ws = static_cast<char*>(const_cast<void*>(workspace));
    const int64_t state_bytes = p.D * p.N * p.H * 4;
    const bool grads = t.diff_weights != nullptr;
    // diff of the output of layer k: diff_dst for the top layer, else what
    // layer k+1 wrote as its diff_src into the ping-pong buffers.
    const float* diff_out = t.diff_dst;
    for (int64_t k = p.L - 1; k >= 0; --k) {
        LayerEntry& e = *l.entries[k];
        Pass& pass = e.backward;
        const int64_t In = p.input_of(k);
        float* diff_in = k > 0 ? slot(k % 2 ? kPong : kPing).floats(output_bytes(p))
                         : t.diff_src ? t.diff_src
                                      : slot(kSinkLayer).floats(p.T * p.N * In * 4);
        const float* in = k == 0 ? t.src : reinterpret_cast<const float*>(ws + l.ws_output[k - 1]);
        const float* out =
            k == p.L - 1 ? t.dst : reinterpret_cast<const float*>(ws + l.ws_output[k]);
        bind_weights(pass, p, t.weights + 4 * p.D * k, In);
        // Zeroed, since oneDNN adds its weight gradients to these buffers.
        const int64_t dbias_bytes = p.D * bias_gates(p) * p.H * 4;
        float* dwl = slot(kDiffWeightsLayer).zeroed(pass.diff_weights_layer.get_size());
        float* dwi = slot(kDiffWeightsIter).zeroed(pass.diff_weights_iter.get_size());
        float* dbias = slot(kDiffBias).zeroed(dbias_bytes);
        pass.bind(DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl);
        pass.bind(DNNL_ARG_DIFF_WEIGHTS_ITER, dwi);
        pass.bind(DNNL_ARG_DIFF_BIAS, dbias);
        pass.bind(DNNL_ARG_SRC_LAYER, in);
        pass.bind(DNNL_ARG_DST_LAYER, out);
        pass.bind(DNNL_ARG_DIFF_SRC_LAYER, diff_in);
        pass.bind(DNNL_ARG_DIFF_DST_LAYER, diff_out);
        pass.bind(DNNL_ARG_SRC_ITER, t.src_iter ? layer_rows(t.src_iter, p, k)
                                                : slot(kZeroIter).zeroed(state_bytes));
        pass.bind(DNNL_ARG_DST_ITER, layer_rows(t.dst_iter, p, k));
        pass.bind(DNNL_ARG_DIFF_DST_ITER, t.diff_dst_iter ? layer_rows(t.diff_dst_iter, p, k)
                                                          : slot(kZeroDiffIter).zeroed(state_bytes));
        pass.bind(DNNL_ARG_DIFF_SRC_ITER, t.diff_src_iter ? layer_rows(t.diff_src_iter, p, k)
                                                          : slot(kSinkIter).floats(state_bytes));
        if (p.lstm()) {
            pass.bind(DNNL_ARG_SRC_ITER_C, t.src_iter_c ? layer_rows(t.src_iter_c, p, k)
                                                        : slot(kZeroIterC).zeroed(state_bytes));
            pass.bind(DNNL_ARG_DST_ITER_C, layer_rows(t.dst_iter_c, p, k));
            pass.bind(DNNL_ARG_DIFF_DST_ITER_C,
                      t.diff_dst_iter_c ? layer_rows(t.diff_dst_iter_c, p, k)
                                        : slot(kZeroDiffIterC).zeroed(state_bytes));
            pass.bind(DNNL_ARG_DIFF_SRC_ITER_C,
                      t.diff_src_iter_c ? layer_rows(t.diff_src_iter_c, p, k)
                                        : slot(kSinkIterC).floats(state_bytes));
        }
        pass.bind(DNNL_ARG_WORKSPACE, ws + l.ws_primitive[k]);
        run(pass);
        if (grads) {
            float* const* dw = t.diff_weights + 4 * p.D * k;
            move_weights<false>(p, dw, 0, In, pass.diff_weights_layer,
                                static_cast<const float*>(dwl));
            move_weights<false>(p, dw, 1, p.H, pass.diff_weights_iter,
                                static_cast<const float*>(dwi));
            unpack_bias(p, dbias, dw);
        }
        diff_out = diff_in;
    }
}

}  // namespace fathom
