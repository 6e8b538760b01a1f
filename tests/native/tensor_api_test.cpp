// The tensor entry points' C ABI contract: allocation (alignment, live bytes),
// and refusal of bad descriptors with FATHOM_INVALID_ARGUMENT and a message
// naming the entry point and the shapes, for every entry point.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <set>
#include <string>

#include <unistd.h>

#include "fathom/fathom_bench.h"
#include "runtime_info_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

TEST(Alloc, alignedUniqueAndCounted) {
    int64_t baseline = -1;
    ASSERT_EQ(FATHOM_OK, fathom_live_bytes(&baseline));
    std::vector<int64_t> blocks;
    std::set<int64_t> unique;
    int64_t total = 0;
    for (int64_t bytes : {0, 0, 1, 63, 64, 65, 1000, 1 << 20}) {
        int64_t address = 0;
        ASSERT_EQ(FATHOM_OK, fathom_alloc(bytes, &address)) << fathom_last_error();
        EXPECT_NE(0, address) << "bytes=" << bytes;
        EXPECT_EQ(0, address % 64) << "bytes=" << bytes;
        std::memset(reinterpret_cast<void*>(address), 0xab, static_cast<size_t>(bytes));
        blocks.push_back(address);
        unique.insert(address);
        total += bytes;
    }
    EXPECT_EQ(blocks.size(), unique.size());
    int64_t live = 0;
    ASSERT_EQ(FATHOM_OK, fathom_live_bytes(&live));
    EXPECT_EQ(baseline + total, live);
    for (int64_t address : blocks) ASSERT_EQ(FATHOM_OK, fathom_free(address));
    ASSERT_EQ(FATHOM_OK, fathom_live_bytes(&live));
    EXPECT_EQ(baseline, live);
    EXPECT_EQ(FATHOM_OK, fathom_free(0));
}

TEST(Alloc, badRequestsAreRefused) {
    int64_t address = 0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_alloc(-1, &address));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("alloc: bytes=-1"));
    EXPECT_EQ(FATHOM_OUT_OF_MEMORY, fathom_alloc(int64_t{1} << 62, &address));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_alloc(8, nullptr));
    // A block fathom_alloc did not return: its header has no magic word.
    alignas(64) static unsigned char foreign[128] = {};
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_free(static_cast<int64_t>(reinterpret_cast<intptr_t>(foreign + 64))));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("free: address"));
}

int64_t cached_bytes() {
    const std::string value = runtime_info_value("alloc.cached_bytes");
    return value.empty() ? -1 : std::stoll(value);
}

// Freed blocks are kept up to the peak of live bytes (floor 256 MiB), so a
// training step that frees more than 256 MiB finds its blocks again in the
// next step instead of faulting in fresh pages.
TEST(Alloc, cacheKeepsFreedBlocksUpToThePeakOfLiveBytes) {
    if (std::getenv("FATHOM_ALLOC_CACHE_MB") != nullptr)
        GTEST_SKIP() << "FATHOM_ALLOC_CACHE_MB fixes the cache size";
    const int64_t block = int64_t{120} << 20;
    if (static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 4 < 5 * block)
        GTEST_SKIP() << "too little physical memory for this test";
    // Four blocks live at once make the peak 480 MiB; once freed, at least
    // three stay cached (what an earlier test left cached may be evicted first).
    ASSERT_GE(cached_bytes(), 0);
    int64_t a[4] = {};
    for (int64_t& address : a) ASSERT_EQ(FATHOM_OK, fathom_alloc(block, &address));
    for (int64_t address : a) ASSERT_EQ(FATHOM_OK, fathom_free(address));
    EXPECT_GE(cached_bytes(), 3 * (block + 64)) << "more than the 256 MiB floor is cached";
    int64_t again = 0;
    ASSERT_EQ(FATHOM_OK, fathom_alloc(block, &again));
    EXPECT_TRUE(std::find(std::begin(a), std::end(a), again) != std::end(a))
        << "a cached block is reused";
    ASSERT_EQ(FATHOM_OK, fathom_free(again));

    // Other sizes now (cache misses): stale blocks are evicted so that live +
    // cached stays within max(peak, live + 256 MiB).
    const int64_t peak = 4 * (block + 64);
    int64_t b[4] = {};
    int64_t live = 0;
    for (int64_t& address : b) {
        ASSERT_EQ(FATHOM_OK, fathom_alloc(block - (1 << 20), &address));
        live += block - (1 << 20) + 64;
        EXPECT_LE(live + cached_bytes(), std::max(peak, live + (int64_t{256} << 20)) + (1 << 20))
            << "live " << live;
    }
    for (int64_t address : b) ASSERT_EQ(FATHOM_OK, fathom_free(address));
}

