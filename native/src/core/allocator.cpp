// 64-byte aligned allocation with a live-bytes counter.
//
//   base                      base + 64 (returned)
//   | size | magic | padding | user bytes ... |
//
// The 64-byte header keeps the returned address aligned (a cache line and an
// AVX-512 vector) and lets free subtract the size without a lookup table.
//
// Blocks >= 32 KiB are kept in a bounded cache after free and reused for the
// next request of the same size: a training step allocates the same sizes
// every iteration, and glibc serves such blocks from fresh mmap pages that
// cost a page fault per 4 KiB on first touch (an out-of-place add on 16M
// floats ran at 0.64x of a loop into warm memory without the cache; the MLP
// training step spent 12% of its time in page faults with a 1 MiB threshold).
// Capacity: FATHOM_ALLOC_CACHE_MB MiB when set (0 disables the cache);
// otherwise the peak of live bytes so far, at least 256 MiB and at most a
// quarter of physical memory. So a step's freed blocks serve the next step
// even when one step churns more than 256 MiB (a batch-norm backward on
// 256x64x48x48 took 90 ms with a 256 MiB cap, refaulting its 151 MB blocks,
// and 44 ms with them cached). Live plus cached bytes stay at most the peak
// of live bytes or live plus 256 MiB (trim_after_miss): a long run's memory
// does not grow, and a change of sizes does not keep stale blocks around.
#include "core/allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "core/error.h"

namespace fathom {

namespace {

constexpr int64_t kAlignment = 64;
// NOTE: a magic word catches a double free or a foreign address with a clear
// error instead of heap corruption; free clears it before releasing the block.
constexpr uint64_t kMagic = 0xfa7b0a11c0ffee64ull;

struct Header {
    int64_t bytes;
    uint64_t magic;
};
static_assert(sizeof(Header) <= kAlignment, "header must fit in the alignment padding");

std::atomic<int64_t> g_live_bytes{0};
// Live blocks in bytes with their headers, and its peak: the cache's bound.
std::atomic<int64_t> g_live_block_bytes{0};
std::atomic<int64_t> g_peak_live_block_bytes{0};

constexpr int64_t kCacheMinBlock = int64_t{32} << 10;

class BlockCache {
public:
    BlockCache() {
        const char* env = std::getenv("FATHOM_ALLOC_CACHE_MB");
        fixed_ = env != nullptr && *env != '\0';
        const long long mb = fixed_ ? std::atoll(env) : 256;
        capacity_ = mb > 0 ? static_cast<int64_t>(mb) << 20 : 0;
        const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        max_capacity_ = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page / 4 : capacity_;
    }
    ~BlockCache() {
        for (auto& entry : blocks_)
            for (void* base : entry.second) std::free(base);
    }

    // A cached block of exactly `total` bytes, or null.
    void* take(int64_t total) {
        if (total < kCacheMinBlock || capacity_ == 0) return nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = blocks_.find(total);
        if (it == blocks_.end() || it->second.empty()) return nullptr;
        void* base = it->second.back();
        it->second.pop_back();
        cached_ -= total;
        return base;
    }

    // Keeps the block if it fits; false means the caller must free it.
    bool put(void* base, int64_t total) {
        const int64_t capacity = effective_capacity();
        if (total < kCacheMinBlock || total > capacity) return false;
        std::lock_guard<std::mutex> lock(mutex_);
        if (cached_ + total > capacity) evict(cached_ + total - capacity);
        blocks_[total].push_back(base);
        cached_ += total;
        return true;
    }

    int64_t cached_bytes() {
        std::lock_guard<std::mutex> lock(mutex_);
        return cached_;
    }

