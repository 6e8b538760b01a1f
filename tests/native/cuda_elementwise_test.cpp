// fathom_unary / fathom_binary / fathom_reduce / fathom_matmul on cuda:0 against the reference kernels, and
// the GPU allocator and copies (label "gpu"). Built only with
// -DFATHOM_CUDA=ON; every test skips cleanly on a machine without a GPU.
// Operands keep their layouts (transposed, padded, broadcast, flipped): the
// whole host storage travels to the GPU and back, so a write into padding
// shows up as a storage mismatch.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fathom/fathom.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/op_table.h"
#include "ops/reduce.h"
#include "runtime_info_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

constexpr int32_t kCuda0 = FATHOM_DEVICE_CUDA;

bool has_gpu() {
    int32_t n = 0;
    return fathom_device_count(FATHOM_DEVICE_CUDA, &n) == FATHOM_OK && n > 0;
}

// A TestTensor's storage mirrored in cuda:0 memory, with a descriptor that
// views it there.
class OnGpu {
public:
    explicit OnGpu(const TestTensor& host) : bytes_(std::max<int64_t>(host.storage_bytes(), 1)) {
        EXPECT_EQ(FATHOM_OK, fathom_device_alloc(kCuda0, bytes_, &address_)) << fathom_last_error();
        EXPECT_EQ(FATHOM_OK, fathom_device_copy(kCuda0, address_, FATHOM_DEVICE_CPU,
                                                reinterpret_cast<intptr_t>(host.storage_data()),
                                                host.storage_bytes()))
            << fathom_last_error();
        desc_ = *host.desc();
        desc_.data = address_ + host.origin_bytes();
        desc_.device = kCuda0;
    }
    ~OnGpu() { fathom_device_free(kCuda0, address_); }
    OnGpu(const OnGpu&) = delete;
    OnGpu& operator=(const OnGpu&) = delete;

    const fathom_tensor_desc* desc() const { return &desc_; }
    // Copies the GPU storage back over `host` (same layout).
    void read_into(TestTensor& host) const {
        EXPECT_EQ(FATHOM_OK,
                  fathom_device_copy(FATHOM_DEVICE_CPU,
                                     reinterpret_cast<intptr_t>(host.storage_data()), kCuda0,
                                     address_, host.storage_bytes()))
            << fathom_last_error();
    }

private:
    int64_t bytes_;
    int64_t address_ = 0;
    fathom_tensor_desc desc_{};
};

class CudaElementwise : public ::testing::Test {
protected:
    void SetUp() override {
        if (!has_gpu()) GTEST_SKIP() << "no CUDA device";
    }
};

const Layout kLayouts[] = {Layout::Dense, Layout::Transposed, Layout::Padded, Layout::RowBcast,
                           Layout::Flipped};

// libm on the GPU is not bit-identical to glibc: a few ulps.
double tolerance(fathom_dtype dtype) { return 8 * eps_of(dtype); }

TEST_F(CudaElementwise, everyUnaryOpMatchesTheReference) {
    const std::vector<int64_t> shape = {3, 5, 7};
    for (int32_t op = 0; fathom::unary_op_name(op) != nullptr; ++op) {
        for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
            for (Layout layout : kLayouts) {
                TestTensor src = make_tensor(dtype, shape, layout);
                // Positive inputs keep log, sqrt and pow real; the sign ops see both signs.
                const bool positive = op == FATHOM_UNARY_LOG || op == FATHOM_UNARY_SQRT ||
                                      op == FATHOM_UNARY_RSQRT || op == FATHOM_UNARY_POW_SCALAR;
                src.randomize(11 + op, positive ? 0.1 : -2.0, 2.0);
                TestTensor want = make_tensor(dtype, shape, layout == Layout::RowBcast
                                                                ? Layout::Dense : layout);
                want.randomize(5);
                TestTensor got = want;
                const double alpha = 0.5, beta = 1.25;
                fathom::unary_forward_ref(op, src.view(), want.view(), alpha, beta);
                OnGpu gsrc(src), gdst(got);
                ASSERT_EQ(FATHOM_OK, fathom_unary(op, gsrc.desc(), gdst.desc(), alpha, beta))
                    << fathom_last_error();
                gdst.read_into(got);
                const std::string bad = storage_mismatch(got, want, tolerance(dtype), 1e-6);
                EXPECT_EQ("", bad) << "unary(" << fathom::unary_op_name(op) << ") "
                                   << src.str() << " -> " << want.str();
            }
        }
    }
}

