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
//
// Memory limit (fathom_set_memory_limit, FATHOM_MAX_MEMORY_MB): live plus
// cached block bytes stay within it. A cache miss reserves its block in the
// live count with one atomic add and compares live + cached with the limit;
// only a request over it takes the cache's lock, evicts cached blocks (all of
// them if that is still not enough) and reserves again under the lock, or
// fails with FATHOM_OUT_OF_MEMORY before anything is allocated. Unlimited
// (the default), the cost is one relaxed load. The cache moves a block
// between its count and the live count under its lock (take, put), adding
// before it subtracts, so a concurrent check never sees the sum lower than it
// is. Near the limit, a request that races another's refused reservation may
// be refused too; none is granted that takes the sum past the limit.
#include "core/allocator.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
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

// The limit on live plus cached block bytes; 0 = unlimited, kUnread until
// FATHOM_MAX_MEMORY_MB was read (at load, or by the first allocation if that
// comes first).
constexpr int64_t kUnread = -1;
std::atomic<int64_t> g_limit{kUnread};

int64_t limit_from_env() {
    const char* env = std::getenv("FATHOM_MAX_MEMORY_MB");
    if (env == nullptr || *env == '\0') return 0;
    char* end = nullptr;
    errno = 0;
    const long long mb = std::strtoll(env, &end, 10);
    if (*end != '\0' || mb < 0) return 0;  // not a count of MiB: unlimited
    if (errno == ERANGE || mb > (std::numeric_limits<int64_t>::max() >> 20))
        return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(mb) << 20;
}

int64_t memory_limit() {
    int64_t limit = g_limit.load(std::memory_order_relaxed);
    if (limit == kUnread) {
        const int64_t from_env = limit_from_env();
        // A concurrent fathom_set_memory_limit wins over the environment.
        if (g_limit.compare_exchange_strong(limit, from_env, std::memory_order_relaxed))
            limit = from_env;
    }
    return limit;
}

const bool g_limit_read_at_load = memory_limit() >= 0;

// live + total + cached <= limit, without overflow (all non-negative).
bool fits(int64_t live, int64_t total, int64_t cached, int64_t limit) {
    return total <= limit && live <= limit - total && cached <= limit - total - live;
}

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

    // A cached block of exactly `total` bytes, now counted live, or null.
    void* take(int64_t total) {
        if (total < kCacheMinBlock || capacity_ == 0) return nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = blocks_.find(total);
        if (it == blocks_.end() || it->second.empty()) return nullptr;
        void* base = it->second.back();
        it->second.pop_back();
        g_live_block_bytes.fetch_add(total);
        cached_.fetch_sub(total);
        return base;
    }

    // Keeps the block if it fits, moving its bytes from the live count to the
    // cache's; false means the caller must uncount and free it.
    bool put(void* base, int64_t total) {
        const int64_t capacity = effective_capacity();
        if (total < kCacheMinBlock || total > capacity) return false;
        std::lock_guard<std::mutex> lock(mutex_);
        const int64_t cached = cached_.load();
        if (cached + total > capacity) evict(cached + total - capacity);
        blocks_[total].push_back(base);
        cached_.fetch_add(total);
        g_live_block_bytes.fetch_sub(total);
        return true;
    }

    int64_t cached_bytes() const { return cached_.load(); }

    // The slow path of a reservation over the limit: under the lock (so no
    // block moves between the counts meanwhile), evicts cached blocks until
    // live + total + cached fits, or all of them, and then adds `total` to
    // the live count if it fits. Otherwise returns false with the counts it
    // compared (cached is then 0).
    bool reserve_within(int64_t total, int64_t limit, int64_t* live_seen, int64_t* cached_seen) {
        std::lock_guard<std::mutex> lock(mutex_);
        int64_t live = g_live_block_bytes.load();
        for (;;) {
            const int64_t cached = cached_.load();
            if (!fits(live, total, cached, limit)) {
                if (cached > 0) {
                    evict(fits(live, total, 0, limit) ? cached - (limit - total - live) : cached);
                    continue;
                }
                *live_seen = live;
                *cached_seen = cached;
                return false;
            }
            if (g_live_block_bytes.compare_exchange_weak(live, live + total)) return true;
        }
    }

    // Evicts until live + cached is within `limit` or nothing is cached.
    void trim_to_limit(int64_t limit) {
        std::lock_guard<std::mutex> lock(mutex_);
        const int64_t over = g_live_block_bytes.load() + cached_.load() - limit;
        if (over > 0) evict(over);
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
        const int64_t cached = cached_.load();
        if (cached > allowance) evict(cached - allowance);
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
                cached_.fetch_sub(it->first);
                at_least -= it->first;
            }
            it = it->second.empty() ? blocks_.erase(it) : std::next(it);
        }
    }

    std::mutex mutex_;
    std::unordered_map<int64_t, std::vector<void*>> blocks_;
    // Changed only under mutex_; read without it by the limit's fast path.
    std::atomic<int64_t> cached_{0};
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
    // A cached block moves from the cache's count to the live count: the sum
    // the limit bounds does not change, so a hit needs no check.
    void* base = block_cache().take(total);
    const bool fresh = base == nullptr;
    if (fresh) {
        const int64_t limit = memory_limit();
        if (limit > 0) {
            const int64_t before = g_live_block_bytes.fetch_add(total);
            if (!fits(before, total, block_cache().cached_bytes(), limit)) {
                g_live_block_bytes.fetch_sub(total);
                int64_t live = 0, cached = 0;
                if (!block_cache().reserve_within(total, limit, &live, &cached))
                    fail(FATHOM_OUT_OF_MEMORY, "alloc: ", bytes,
                         " bytes would exceed the memory limit of ", limit, " bytes (live ", live,
                         ", cached ", cached, ")");
            }
        } else {
            g_live_block_bytes.fetch_add(total);
        }
        base = std::aligned_alloc(kAlignment, static_cast<size_t>(total));
        if (base == nullptr) {
            g_live_block_bytes.fetch_sub(total);
            fail(FATHOM_OUT_OF_MEMORY, "alloc: cannot allocate ", bytes, " bytes");
        }
    }
    auto* header = static_cast<Header*>(base);
    header->bytes = bytes;
    header->magic = kMagic;
    g_live_bytes.fetch_add(bytes, std::memory_order_relaxed);
    const int64_t live = g_live_block_bytes.load(std::memory_order_relaxed);
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
    const int64_t total = total_size(bytes);
    g_live_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    if (!block_cache().put(base, total)) {
        g_live_block_bytes.fetch_sub(total);
        std::free(base);
    }
}

int64_t tensor_live_bytes() { return g_live_bytes.load(std::memory_order_relaxed); }

int64_t tensor_cached_bytes() { return block_cache().cached_bytes(); }

void set_tensor_memory_limit(int64_t bytes) {
    if (bytes < 0)
        fail(FATHOM_INVALID_ARGUMENT, "set_memory_limit: bytes=", bytes,
             " is negative (0 means unlimited)");
    g_limit.store(bytes, std::memory_order_relaxed);
    if (bytes > 0) block_cache().trim_to_limit(bytes);
}

int64_t tensor_memory_limit() { return memory_limit(); }

}  // namespace fathom
