// CUDA GEMM against the f64 reference (label "gpu"). Built only with
// -DFATHOM_CUDA=ON; every test skips cleanly on a machine without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "gemm_reference.h"
#include "runtime_info_util.h"

using namespace fathom_test;

namespace {

bool has_gpu() {
    return runtime_info_value("cuda.built") == "true" && runtime_info_value("cuda.devices") != "0";
}

// Prints the cuda.* values, so a GPU run's log says which GEMM path was tested.
TEST(CudaRuntime, reportsDevicesAndGemmPath) {
    if (!has_gpu()) GTEST_SKIP() << "no CUDA device";
    for (const char* key : {"cuda.built", "cuda.cublas", "cuda.devices"}) {
        const std::string value = runtime_info_value(key);
        EXPECT_FALSE(value.empty()) << key;
        std::printf("%s=%s\n", key, value.c_str());
    }
}

class CudaGemm : public ::testing::TestWithParam<GemmCase> {
protected:
    void SetUp() override {
        if (!has_gpu()) GTEST_SKIP() << "no CUDA device";
    }
};

TEST_P(CudaGemm, matchesReference) {
    const fathom_gemm_params& p = GetParam().p;
    const uint32_t seed = 77;
    auto a = random_vector(len_a(p), seed), b = random_vector(len_b(p), seed + 1);
    auto c = random_vector(len_c(p), seed + 2);
    const Oracle o = reference(p, a, b, c);
    ASSERT_EQ(FATHOM_OK, fathom_sgemm(FATHOM_GEMM_CUDA, &p, a.data(), a.size(), b.data(),
                                      b.size(), c.data(), c.size()))
        << fathom_last_error() << "\n" << repro("cuda", p, seed);
    for (size_t i = 0; i < c.size(); ++i)
        ASSERT_LE(std::fabs(c[i] - o.expected[i]), o.bound[i])
            << "element " << i << "\n" << repro("cuda", p, seed);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaGemm,
    ::testing::Values(GemmCase{"1x1x1", make_params(1, 1, 1)},
                      GemmCase{"17x33x65_tAtB", make_params(17, 33, 65, true, true, 0.5f, 1.0f)},
                      GemmCase{"padded_batch", make_params(9, 10, 11, false, true, 1.0f, 0.25f, 4, 3)},
                      GemmCase{"square_512", make_params(512, 512, 512)},
                      GemmCase{"mlp_layer", make_params(256, 256, 784)}),
    [](const auto& info) { return info.param.name; });

}  // namespace
