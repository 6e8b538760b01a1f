// The memory limit on tensor storage (ABI 8): fathom_set_memory_limit,
// fathom_memory_limit and FATHOM_MAX_MEMORY_MB. A request over the limit is
// refused with FATHOM_OUT_OF_MEMORY and a message naming the bytes, the limit
// and the counts; cached blocks go first; nothing is allocated or counted for
// a refused request. Every test restores the limit it found.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fathom/fathom.h"
#include "runtime_info_util.h"

using namespace fathom_test;

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

// What a block of `bytes` counts against the limit: the size rounded up to
// 64 bytes plus the 64-byte header.
int64_t block_bytes(int64_t bytes) { return (bytes + 127) / 64 * 64; }

int64_t live_bytes() {
    int64_t out = -1;
    EXPECT_EQ(FATHOM_OK, fathom_live_bytes(&out));
    return out;
}

int64_t cached_bytes() {
    const std::string value = runtime_info_value("alloc.cached_bytes");
    return value.empty() ? -1 : std::stoll(value);
}

int64_t memory_limit() {
    int64_t out = -1;
    EXPECT_EQ(FATHOM_OK, fathom_memory_limit(&out));
    return out;
}

// A block from fathom_alloc, freed at scope exit.
struct Block {
    int64_t address = 0;
    Block() = default;
    Block(const Block&) = delete;
    Block& operator=(const Block&) = delete;
    ~Block() { reset(); }
    void reset() {
        EXPECT_EQ(FATHOM_OK, fathom_free(address)) << fathom_last_error();
        address = 0;
    }
    float* floats() const { return reinterpret_cast<float*>(address); }
};

bool cache_holds(int64_t bytes) {
    const char* env = std::getenv("FATHOM_ALLOC_CACHE_MB");
    return env == nullptr || (std::atoll(env) << 20) >= bytes;
}

class MemoryLimit : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(FATHOM_OK, fathom_memory_limit(&saved_limit_));
        baseline_ = live_bytes();
    }
    void TearDown() override {
        EXPECT_EQ(FATHOM_OK, fathom_set_memory_limit(saved_limit_)) << fathom_last_error();
        EXPECT_EQ(baseline_, live_bytes()) << "live bytes did not return to the baseline";
    }
    void set_limit(int64_t bytes) {
        ASSERT_EQ(FATHOM_OK, fathom_set_memory_limit(bytes)) << fathom_last_error();
    }
    int64_t saved_limit_ = 0;
    int64_t baseline_ = 0;
};

TEST_F(MemoryLimit, overLimitAllocFailsWithStatusAndMessage) {
    set_limit(64 * kMiB);
    Block small;
    ASSERT_EQ(FATHOM_OK, fathom_alloc(kMiB, &small.address)) << fathom_last_error();
    const int64_t live = live_bytes();

    int64_t address = 12345;
    EXPECT_EQ(FATHOM_OUT_OF_MEMORY, fathom_alloc(100 * kMiB, &address));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos,
              msg.find("alloc: 104857600 bytes would exceed the memory limit of 67108864 bytes "
                       "(live "))
        << msg;
    EXPECT_NE(std::string::npos, msg.find(", cached 0)")) << msg;
    if (baseline_ == 0) {
        EXPECT_NE(std::string::npos, msg.find("(live " + std::to_string(block_bytes(kMiB)) + ","))
            << msg;
    }
    EXPECT_EQ(12345, address) << "a refused alloc writes no address";
    EXPECT_EQ(live, live_bytes()) << "a refused alloc counts nothing";

    // Within the limit, allocation goes on as before.
    Block more;
    EXPECT_EQ(FATHOM_OK, fathom_alloc(32 * kMiB, &more.address)) << fathom_last_error();
}

