// oneDNN reorders between NCHW and nChw16c (fathom_convert_layout, and the
// Java tensors that leave a run of blocked layers). Per thread, cached by
// shape and direction, like the convolution's own reorders.
#include <dnnl.hpp>

#include <cstring>
#include <map>
#include <tuple>

#include "core/threads.h"
#include "ops/layout.h"

namespace fathom {

namespace {

using tag = dnnl::memory::format_tag;

dnnl::engine& engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

struct Reorder {
    dnnl::memory from, to;
    dnnl::reorder primitive;
};

// Below this, the calling thread alone: waking a sleeping worker costs more
// (the convolution's reorders use the same bound).
constexpr size_t kSerialBytes = 256 * 1024;

}  // namespace

void convert_layout_dnnl(const float* src, bool src_blocked, float* dst, int64_t n, int64_t c,
                         int64_t s, int threads) {
    thread_local std::map<std::tuple<int64_t, int64_t, int64_t, bool>, Reorder> cache;
    thread_local std::unique_ptr<dnnl::stream> stream;
    if (!stream) stream = std::make_unique<dnnl::stream>(engine());
    const bool serial =
        threads > 1 && static_cast<size_t>(n * c * s) * sizeof(float) < kSerialBytes;
    if (serial) apply_omp_threads(1);
    const auto key = std::make_tuple(n, c, s, src_blocked);
    auto it = cache.find(key);
    if (it == cache.end()) {
        if (cache.size() >= 64) cache.clear();
        // (N, C, S, 1): S as H and 1 as W, the same bytes as (N, C, H, W).
        const dnnl::memory::dims dims{n, c, s, 1};
        const dnnl::memory::desc plain(dims, dnnl::memory::data_type::f32, tag::nchw);
        const dnnl::memory::desc blocked(dims, dnnl::memory::data_type::f32, tag::nChw16c);
        Reorder r;
        r.from = dnnl::memory(src_blocked ? blocked : plain, engine(), DNNL_MEMORY_NONE);
        r.to = dnnl::memory(src_blocked ? plain : blocked, engine(), DNNL_MEMORY_NONE);
        r.primitive = dnnl::reorder(r.from, r.to);
        it = cache.emplace(key, std::move(r)).first;
    }
    Reorder& r = it->second;
    r.from.set_data_handle(const_cast<float*>(src));
    r.to.set_data_handle(dst);
    r.primitive.execute(*stream, r.from, r.to);
    stream->wait();
    if (serial) apply_omp_threads(threads);
}

}  // namespace fathom