    // After a block was allocated fresh (a miss) with `live` bytes now live:
    // evicts until live + cached is at most the peak of live bytes, or live
    // plus the floor. A workload whose sizes change (training, then
    // evaluation at another batch size) then never holds more than its peak
    // or the old fixed 256 MiB of stale blocks.
    void trim_after_miss(int64_t live) {
        if (fixed_ || capacity_ == 0) return;
        const int64_t peak = g_peak_live_block_bytes.load(std::memory_order_relaxed);
        const int64_t allowance = std::max(capacity_, peak - live);
        std::lock_guard<std::mutex> lock(mutex_);
        if (cached_ > allowance) evict(cached_ - allowance);
    }

private:
    int64_t effective_capacity() const {
        if (fixed_ || capacity_ == 0) return capacity_;
        const int64_t peak = g_peak_live_block_bytes.load(std::memory_order_relaxed);
        return std::max(capacity_, std::min(peak, max_capacity_));
    }

    void evict(int64_t at_least) {
        for (auto it = blocks_.begin(); it != blocks_.end() && at_least > 0;) {
            while (!it->second.empty() && at_least > 0) {
                std::free(it->second.back());
                it->second.pop_back();
                cached_ -= it->first;
                at_least -= it->first;
            }
            it = it->second.empty() ? blocks_.erase(it) : std::next(it);
        }
    }

    std::mutex mutex_;
    std::unordered_map<int64_t, std::vector<void*>> blocks_;
    int64_t cached_ = 0;
    int64_t capacity_ = 0;       // the floor, or the fixed capacity
    int64_t max_capacity_ = 0;   // a quarter of physical memory
    bool fixed_ = false;         // FATHOM_ALLOC_CACHE_MB was set
};

BlockCache& block_cache() {
    static BlockCache* cache = new BlockCache();  // never destroyed: frees may come at exit
    return *cache;
}

int64_t total_size(int64_t bytes) {
    // std::aligned_alloc requires the size to be a multiple of the alignment.
    return (bytes + kAlignment + kAlignment - 1) / kAlignment * kAlignment;
}

}  // namespace

void* tensor_alloc(int64_t bytes) {
    if (bytes < 0) fail(FATHOM_INVALID_ARGUMENT, "alloc: bytes=", bytes, " is negative");
    if (bytes > std::numeric_limits<int64_t>::max() - 2 * kAlignment)
        fail(FATHOM_OUT_OF_MEMORY, "alloc: cannot allocate ", bytes, " bytes");
    const int64_t total = total_size(bytes);
    void* base = block_cache().take(total);
    const bool fresh = base == nullptr;
    if (fresh) base = std::aligned_alloc(kAlignment, static_cast<size_t>(total));
    if (base == nullptr) fail(FATHOM_OUT_OF_MEMORY, "alloc: cannot allocate ", bytes, " bytes");
    auto* header = static_cast<Header*>(base);
    header->bytes = bytes;
    header->magic = kMagic;
    g_live_bytes.fetch_add(bytes, std::memory_order_relaxed);
    const int64_t live = g_live_block_bytes.fetch_add(total, std::memory_order_relaxed) + total;
    int64_t peak = g_peak_live_block_bytes.load(std::memory_order_relaxed);
    while (live > peak &&
           !g_peak_live_block_bytes.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
    if (fresh && total >= kCacheMinBlock) block_cache().trim_after_miss(live);
    return static_cast<char*>(base) + kAlignment;
}

void tensor_free(void* block) {
    if (block == nullptr) return;
    if (reinterpret_cast<uintptr_t>(block) % kAlignment != 0)
        fail(FATHOM_INVALID_ARGUMENT, "free: address ", block, " was not returned by alloc");
    void* base = static_cast<char*>(block) - kAlignment;
    auto* header = static_cast<Header*>(base);
    if (header->magic != kMagic)
        fail(FATHOM_INVALID_ARGUMENT, "free: address ", block,
             " was not returned by alloc or was already freed");
    header->magic = 0;
    const int64_t bytes = header->bytes;
    g_live_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    g_live_block_bytes.fetch_sub(total_size(bytes), std::memory_order_relaxed);
    if (!block_cache().put(base, total_size(bytes))) std::free(base);
}

int64_t tensor_live_bytes() { return g_live_bytes.load(std::memory_order_relaxed); }

int64_t tensor_cached_bytes() { return block_cache().cached_bytes(); }

}  // namespace fathom