TEST_F(MemoryLimit, cachedBlocksAreEvictedBeforeARefusal) {
    if (!cache_holds(64 * kMiB)) GTEST_SKIP() << "FATHOM_ALLOC_CACHE_MB keeps the cache small";
    set_limit(64 * kMiB);
    {
        Block a, b;
        ASSERT_EQ(FATHOM_OK, fathom_alloc(24 * kMiB, &a.address)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, fathom_alloc(24 * kMiB, &b.address)) << fathom_last_error();
    }
    ASSERT_GE(cached_bytes(), 2 * block_bytes(24 * kMiB)) << "freed blocks are cached";

    // 48 MiB cached + 40 MiB > 64 MiB: a cached block goes, the request succeeds.
    {
        Block c;
        ASSERT_EQ(FATHOM_OK, fathom_alloc(40 * kMiB, &c.address)) << fathom_last_error();
        EXPECT_LT(cached_bytes(), 2 * block_bytes(24 * kMiB));
        EXPECT_LE(cached_bytes() + block_bytes(40 * kMiB), 64 * kMiB);
    }
    EXPECT_GT(cached_bytes(), 0);
    EXPECT_LE(cached_bytes(), 64 * kMiB) << "live + cached stay within the limit";

    // No eviction makes room for 100 MiB: the cache is emptied, then the request refused.
    int64_t address = 0;
    EXPECT_EQ(FATHOM_OUT_OF_MEMORY, fathom_alloc(100 * kMiB, &address));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("would exceed the memory limit")) << msg;
    EXPECT_NE(std::string::npos, msg.find(", cached 0)")) << msg;
    EXPECT_EQ(0, cached_bytes());
}

TEST_F(MemoryLimit, loweringTheLimitEvictsCachedBlocks) {
    if (!cache_holds(64 * kMiB)) GTEST_SKIP() << "FATHOM_ALLOC_CACHE_MB keeps the cache small";
    set_limit(0);
    {
        Block a;
        ASSERT_EQ(FATHOM_OK, fathom_alloc(16 * kMiB, &a.address)) << fathom_last_error();
    }
    ASSERT_GE(cached_bytes(), block_bytes(16 * kMiB));
    set_limit(8 * kMiB);
    EXPECT_LE(cached_bytes(), 8 * kMiB);
}

TEST_F(MemoryLimit, zeroRestoresUnlimitedAndNegativeIsRefused) {
    set_limit(kMiB);
    EXPECT_EQ(kMiB, memory_limit());
    EXPECT_EQ("1048576", runtime_info_value("alloc.memory_limit"));
    int64_t address = 0;
    EXPECT_EQ(FATHOM_OUT_OF_MEMORY, fathom_alloc(2 * kMiB, &address));

    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_set_memory_limit(-1));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("set_memory_limit: bytes=-1"))
        << fathom_last_error();
    EXPECT_EQ(kMiB, memory_limit()) << "a refused limit leaves the old one";
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_memory_limit(nullptr));

    set_limit(0);
    EXPECT_EQ(0, memory_limit());
    EXPECT_EQ("0", runtime_info_value("alloc.memory_limit"));
    Block big;
    EXPECT_EQ(FATHOM_OK, fathom_alloc(2 * kMiB, &big.address)) << fathom_last_error();
}

// What a caller does for an op (Java's Tensor ops): allocate the output, run
// the op, free what it allocated if anything fails. Under a limit the op runs
// as without one; when the output's allocation is refused, the inputs are
// intact and freeing them returns the live bytes to the baseline.
TEST_F(MemoryLimit, anOpWhoseOutputAllocationFailsLeavesNoLeak) {
    const int64_t rows = 256, cols = 1024, bytes = rows * cols * 4;  // 1 MiB each
    auto desc = [&](const Block& b) {
        fathom_tensor_desc d{};
        d.data = b.address;
        d.dtype = FATHOM_F32;
        d.ndim = 2;
        d.shape[0] = rows;
        d.shape[1] = cols;
        d.strides[0] = cols;
        d.strides[1] = 1;
        return d;
    };
    Block a, b;
    ASSERT_EQ(FATHOM_OK, fathom_alloc(bytes, &a.address)) << fathom_last_error();
    ASSERT_EQ(FATHOM_OK, fathom_alloc(bytes, &b.address)) << fathom_last_error();
    for (int64_t i = 0; i < rows * cols; ++i) a.floats()[i] = 1.0f, b.floats()[i] = 2.0f;
    const fathom_tensor_desc da = desc(a), db = desc(b);

    set_limit(live_bytes() + 8 * kMiB);
    {
        Block out;
        ASSERT_EQ(FATHOM_OK, fathom_alloc(bytes, &out.address)) << fathom_last_error();
        const fathom_tensor_desc dout = desc(out);
        ASSERT_EQ(FATHOM_OK, fathom_binary(FATHOM_BINARY_ADD, &da, &db, &dout))
            << fathom_last_error();
        EXPECT_EQ(3.0f, out.floats()[0]);
        EXPECT_EQ(3.0f, out.floats()[rows * cols - 1]);
    }

    // Room for less than the output now.
    set_limit(live_bytes() + bytes / 2);
    int64_t out = 0;
    ASSERT_EQ(FATHOM_OUT_OF_MEMORY, fathom_alloc(bytes, &out));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("alloc: 1048576 bytes"))
        << fathom_last_error();
    EXPECT_EQ(1.0f, a.floats()[rows * cols - 1]) << "inputs are untouched";
    a.reset();
    b.reset();
    EXPECT_EQ(baseline_, live_bytes());
}

