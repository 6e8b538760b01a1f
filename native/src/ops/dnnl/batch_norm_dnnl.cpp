// oneDNN backend for batch normalization (F32): batch_normalization_forward
// (forward_training computes the batch mean and biased variance; inference
// passes the running statistics with use_global_stats) and
// batch_normalization_backward hinted by the forward primitive descriptor,
// always with use_scale | use_shift (ones/zeros stand in for a null gamma/beta).
// oneDNN neither updates running statistics nor returns invstd: this file
// derives save_invstd = 1/sqrt(var + eps) from its variance, calls
// batch_norm_update_running, and recovers var = 1/invstd^2 - eps for backward.
//
// NOTE: plain memory, (N,C,S) ncw or (N,C) nc, not a blocked layout. On
// 32x64x24x24 (2 threads, best of 30) oneDNN 3.11 runs ncsp_bnorm:any on plain
// memory in 0.75 ms forward; reorder to nChw16c + bnorm_jit:avx512_core +
// reorder back took 2.05 ms (backward 1.3 ms plain; nhwc backward was 4x
// slower). (N,C) runs bnorm_jit:avx512_core (so would (N,C,1)), which splits N
// across threads: its F32 sums, hence results, vary in the last bits with the
// thread count (256x512: 1 vs 2 threads). ncsp_bnorm splits C and does not.
#include <dnnl.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "ops/batch_norm.h"

namespace fathom {

namespace {

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;
using flags = dnnl::normalization_flags;

dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

dnnl::stream& thread_stream() {
    thread_local std::unique_ptr<dnnl::stream> stream;
    if (!stream) stream = std::make_unique<dnnl::stream>(cpu_engine());
    return *stream;
}

struct BnKey {
    int64_t n, c, s;
    double eps;
    int32_t training;
    int threads;
    bool operator==(const BnKey& o) const {
        return n == o.n && c == o.c && s == o.s && eps == o.eps && training == o.training &&
               threads == o.threads;
    }
};

struct BnKeyHash {
    size_t operator()(const BnKey& k) const {
        uint64_t eps_bits;
        std::memcpy(&eps_bits, &k.eps, sizeof(eps_bits));
        size_t h = 1469598103934665603ull;
        for (uint64_t x : {static_cast<uint64_t>(k.n), static_cast<uint64_t>(k.c),
                           static_cast<uint64_t>(k.s), eps_bits,
                           static_cast<uint64_t>(k.training), static_cast<uint64_t>(k.threads)})
            h = (h ^ x) * 1099511628211ull;
        return h;
    }
};

struct BnEntry {
    dnnl::batch_normalization_forward::primitive_desc fwd_pd;
    dnnl::batch_normalization_forward fwd;
    dnnl::batch_normalization_backward bwd;  // created on first use
    dnnl::memory src, dst, diff_dst, mean, var, scale, shift, diff_scale, diff_shift;
};

dnnl::memory::desc data_md(const fathom_batch_norm_params& p) {
    if (p.s == 1) return dnnl::memory::desc({p.n, p.c}, dt::f32, tag::nc);
    return dnnl::memory::desc({p.n, p.c, p.s}, dt::f32, tag::ncw);
}

flags flags_of(const fathom_batch_norm_params& p) {
    flags f = flags::use_scale | flags::use_shift;
    if (!p.training) f = f | flags::use_global_stats;
    return f;
}

BnEntry& entry_for(const fathom_batch_norm_params& p, int threads) {
    thread_local std::unordered_map<BnKey, BnEntry, BnKeyHash> cache;
    constexpr size_t kMaxCachedPerThread = 256;
    const BnKey key{p.n, p.c, p.s, p.eps, p.training != 0, threads};
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() >= kMaxCachedPerThread) cache.clear();
        auto& eng = cpu_engine();
        const auto md = data_md(p);
        BnEntry e;
        e.fwd_pd = dnnl::batch_normalization_forward::primitive_desc(
            eng,
            p.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
            md, md, static_cast<float>(p.eps), flags_of(p));
        e.fwd = dnnl::batch_normalization_forward(e.fwd_pd);
        const auto stat_md = dnnl::memory::desc({p.c}, dt::f32, tag::a);
        for (dnnl::memory* m : {&e.src, &e.dst, &e.diff_dst})
            *m = dnnl::memory(md, eng, DNNL_MEMORY_NONE);
        for (dnnl::memory* m : {&e.mean, &e.var, &e.scale, &e.shift, &e.diff_scale, &e.diff_shift})
            *m = dnnl::memory(stat_md, eng, DNNL_MEMORY_NONE);
        it = cache.emplace(key, std::move(e)).first;
    }
    return it->second;
}

// Per-thread C-length scratch vectors: variance, ones/zeros for a null gamma
// or beta, and sinks for a null diff_gamma/diff_beta.
struct Scratch {
    std::vector<float> var, ones, zeros, sink_gamma, sink_beta;
    void size_for(int64_t c) {
        const size_t n = static_cast<size_t>(c);
        if (var.size() == n) return;
        var.assign(n, 0.0f);
        ones.assign(n, 1.0f);
        zeros.assign(n, 0.0f);
        sink_gamma.assign(n, 0.0f);
        sink_beta.assign(n, 0.0f);
    }
};

