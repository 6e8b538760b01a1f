// GPU tensor storage and copies for the CUDA backend (-DFATHOM_CUDA=ON).
//
// Allocator: cudaMalloc and cudaFree synchronise the whole device and cost
// tens of microseconds, and a training step frees and allocates the same sizes
// every iteration, so freed blocks are kept per device, keyed by their rounded
// size, and handed out again, under the host allocator's rules
// (core/allocator.cpp): the cache holds at most the peak of live bytes so
// far, at least 256 MiB and at most a quarter of the GPU's memory
// (FATHOM_CUDA_CACHE_MB overrides, 0 disables). A failed cudaMalloc releases
// the cache and retries once before it reports FATHOM_OUT_OF_MEMORY.
//
// Streams: every thread gets its own non-blocking stream per device, so two
// JVM threads do not serialise on the legacy default stream; each entry point
// synchronises its stream before it returns. Synchronous results are what the
// Java side's reference counting relies on (a storage freed right after a call
// must not be in use by a kernel still queued).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "cuda/cuda_util.h"

namespace fathom {

namespace {

constexpr int64_t kSmallRound = 512;              // cudaMalloc's own granularity
constexpr int64_t kLargeRound = int64_t(2) << 20;  // sizes above 1 MiB round to 2 MiB
constexpr int64_t kMinCache = int64_t(256) << 20;

int64_t rounded(int64_t bytes) {
    const int64_t r = bytes <= (int64_t(1) << 20) ? kSmallRound : kLargeRound;
    return std::max<int64_t>(r, (bytes + r - 1) / r * r);
}

struct DevicePool {
    std::mutex mu;
    std::unordered_map<void*, int64_t> live;          // block -> rounded size
    std::multimap<int64_t, void*> cached;             // rounded size -> block
    int64_t live_bytes = 0, cached_bytes = 0, peak_live = 0;
    int64_t total_memory = 0;                         // of the GPU, for the cap

    int64_t cache_cap() const {
        static const int64_t env = [] {
            const char* v = std::getenv("FATHOM_CUDA_CACHE_MB");
            if (v == nullptr || *v == '\0') return int64_t(-1);
            char* end = nullptr;
            const long long mb = std::strtoll(v, &end, 10);
            return (end && *end == '\0' && mb >= 0) ? int64_t(mb) << 20 : int64_t(-1);
        }();
        if (env >= 0) return env;
        const int64_t quarter = total_memory > 0 ? total_memory / 4 : kMinCache;
        return std::min(std::max(peak_live, kMinCache), std::max(quarter, int64_t(0)));
    }