TEST_F(CudaElementwise, copyCastsBetweenEveryDtypePairLikeTheReference) {
    for (int s = FATHOM_F32; s <= FATHOM_BOOL; ++s) {
        for (int d = FATHOM_F32; d <= FATHOM_BOOL; ++d) {
            TestTensor src = make_tensor(static_cast<fathom_dtype>(s), {4, 6}, Layout::Transposed);
            src.randomize(3, -40.0, 40.0);
            TestTensor want = make_tensor(static_cast<fathom_dtype>(d), {4, 6});
            TestTensor got = want;
            fathom::unary_forward_ref(FATHOM_UNARY_COPY, src.view(), want.view(), 0, 0);
            OnGpu gsrc(src), gdst(got);
            ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_COPY, gsrc.desc(), gdst.desc(), 0, 0))
                << fathom_last_error();
            gdst.read_into(got);
            EXPECT_EQ("", storage_mismatch(got, want, 0)) << s << " -> " << d;
        }
    }
}

TEST_F(CudaElementwise, everyBinaryOpMatchesTheReference) {
    const std::vector<int64_t> shape = {4, 3, 6};
    for (int32_t op = 0; fathom::binary_op_name(op) != nullptr; ++op) {
        for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
            for (Layout layout : kLayouts) {
                TestTensor a = make_tensor(dtype, shape, layout);
                TestTensor b = make_tensor(dtype, shape, Layout::ColBcast);
                const bool positive = op == FATHOM_BINARY_POW;
                a.randomize(21 + op, positive ? 0.1 : -2.0, 2.0);
                b.randomize(31 + op, positive ? 0.1 : -2.0, 2.0);
                const fathom_dtype out =
                    fathom::is_comparison(op) ? FATHOM_BOOL : dtype;
                TestTensor want = make_tensor(out, shape, Layout::Padded);
                want.randomize(7);
                TestTensor got = want;
                fathom::binary_forward_ref(op, a.view(), b.view(), want.view());
                OnGpu ga(a), gb(b), gdst(got);
                ASSERT_EQ(FATHOM_OK, fathom_binary(op, ga.desc(), gb.desc(), gdst.desc()))
                    << fathom_last_error();
                gdst.read_into(got);
                EXPECT_EQ("", storage_mismatch(got, want, tolerance(dtype), 1e-6))
                    << "binary(" << fathom::binary_op_name(op) << ") " << a.str() << ", "
                    << b.str();
            }
        }
    }
}

TEST_F(CudaElementwise, fillAndRangeWriteEveryDtype) {
    for (int d = FATHOM_F32; d <= FATHOM_BOOL; ++d) {
        for (int32_t op : {FATHOM_UNARY_FILL, FATHOM_UNARY_RANGE}) {
            TestTensor want = make_tensor(static_cast<fathom_dtype>(d), {5, 4}, Layout::Padded);
            TestTensor got = want;
            fathom::unary_forward_ref(op, fathom::TensorView{}, want.view(), 3.0, 2.0);
            OnGpu gdst(got);
            ASSERT_EQ(FATHOM_OK, fathom_unary(op, nullptr, gdst.desc(), 3.0, 2.0))
                << fathom_last_error();
            gdst.read_into(got);
            EXPECT_EQ("", storage_mismatch(got, want, 0)) << op << " dtype " << d;
        }
    }
}

TEST_F(CudaElementwise, everyReductionMatchesTheReference) {
    struct Case { std::vector<int64_t> src, dst; };
    const Case cases[] = {{{4, 5, 6}, {4, 1, 6}}, {{4, 5, 6}, {1, 1, 1}}, {{4, 5, 6}, {4, 5, 1}},
                          {{7, 300}, {1, 300}}, {{3, 4}, {3, 4}}};
    for (int32_t op = 0; fathom::reduce_op_name(op) != nullptr; ++op) {
        for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
            for (const Case& c : cases) {
                TestTensor src = make_tensor(dtype, c.src, Layout::Transposed);
                src.randomize(41 + op, 0.5, 1.5);  // products of positive numbers near 1
                TestTensor want = make_tensor(dtype, c.dst, Layout::Padded);
                want.randomize(9);
                TestTensor got = want;
                int reduced = 0;
                for (size_t d = 0; d < c.src.size(); ++d) reduced += c.dst[d] != c.src[d];
                const bool with_indices = fathom::reduce_writes_indices(op) && reduced == 1;
                TestTensor want_idx = make_tensor(FATHOM_I64, c.dst), got_idx = want_idx;
                fathom::TensorView idx_view = want_idx.view();
                fathom::reduce_forward_ref(op, src.view(), want.view(),
                                           with_indices ? &idx_view : nullptr);
                OnGpu gsrc(src), gdst(got), gidx(got_idx);
                ASSERT_EQ(FATHOM_OK, fathom_reduce(op, gsrc.desc(), gdst.desc(),
                                                   with_indices ? gidx.desc() : nullptr))
                    << fathom_last_error();
                gdst.read_into(got);
                // The same additions in the same order, in double: equal up to rounding of
                // the one final conversion.
                EXPECT_EQ("", storage_mismatch(got, want, eps_of(dtype)))
                    << "reduce(" << fathom::reduce_op_name(op) << ") " << src.str() << " -> "
                    << want.str();
                if (with_indices) {
                    gidx.read_into(got_idx);
                    EXPECT_EQ("", storage_mismatch(got_idx, want_idx, 0));
                }
            }
        }
    }
}