Scratch& thread_scratch(int64_t c) {
    thread_local Scratch scratch;
    scratch.size_for(c);
    return scratch;
}

template <typename T>
void* handle(const T* p) {
    return const_cast<void*>(static_cast<const void*>(p));
}

}  // namespace

void batch_norm_forward_dnnl(const BatchNormArgs& a, int threads) {
    const fathom_batch_norm_params& p = a.p;
    BnEntry& e = entry_for(p, threads);
    Scratch& scratch = thread_scratch(p.c);
    auto* running_mean = reinterpret_cast<float*>(a.running_mean);
    auto* running_var = reinterpret_cast<float*>(a.running_var);
    auto* save_mean = reinterpret_cast<float*>(a.save_mean);
    auto* save_invstd = reinterpret_cast<float*>(a.save_invstd);
    // Training: oneDNN writes the batch mean (into save_mean when given) and
    // the biased variance. Inference: it reads the running statistics.
    std::vector<float> mean_sink;
    float* mean = running_mean;
    float* var = running_var;
    if (p.training) {
        if (save_mean == nullptr) mean_sink.assign(static_cast<size_t>(p.c), 0.0f);
        mean = save_mean ? save_mean : mean_sink.data();
        var = scratch.var.data();
    }
    e.src.set_data_handle(handle(a.src));
    e.dst.set_data_handle(a.dst);
    e.mean.set_data_handle(mean);
    e.var.set_data_handle(var);
    e.scale.set_data_handle(a.gamma ? handle(a.gamma) : scratch.ones.data());
    e.shift.set_data_handle(a.beta ? handle(a.beta) : scratch.zeros.data());
    auto& stream = thread_stream();
    e.fwd.execute(stream, {{DNNL_ARG_SRC, e.src},
                           {DNNL_ARG_DST, e.dst},
                           {DNNL_ARG_MEAN, e.mean},
                           {DNNL_ARG_VARIANCE, e.var},
                           {DNNL_ARG_SCALE, e.scale},
                           {DNNL_ARG_SHIFT, e.shift}});
    stream.wait();
    if (save_invstd)
        for (int64_t c = 0; c < p.c; ++c)
            save_invstd[c] =
                static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + p.eps));
    if (p.training) {
        batch_norm_update_running(p, mean, var, running_mean, running_var);
    } else if (save_mean) {
        std::memcpy(save_mean, running_mean, static_cast<size_t>(p.c) * sizeof(float));
    }
}

void batch_norm_backward_dnnl(const BatchNormArgs& a, int threads) {
    const fathom_batch_norm_params& p = a.p;
    BnEntry& e = entry_for(p, threads);
    if (!e.bwd) {
        const auto md = data_md(p);
        auto pd = dnnl::batch_normalization_backward::primitive_desc(
            cpu_engine(), dnnl::prop_kind::backward, md, md, md, static_cast<float>(p.eps),
            flags_of(p), e.fwd_pd);
        e.bwd = dnnl::batch_normalization_backward(pd);
    }
    Scratch& scratch = thread_scratch(p.c);
    // var = 1/invstd^2 - eps, so that oneDNN's 1/sqrt(var + eps) gives invstd back.
    const auto* invstd = reinterpret_cast<const float*>(a.save_invstd);
    for (int64_t c = 0; c < p.c; ++c) {
        const double s = invstd[c];
        scratch.var[c] = static_cast<float>(1.0 / (s * s) - p.eps);
    }
    e.src.set_data_handle(handle(a.src));
    e.diff_dst.set_data_handle(handle(a.diff_dst));
    e.dst.set_data_handle(a.dst);  // diff_src
    e.mean.set_data_handle(a.save_mean);
    e.var.set_data_handle(scratch.var.data());
    e.scale.set_data_handle(a.gamma ? handle(a.gamma) : scratch.ones.data());
    e.diff_scale.set_data_handle(a.diff_gamma ? a.diff_gamma
                                              : static_cast<void*>(scratch.sink_gamma.data()));
    e.diff_shift.set_data_handle(a.diff_beta ? a.diff_beta
                                             : static_cast<void*>(scratch.sink_beta.data()));
    auto& stream = thread_stream();
    e.bwd.execute(stream, {{DNNL_ARG_SRC, e.src},
                           {DNNL_ARG_DIFF_DST, e.diff_dst},
                           {DNNL_ARG_MEAN, e.mean},
                           {DNNL_ARG_VARIANCE, e.var},
                           {DNNL_ARG_SCALE, e.scale},
                           {DNNL_ARG_DIFF_SRC, e.dst},
                           {DNNL_ARG_DIFF_SCALE, e.diff_scale},
                           {DNNL_ARG_DIFF_SHIFT, e.diff_shift}});
    stream.wait();
}

}  // namespace fathom