// Threads that allocate at once never hold more than the limit together;
// threads that churn blocks of several sizes (cache hits, misses, evictions)
// under a tight limit end with every byte accounted for.
TEST_F(MemoryLimit, concurrentAllocationsNeverPassTheLimit) {
    const int64_t limit = 16 * kMiB;
    set_limit(limit);
    constexpr int kThreads = 4, kPerThread = 16;
    std::vector<int64_t> held(kThreads * kPerThread, 0);
    std::atomic<int> granted{0}, refused_with_message{0};
    {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kPerThread; ++i) {
                    if (fathom_alloc(kMiB, &held[t * kPerThread + i]) != FATHOM_OK) {
                        if (std::strstr(fathom_last_error(), "would exceed the memory limit"))
                            ++refused_with_message;
                        return;
                    }
                    ++granted;
                }
            });
        }
        for (auto& th : threads) th.join();
    }
    EXPECT_GE(granted.load(), 1);
    EXPECT_LE(granted.load() * block_bytes(kMiB), limit);
    EXPECT_EQ(kThreads, refused_with_message.load()) << "every thread ran into the limit";
    for (int64_t address : held) ASSERT_EQ(FATHOM_OK, fathom_free(address));
    EXPECT_EQ(baseline_, live_bytes());

    set_limit(6 * kMiB);
    std::atomic<int> failures{0};
    {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                const int64_t sizes[] = {64 << 10, 256 << 10, kMiB, 2 * kMiB};
                for (int i = 0; i < 2000; ++i) {
                    int64_t address = 0;
                    const fathom_status st = fathom_alloc(sizes[(i + t) % 4], &address);
                    if (st == FATHOM_OK) {
                        static_cast<char*>(reinterpret_cast<void*>(address))[0] = 1;
                        if (fathom_free(address) != FATHOM_OK) ++failures;
                    } else if (st != FATHOM_OUT_OF_MEMORY) {
                        ++failures;
                    }
                }
            });
        }
        for (auto& th : threads) th.join();
    }
    EXPECT_EQ(0, failures.load());
    EXPECT_EQ(baseline_, live_bytes());
    EXPECT_LE(cached_bytes(), 6 * kMiB);
}

// ctest runs this suite again with FATHOM_MAX_MEMORY_MB=64 and with a value
// that is not a number (memory_limit.env.*): the first is the limit at load,
// the second leaves it unlimited.
TEST_F(MemoryLimit, environmentSetsTheInitialLimit) {
    const char* env = std::getenv("FATHOM_MAX_MEMORY_MB");
    if (env == nullptr) GTEST_SKIP() << "FATHOM_MAX_MEMORY_MB is not set";
    EXPECT_EQ(std::string(env), runtime_info_value("env.FATHOM_MAX_MEMORY_MB"));
    char* end = nullptr;
    const long long mb = std::strtoll(env, &end, 10);
    const int64_t expected = *env != '\0' && *end == '\0' && mb >= 0 ? mb * kMiB : 0;
    EXPECT_EQ(expected, saved_limit_) << "FATHOM_MAX_MEMORY_MB=" << env;
}

}  // namespace