TEST_F(CudaElementwise, matmulMatchesTheReferenceOverStridedAndBroadcastOperands) {
    struct Case { std::vector<int64_t> a, b; Layout la, lb; };
    const Case cases[] = {
        {{1, 1}, {1, 1}, Layout::Dense, Layout::Dense},
        {{33, 17}, {17, 65}, Layout::Dense, Layout::Transposed},  // b^T as in the backward
        {{3, 20, 31}, {3, 31, 9}, Layout::Transposed, Layout::Padded},
        {{4, 16, 16}, {4, 16, 16}, Layout::Dense, Layout::RowBcast},  // one b for every batch
        {{256, 784}, {784, 128}, Layout::Dense, Layout::Dense}};
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
        for (const Case& c : cases) {
            TestTensor a = make_tensor(dtype, c.a, c.la), b = make_tensor(dtype, c.b, c.lb);
            a.randomize(51);
            b.randomize(52);
            std::vector<int64_t> out = c.a;
            out.back() = c.b.back();
            TestTensor want = make_tensor(dtype, out, Layout::Padded);
            want.randomize(53);
            TestTensor got = want;
            fathom::MatmulArgs ref{a.view(), b.view(), want.view()};
            fathom::matmul_forward_ref(ref);
            OnGpu ga(a), gb(b), gdst(got);
            ASSERT_EQ(FATHOM_OK, fathom_matmul(ga.desc(), gb.desc(), gdst.desc()))
                << fathom_last_error();
            gdst.read_into(got);
            // float accumulation over k terms of size <= 1: k ulps is a generous bound.
            const double k = static_cast<double>(c.a.back());
            EXPECT_EQ("", storage_mismatch(got, want, 2 * k * eps_of(dtype), 1.0))
                << a.str() << " @ " << b.str();
        }
    }
}

TEST_F(CudaElementwise, mixedDevicesAreRefusedByName) {
    TestTensor a = make_tensor(FATHOM_F32, {2, 3}), dst = make_tensor(FATHOM_F32, {2, 3});
    OnGpu gdst(dst);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_unary(FATHOM_UNARY_EXP, a.desc(), gdst.desc(), 0, 0));
    EXPECT_NE(std::string(fathom_last_error())
                  .find("unary(exp): src [2,3] is on cpu but this call runs on cuda:0"),
              std::string::npos)
        << fathom_last_error();
}

TEST_F(CudaElementwise, allocatorCachesFreedBlocksAndRefusesForeignOnes) {
    int64_t live0 = 0, cached0 = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_memory(kCuda0, &live0, &cached0));
    int64_t a = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_alloc(kCuda0, 3 << 20, &a)) << fathom_last_error();
    int64_t live = 0, cached = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_memory(kCuda0, &live, &cached));
    EXPECT_EQ(live0 + (4 << 20), live);  // 3 MiB rounds up to the 2 MiB granule
    ASSERT_EQ(FATHOM_OK, fathom_device_free(kCuda0, a));
    ASSERT_EQ(FATHOM_OK, fathom_device_memory(kCuda0, &live, &cached));
    EXPECT_EQ(live0, live);
    EXPECT_EQ(cached0 + (4 << 20), cached);
    int64_t again = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_alloc(kCuda0, (3 << 20) + 5, &again));
    EXPECT_EQ(a, again);  // the cached block came back
    EXPECT_EQ(FATHOM_OK, fathom_device_free(kCuda0, again));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_device_free(kCuda0, again + 64));
    EXPECT_NE(std::string(fathom_last_error()).find("is not a live block of cuda:0"),
              std::string::npos)
        << fathom_last_error();
}

TEST_F(CudaElementwise, copiesRoundTripBetweenHostAndGpuAndWithinTheGpu) {
    std::vector<float> host(10000), back(10000, -1.0f);
    for (size_t i = 0; i < host.size(); ++i) host[i] = 0.25f * static_cast<float>(i);
    const int64_t bytes = static_cast<int64_t>(host.size() * sizeof(float));
    int64_t x = 0, y = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_alloc(kCuda0, bytes, &x));
    ASSERT_EQ(FATHOM_OK, fathom_device_alloc(kCuda0, bytes, &y));
    ASSERT_EQ(FATHOM_OK, fathom_device_copy(kCuda0, x, FATHOM_DEVICE_CPU,
                                            reinterpret_cast<intptr_t>(host.data()), bytes));
    ASSERT_EQ(FATHOM_OK, fathom_device_copy(kCuda0, y, kCuda0, x, bytes));
    ASSERT_EQ(FATHOM_OK, fathom_device_copy(FATHOM_DEVICE_CPU,
                                            reinterpret_cast<intptr_t>(back.data()), kCuda0, y,
                                            bytes));
    EXPECT_EQ(host, back);
    fathom_device_free(kCuda0, x);
    fathom_device_free(kCuda0, y);
}

}  // namespace
