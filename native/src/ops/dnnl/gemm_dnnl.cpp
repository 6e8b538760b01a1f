// oneDNN backend: matmul with strided plain memory descriptors.
// alpha and beta become post-ops (eltwise linear(alpha) then sum(beta)), so
// one primitive computes C = alpha*A*B + beta*C in a single pass.
// Primitives are created once per (params, threads) and cached per thread
// together with their memory objects, which are not thread-safe to share;
// oneDNN's own global primitive cache makes the per-thread copies cheap.
#include <dnnl.hpp>

#include <cstring>
#include <memory>
#include <unordered_map>

#include "core/error.h"
#include "ops/gemm.h"

namespace fathom {

namespace {

struct GemmKey {
    fathom_gemm_params p;
    int threads;
    bool operator==(const GemmKey& o) const {
        return threads == o.threads && std::memcmp(&p, &o.p, sizeof(p)) == 0;
    }
};

struct GemmKeyHash {
    size_t operator()(const GemmKey& key) const {
        // fathom_gemm_params has no padding holes that memcmp could trip on:
        // two int32, then int64/float pairs; zero-initialised copies are hashed.
        const auto* bytes = reinterpret_cast<const unsigned char*>(&key.p);
        size_t h = 1469598103934665603ull ^ static_cast<size_t>(key.threads);
        for (size_t i = 0; i < sizeof(key.p); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
        return h;
    }
};

struct GemmEntry {
    dnnl::matmul primitive;
    dnnl::memory src, weights, dst;
};

dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// (batch, rows, cols) matrix with the given row stride; a zero batch stride
// means "same matrix for every batch entry", which oneDNN expresses as batch 1.
dnnl::memory::desc matrix_desc(int64_t batch, int64_t batch_stride, int64_t rows, int64_t cols,
                               int64_t ld, bool transposed) {
    using dims = dnnl::memory::dims;
    const int64_t row_stride = transposed ? 1 : ld;
    const int64_t col_stride = transposed ? ld : 1;
    if (batch == 1)
        return dnnl::memory::desc(dims{rows, cols}, dnnl::memory::data_type::f32,
                                  dims{row_stride, col_stride});
    const bool broadcast = batch_stride == 0;
    const int64_t b = broadcast ? 1 : batch;
    const int64_t bs = broadcast ? std::max<int64_t>(1, rows * cols) : batch_stride;
    return dnnl::memory::desc(dims{b, rows, cols}, dnnl::memory::data_type::f32,
                              dims{bs, row_stride, col_stride});
}

GemmEntry create_entry(const fathom_gemm_params& p) {
    auto& eng = cpu_engine();
    // op(A) is (m,k): stored transposed means element (r,q) sits at q*lda + r.
    auto src_md = matrix_desc(p.batch, p.stride_a, p.m, p.k, p.lda, p.trans_a != 0);
    auto wei_md = matrix_desc(p.batch, p.stride_b, p.k, p.n, p.ldb, p.trans_b != 0);
    auto dst_md = matrix_desc(p.batch, p.stride_c, p.m, p.n, p.ldc, false);
    dnnl::post_ops ops;
    if (p.alpha != 1.0f) ops.append_eltwise(dnnl::algorithm::eltwise_linear, p.alpha, 0.0f);
    if (p.beta != 0.0f) ops.append_sum(p.beta);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    auto pd = dnnl::matmul::primitive_desc(eng, src_md, wei_md, dst_md, attr);
    return GemmEntry{dnnl::matmul(pd), dnnl::memory(src_md, eng, DNNL_MEMORY_NONE),
                     dnnl::memory(wei_md, eng, DNNL_MEMORY_NONE),
                     dnnl::memory(dst_md, eng, DNNL_MEMORY_NONE)};
}

constexpr size_t kMaxCachedPerThread = 256;

}  // namespace

void gemm_forward_dnnl(const fathom_gemm_params& p, const float* a, const float* b, float* c,
                       int threads) {
    thread_local std::unordered_map<GemmKey, GemmEntry, GemmKeyHash> cache;
    thread_local std::unique_ptr<dnnl::stream> stream;
    if (!stream) stream = std::make_unique<dnnl::stream>(cpu_engine());

    GemmKey key{};
    key.p = p;
    key.threads = threads;
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() >= kMaxCachedPerThread) cache.clear();  // bounded: shapes churn rarely
        it = cache.emplace(key, create_entry(p)).first;
    }
    GemmEntry& e = it->second;
    e.src.set_data_handle(const_cast<float*>(a));
    e.weights.set_data_handle(const_cast<float*>(b));
    e.dst.set_data_handle(c);
    e.primitive.execute(*stream, {{DNNL_ARG_SRC, e.src},
                                  {DNNL_ARG_WEIGHTS, e.weights},
                                  {DNNL_ARG_DST, e.dst}});
    stream->wait();
}

}  // namespace fathom