// Asserts status INVALID_ARGUMENT and a message containing every part.
void expect_refused(fathom_status status, std::initializer_list<const char*> parts) {
    const std::string msg = fathom_last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, status) << msg;
    for (const char* part : parts)
        EXPECT_NE(std::string::npos, msg.find(part)) << "'" << part << "' not in: " << msg;
}

TEST(TensorApi, mismatchedShapesAreRefused) {
    TestTensor a = make_tensor(FATHOM_F32, {2, 3}), d = make_tensor(FATHOM_F32, {2, 4});
    TestTensor i = make_tensor(FATHOM_I64, {2});
    TestTensor c = make_tensor(FATHOM_BOOL, {2, 3});
    expect_refused(fathom_unary(FATHOM_UNARY_EXP, a.desc(), d.desc(), 0, 0),
                   {"unary(exp): shape [2,3] of src does not match dst [2,4]"});
    expect_refused(fathom_binary(FATHOM_BINARY_ADD, a.desc(), d.desc(), a.desc()),
                   {"binary(add): shape [2,4] of b does not match dst [2,3]"});
    expect_refused(fathom_where(c.desc(), a.desc(), d.desc(), a.desc()),
                   {"where: shape [2,4] of b does not match dst [2,3]"});
    expect_refused(fathom_index_select(a.desc(), 1, i.desc(), a.desc()),
                   {"index_select: dst [2,3] has size 3 in dim 1 but index [2] has 2 entries"});
    expect_refused(fathom_index_add(d.desc(), 1, i.desc(), a.desc()),
                   {"index_add:", "[2,3]", "[2]"});
    expect_refused(fathom_gather(a.desc(), 0, i.desc(), a.desc()),
                   {"gather: shape [2] of index does not match dst [2,3]"});
    expect_refused(fathom_scatter_add(a.desc(), 0, i.desc(), d.desc()),
                   {"scatter_add: shape [2] of index does not match src [2,4]"});
    expect_refused(fathom_matmul(a.desc(), a.desc(), d.desc()),
                   {"matmul: shapes a [2,3] @ b [2,3] -> dst [2,4]"});
}

TEST(TensorApi, unsupportedDtypesAreRefused) {
    TestTensor i64 = make_tensor(FATHOM_I64, {2, 3}), f = make_tensor(FATHOM_F32, {2, 3});
    TestTensor f64 = make_tensor(FATHOM_F64, {2, 3});
    expect_refused(fathom_unary(FATHOM_UNARY_EXP, i64.desc(), i64.desc(), 0, 0),
                   {"unary(exp): dtype int64 not supported (src [2,3])"});
    expect_refused(fathom_unary(FATHOM_UNARY_NEG, f.desc(), f64.desc(), 0, 0),
                   {"unary(neg): dtype float64 of dst does not match src float32"});
    expect_refused(fathom_binary(FATHOM_BINARY_MUL, f.desc(), f64.desc(), f.desc()),
                   {"binary(mul): dtype float64 of b does not match a float32"});
    TestTensor mask = make_tensor(FATHOM_BOOL, {2, 3});
    expect_refused(fathom_binary(FATHOM_BINARY_ADD, f.desc(), f.desc(), mask.desc()),
                   {"binary(add): dtype bool of dst does not match a float32"});
    expect_refused(fathom_where(f.desc(), f.desc(), f.desc(), f.desc()),
                   {"where: cond [2,3] must be bool, got float32"});
    expect_refused(fathom_reduce(FATHOM_REDUCE_SUM, i64.desc(), i64.desc(), nullptr),
                   {"reduce(sum): dtype int64 not supported (src [2,3])"});
    TestTensor fidx = make_tensor(FATHOM_F32, {2});
    expect_refused(fathom_index_select(f.desc(), 1, fidx.desc(), f.desc()),
                   {"index_select: index [2] must be int64, got float32"});
    fathom_tensor_desc bad = *f.desc();
    bad.dtype = 17;
    expect_refused(fathom_unary(FATHOM_UNARY_COPY, &bad, f.desc(), 0, 0),
                   {"unary(copy): unknown dtype 17 of src [2,3]"});
    expect_refused(fathom_unary(99, f.desc(), f.desc(), 0, 0), {"unary: unknown op 99"});
    expect_refused(fathom_binary(-1, f.desc(), f.desc(), f.desc()), {"binary: unknown op -1"});
    expect_refused(fathom_reduce(5, f.desc(), f.desc(), nullptr), {"reduce: unknown op 5"});
}

