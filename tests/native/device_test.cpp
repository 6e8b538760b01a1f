// Device memory entry points (ABI 9) on every build: the host through the
// device API, device codes, and how a build or machine without a GPU refuses
// CUDA codes; a GPU build's own checks are in cuda_elementwise_test.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fathom/fathom.h"
#include "runtime_info_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

constexpr int32_t kCuda0 = FATHOM_DEVICE_CUDA;
constexpr int32_t kCuda1 = FATHOM_DEVICE_CUDA | (1 << 8);

std::string last_error() { return fathom_last_error(); }

int32_t cuda_count() {
    int32_t n = -1;
    EXPECT_EQ(FATHOM_OK, fathom_device_count(FATHOM_DEVICE_CUDA, &n)) << last_error();
    return n;
}

TEST(Device, countsTheHostAndAgreesWithRuntimeInfoOnGpus) {
    int32_t cpu = -1;
    ASSERT_EQ(FATHOM_OK, fathom_device_count(FATHOM_DEVICE_CPU, &cpu));
    EXPECT_EQ(1, cpu);
    EXPECT_EQ(std::to_string(cuda_count()), runtime_info_value("cuda.devices"));
    int32_t n = 0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_device_count(7, &n));
    EXPECT_NE(last_error().find("device_count: unknown device type 7"), std::string::npos)
        << last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_device_count(FATHOM_DEVICE_CPU, nullptr));
}

TEST(Device, hostMemoryThroughTheDeviceApiIsTheTensorAllocator) {
    int64_t live0 = 0, cached0 = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_memory(FATHOM_DEVICE_CPU, &live0, &cached0));
    int64_t a = 0, b = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_alloc(FATHOM_DEVICE_CPU, 1000, &a)) << last_error();
    ASSERT_EQ(FATHOM_OK, fathom_device_alloc(FATHOM_DEVICE_CPU, 1000, &b)) << last_error();
    int64_t live = 0, cached = 0;
    ASSERT_EQ(FATHOM_OK, fathom_device_memory(FATHOM_DEVICE_CPU, &live, &cached));
    EXPECT_EQ(live0 + 2000, live);
    int64_t via_tensor_api = 0;
    ASSERT_EQ(FATHOM_OK, fathom_live_bytes(&via_tensor_api));
    EXPECT_EQ(live, via_tensor_api);
    std::vector<unsigned char> pattern(1000);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<unsigned char>(i * 7);
    std::memcpy(reinterpret_cast<void*>(a), pattern.data(), pattern.size());
    ASSERT_EQ(FATHOM_OK, fathom_device_copy(FATHOM_DEVICE_CPU, b, FATHOM_DEVICE_CPU, a, 1000))
        << last_error();
    EXPECT_EQ(0, std::memcmp(reinterpret_cast<void*>(b), pattern.data(), pattern.size()));
    EXPECT_EQ(FATHOM_OK, fathom_device_free(FATHOM_DEVICE_CPU, a));
    EXPECT_EQ(FATHOM_OK, fathom_free(b));  // the same blocks either way
    ASSERT_EQ(FATHOM_OK, fathom_device_memory(FATHOM_DEVICE_CPU, &live, &cached));
    EXPECT_EQ(live0, live);
}

TEST(Device, refusesBadSizesCodesAndNullBuffers) {
    int64_t address = 0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_device_alloc(FATHOM_DEVICE_CPU, -1, &address));
    EXPECT_NE(last_error().find("device_alloc: negative size -1 on cpu"), std::string::npos)
        << last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_device_alloc(0x205, 16, &address));
    EXPECT_NE(last_error().find("unknown device 0x205"), std::string::npos) << last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_device_alloc(0x100, 16, &address));  // cpu:1
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_device_copy(FATHOM_DEVICE_CPU, 0, FATHOM_DEVICE_CPU, 64, 8));
    EXPECT_NE(last_error().find("device_copy: null dst for 8 bytes (cpu -> cpu)"),
              std::string::npos)
        << last_error();
    EXPECT_EQ(FATHOM_OK, fathom_device_copy(FATHOM_DEVICE_CPU, 0, FATHOM_DEVICE_CPU, 0, 0));
}

// Without a GPU (a CPU build, or no driver) a CUDA code is refused by name
// before anything is touched; a code past the last GPU is refused everywhere.
TEST(Device, cudaCodesAreRefusedClearlyWhereThereIsNoGpu) {
    const int32_t n = cuda_count();
    int64_t address = 0;
    if (n == 0) {
        EXPECT_EQ(FATHOM_UNSUPPORTED, fathom_device_alloc(kCuda0, 16, &address));
        EXPECT_NE(last_error().find("device_alloc: cuda:0 is not available"), std::string::npos)
            << last_error();
        std::vector<float> host(4);
        EXPECT_EQ(FATHOM_UNSUPPORTED,
                  fathom_device_copy(kCuda0, 64, FATHOM_DEVICE_CPU,
                                     reinterpret_cast<intptr_t>(host.data()), 16));
        EXPECT_EQ(FATHOM_UNSUPPORTED, fathom_device_free(kCuda0, 64));
    }
    const int32_t past = FATHOM_DEVICE_CUDA | ((n + 1) << 8);
    EXPECT_NE(FATHOM_OK, fathom_device_alloc(past, 16, &address));
    (void)kCuda1;
}

// An op runs on its output's device and names the operand on another one.
TEST(Device, elementwiseOpsRefuseOperandsOnAnotherDevice) {
    TestTensor a = make_tensor(FATHOM_F32, {2, 3}), b = make_tensor(FATHOM_F32, {2, 3});
    TestTensor dst = make_tensor(FATHOM_F32, {2, 3});
    fathom_tensor_desc on_gpu = *a.desc();
    on_gpu.device = kCuda0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_unary(FATHOM_UNARY_EXP, &on_gpu, dst.desc(), 0, 0));
    EXPECT_NE(last_error().find("unary(exp): src [2,3] is on cuda:0 but this entry point runs on "
                                "the host (cpu)"),
              std::string::npos)
        << last_error();
    fathom_tensor_desc dst_gpu = *dst.desc();
    dst_gpu.device = kCuda0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_binary(FATHOM_BINARY_ADD, a.desc(), b.desc(), &dst_gpu));
    EXPECT_NE(last_error().find("binary(add): a [2,3] is on cpu but this call runs on cuda:0"),
              std::string::npos)
        << last_error();
    TestTensor summed = make_tensor(FATHOM_F32, {2, 1});
    fathom_tensor_desc summed_gpu = *summed.desc();
    summed_gpu.device = kCuda0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_reduce(FATHOM_REDUCE_SUM, a.desc(), &summed_gpu, nullptr));
    EXPECT_NE(last_error().find("reduce(sum): src [2,3] is on cpu but this call runs on cuda:0"),
              std::string::npos)
        << last_error();
    fathom_tensor_desc bad = *dst.desc();
    bad.device = 0x305;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_unary(FATHOM_UNARY_FILL, nullptr, &bad, 1, 0));
    EXPECT_NE(last_error().find("unary: unknown device 0x305"), std::string::npos)
        << last_error();
    if (cuda_count() == 0) {
        fathom_tensor_desc src_gpu = *a.desc();
        src_gpu.device = kCuda0;
        EXPECT_EQ(FATHOM_UNSUPPORTED, fathom_unary(FATHOM_UNARY_EXP, &src_gpu, &dst_gpu, 0, 0));
        EXPECT_NE(last_error().find("unary(exp): cuda:0 is not available"), std::string::npos)
            << last_error();
    }
}

}  // namespace