    // Releases cached blocks until at most `keep` bytes stay cached (mu held).
    void trim(int64_t keep) {
        while (cached_bytes > keep && !cached.empty()) {
            auto it = std::prev(cached.end());  // the largest first
            cudaFree(it->second);
            cached_bytes -= it->first;
            cached.erase(it);
        }
    }
};

std::vector<std::unique_ptr<DevicePool>>& pools() {
    static std::vector<std::unique_ptr<DevicePool>> all = [] {
        std::vector<std::unique_ptr<DevicePool>> v;
        const int n = cuda_device_count();
        for (int i = 0; i < n; ++i) v.push_back(std::make_unique<DevicePool>());
        return v;
    }();
    return all;
}

DevicePool& pool(int ordinal) {
    auto& all = pools();
    if (ordinal < 0 || ordinal >= static_cast<int>(all.size()))
        fail(FATHOM_INVALID_ARGUMENT, "cuda: no device cuda:", ordinal);
    return *all[ordinal];
}

}  // namespace

cudaStream_t cuda_stream(int ordinal) {
    struct Streams {
        std::vector<cudaStream_t> by_device;
        ~Streams() {
            for (cudaStream_t s : by_device)
                if (s) cudaStreamDestroy(s);
        }
    };
    static thread_local Streams streams;
    if (static_cast<int>(streams.by_device.size()) <= ordinal)
        streams.by_device.resize(ordinal + 1, nullptr);
    cudaStream_t& s = streams.by_device[ordinal];
    if (!s) {
        check_cuda(cudaSetDevice(ordinal), "cuda", "cudaSetDevice");
        check_cuda(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cuda",
                   "cudaStreamCreate");
    }
    return s;
}

void* cuda_alloc(int ordinal, int64_t bytes) {
    DevicePool& p = pool(ordinal);
    const int64_t size = rounded(bytes);
    std::lock_guard<std::mutex> lock(p.mu);
    void* block = nullptr;
    auto hit = p.cached.find(size);
    if (hit != p.cached.end()) {
        block = hit->second;
        p.cached.erase(hit);
        p.cached_bytes -= size;
    } else {
        check_cuda(cudaSetDevice(ordinal), "device_alloc", "cudaSetDevice");
        if (p.total_memory == 0) {
            size_t free_bytes = 0, total_bytes = 0;
            if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
                p.total_memory = static_cast<int64_t>(total_bytes);
        }
        cudaError_t err = cudaMalloc(&block, static_cast<size_t>(size));
        if (err == cudaErrorMemoryAllocation && p.cached_bytes > 0) {
            cudaGetLastError();  // clear the sticky-free error before retrying
            p.trim(0);
            err = cudaMalloc(&block, static_cast<size_t>(size));
        }
        if (err == cudaErrorMemoryAllocation) {
            cudaGetLastError();
            fail(FATHOM_OUT_OF_MEMORY, "device_alloc: ", bytes, " bytes on cuda:", ordinal,
                 " failed (live ", p.live_bytes, " bytes)");
        }
        check_cuda(err, "device_alloc", "cudaMalloc");
    }
    p.live.emplace(block, size);
    p.live_bytes += size;
    p.peak_live = std::max(p.peak_live, p.live_bytes);
    return block;
}

void cuda_free(int ordinal, void* block) {
    DevicePool& p = pool(ordinal);
    std::lock_guard<std::mutex> lock(p.mu);
    auto it = p.live.find(block);
    if (it == p.live.end())
        fail(FATHOM_INVALID_ARGUMENT, "device_free: ", block,
             " is not a live block of cuda:", ordinal);
    const int64_t size = it->second;
    p.live.erase(it);
    p.live_bytes -= size;
    const int64_t cap = p.cache_cap();
    if (size <= cap) {
        p.cached.emplace(size, block);
        p.cached_bytes += size;
        p.trim(cap);
    } else {
        check_cuda(cudaFree(block), "device_free", "cudaFree");
    }
}

void cuda_copy(int dst_ordinal, void* dst, int src_ordinal, const void* src, int64_t bytes) {
    // The stream of the GPU side (the destination's when both are GPUs).
    const int ordinal = dst_ordinal >= 0 ? dst_ordinal : src_ordinal;
    if (dst_ordinal >= 0) pool(dst_ordinal);
    if (src_ordinal >= 0) pool(src_ordinal);
    cudaStream_t stream = cuda_stream(ordinal);
    cudaError_t err;
    if (dst_ordinal >= 0 && src_ordinal >= 0 && dst_ordinal != src_ordinal) {
        err = cudaMemcpyPeerAsync(dst, dst_ordinal, src, src_ordinal, static_cast<size_t>(bytes),
                                  stream);
    } else {
        err = cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes), cudaMemcpyDefault, stream);
    }
    check_cuda(err, "device_copy", "cudaMemcpyAsync");
    check_cuda(cudaStreamSynchronize(stream), "device_copy", "cudaStreamSynchronize");
}

int64_t cuda_live_bytes(int ordinal) {
    DevicePool& p = pool(ordinal);
    std::lock_guard<std::mutex> lock(p.mu);
    return p.live_bytes;
}

int64_t cuda_cached_bytes(int ordinal) {
    DevicePool& p = pool(ordinal);
    std::lock_guard<std::mutex> lock(p.mu);
    return p.cached_bytes;
}

}  // namespace fathom