TEST(TensorApi, nullDescriptorsAreRefused) {
    TestTensor f = make_tensor(FATHOM_F32, {2, 3});
    TestTensor i = make_tensor(FATHOM_I64, {2});
    expect_refused(fathom_unary(FATHOM_UNARY_EXP, nullptr, f.desc(), 0, 0),
                   {"unary(exp): src is null"});
    expect_refused(fathom_unary(FATHOM_UNARY_FILL, nullptr, nullptr, 0, 0),
                   {"unary(fill): dst is null"});
    expect_refused(fathom_binary(FATHOM_BINARY_ADD, f.desc(), nullptr, f.desc()),
                   {"binary(add): b is null"});
    expect_refused(fathom_where(nullptr, f.desc(), f.desc(), f.desc()), {"where: cond is null"});
    expect_refused(fathom_reduce(FATHOM_REDUCE_MAX, f.desc(), nullptr, nullptr),
                   {"reduce(max): dst is null"});
    expect_refused(fathom_index_select(f.desc(), 0, nullptr, f.desc()),
                   {"index_select: index is null"});
    expect_refused(fathom_index_add(nullptr, 0, i.desc(), f.desc()), {"index_add: dst is null"});
    expect_refused(fathom_gather(f.desc(), 0, i.desc(), nullptr), {"gather: dst is null"});
    expect_refused(fathom_scatter_add(f.desc(), 0, i.desc(), nullptr),
                   {"scatter_add: src is null"});
    expect_refused(fathom_random(FATHOM_RANDOM_NORMAL, 1, 0, nullptr, 0, 1),
                   {"random(normal): dst is null"});
    expect_refused(fathom_matmul(f.desc(), nullptr, f.desc()), {"matmul: b is null"});
    fathom_tensor_desc nodata = *f.desc();
    nodata.data = 0;
    expect_refused(fathom_unary(FATHOM_UNARY_EXP, &nodata, f.desc(), 0, 0),
                   {"unary(exp): data of src is null but shape [2,3] has 6 elements"});
}

TEST(TensorApi, tooManyDimsAreRefused) {
    TestTensor f = make_tensor(FATHOM_F32, {2, 3});
    fathom_tensor_desc nine = *f.desc();
    nine.ndim = 9;
    expect_refused(fathom_unary(FATHOM_UNARY_EXP, &nine, f.desc(), 0, 0),
                   {"unary(exp): ndim 9 of src is outside [0, 8]"});
    expect_refused(fathom_reduce(FATHOM_REDUCE_SUM, f.desc(), &nine, nullptr),
                   {"reduce(sum): ndim 9 of dst is outside [0, 8]"});
    expect_refused(fathom_random(FATHOM_RANDOM_UNIFORM, 0, 0, &nine, 0, 1),
                   {"random(uniform): ndim 9 of dst"});
    expect_refused(fathom_matmul(&nine, f.desc(), f.desc()), {"matmul: ndim 9 of a"});
    fathom_tensor_desc negative = *f.desc();
    negative.shape[1] = -3;
    expect_refused(fathom_binary(FATHOM_BINARY_ADD, f.desc(), &negative, f.desc()),
                   {"binary(add): negative size in shape [2,-3] of b"});
}

