// CUDA GEMM against the f64 reference (label "gpu"). Built only with
// -DFATHOM_CUDA=ON; every test skips cleanly on a machine without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "gemm_reference.h"

using namespace fathom_test;

namespace {

std::string runtime_info() {
    int64_t needed = 0;
    fathom_runtime_info(nullptr, 0, &needed);
    std::string s(static_cast<size_t>(needed), '\0');
    fathom_runtime_info(s.data(), needed, &needed);
    return s;
}

bool has_gpu() {
    const std::string s = runtime_info();
    return s.find("cuda.devices=0") == std::string::npos && s.find("cuda.built=true") != std::string::npos;
}

// Prints the cuda.* lines, so a GPU run's log says which GEMM path was tested.
TEST(CudaRuntime, reportsDevicesAndGemmPath) {
    if (!has_gpu()) GTEST_SKIP() << "no CUDA device";
    const std::string s = runtime_info();
    EXPECT_NE(s.find("cuda.cublas="), std::string::npos) << s;
    size_t at = 0;
    while ((at = s.find("cuda.", at)) != std::string::npos) {
        const size_t end = s.find('\n', at);
        std::printf("%s\n", s.substr(at, end - at).c_str());
        at = end;
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