TEST(TensorApi, outputsWithStrideZeroAreRefused) {
    TestTensor f = make_tensor(FATHOM_F32, {2, 3});
    TestTensor bcast = make_tensor(FATHOM_F32, {2, 3}, Layout::RowBcast);
    TestTensor i = make_tensor(FATHOM_I64, {2});
    expect_refused(fathom_unary(FATHOM_UNARY_RELU, f.desc(), bcast.desc(), 0, 0),
                   {"unary(relu): dst [2,3] has stride 0 in dim 0 (outputs must not broadcast)"});
    expect_refused(fathom_binary(FATHOM_BINARY_SUB, f.desc(), f.desc(), bcast.desc()),
                   {"binary(sub): dst [2,3] has stride 0 in dim 0"});
    expect_refused(fathom_random(FATHOM_RANDOM_UNIFORM, 0, 0, bcast.desc(), 0, 1),
                   {"random(uniform): dst [2,3] has stride 0"});
    expect_refused(fathom_index_add(bcast.desc(), 1, i.desc(), f.desc()),
                   {"index_add: dst [2,3] has stride 0"});
    TestTensor out_b = make_tensor(FATHOM_F32, {2, 3}, Layout::RowBcast);
    expect_refused(fathom_reduce(FATHOM_REDUCE_MAX, f.desc(), out_b.desc(), nullptr),
                   {"reduce(max): dst [2,3] has stride 0"});
    TestTensor square = make_tensor(FATHOM_F32, {3, 3});
    expect_refused(fathom_matmul(f.desc(), square.desc(), bcast.desc()),
                   {"matmul: dst [2,3] has stride 0"});
}

TEST(TensorApi, badDimIsRefused) {
    TestTensor f = make_tensor(FATHOM_F32, {2, 3});
    TestTensor i = make_tensor(FATHOM_I64, {2});
    expect_refused(fathom_index_select(f.desc(), 2, i.desc(), f.desc()),
                   {"index_select: dim 2 out of range for src [2,3]"});
    expect_refused(fathom_gather(f.desc(), -1, i.desc(), f.desc()),
                   {"gather: dim -1 out of range for src [2,3]"});
}

TEST(BenchPlainLoop, timesTheNaiveLoop) {
    std::vector<float> a(1000, 1.5f), b(1000, 2.0f), dst(1000);
    const auto addr = [](const std::vector<float>& v) {
        return static_cast<int64_t>(reinterpret_cast<intptr_t>(v.data()));
    };
    double seconds = -1;
    ASSERT_EQ(FATHOM_OK, fathom_bench_plain_loop(0, FATHOM_BINARY_ADD, addr(a), addr(b), addr(dst),
                                                 1000, 3, &seconds));
    EXPECT_GE(seconds, 0.0);
    EXPECT_EQ(3.5f, dst[999]);
    ASSERT_EQ(FATHOM_OK, fathom_bench_plain_loop(1, FATHOM_UNARY_EXP, addr(a), 0, addr(dst), 1000,
                                                 1, &seconds));
    EXPECT_FLOAT_EQ(std::exp(1.5f), dst[0]);
    expect_refused(fathom_bench_plain_loop(1, FATHOM_UNARY_TANH, addr(a), 0, addr(dst), 1000, 1,
                                           &seconds),
                   {"bench_plain_loop: unary op 10 is not relu or exp"});
    expect_refused(fathom_bench_plain_loop(0, FATHOM_BINARY_MUL, addr(a), addr(b), addr(dst), 10,
                                           1, &seconds),
                   {"bench_plain_loop: binary op 2 is not add"});
    expect_refused(fathom_bench_plain_loop(0, FATHOM_BINARY_ADD, addr(a), 0, addr(dst), 10, 1,
                                           &seconds),
                   {"bench_plain_loop: null buffer"});
}

}  // namespace
