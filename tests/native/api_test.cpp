// The C ABI contract: status codes, thread-local messages that name the entry
// point and sizes, runtime info, and refusal of bad input without crashing.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "fathom/fathom_bench.h"
#include "gemm_reference.h"

using namespace fathom_test;

namespace {

std::string info_text() {
    int64_t needed = 0;
    EXPECT_EQ(FATHOM_OK, fathom_runtime_info(nullptr, 0, &needed));
    std::string s(static_cast<size_t>(needed), '\0');
    EXPECT_EQ(FATHOM_OK, fathom_runtime_info(s.data(), needed, &needed));
    s.resize(s.find('\0'));
    return s;
}

TEST(Api, abiVersionMatchesHeader) { EXPECT_EQ(FATHOM_ABI_VERSION, fathom_abi_version()); }

TEST(Api, runtimeInfoDescribesBackends) {
    const std::string s = info_text();
    const std::string abi = "fathom.abi_version=" + std::to_string(FATHOM_ABI_VERSION) + "\n";
    EXPECT_NE(std::string::npos, s.find(abi)) << s;
    EXPECT_NE(std::string::npos, s.find("onednn.version=3.")) << s;
    EXPECT_NE(std::string::npos, s.find("onednn.isa=")) << s;
    EXPECT_NE(std::string::npos, s.find("openblas.core=")) << s;
    EXPECT_NE(std::string::npos, s.find("openblas.config=OpenBLAS")) << s;
    EXPECT_NE(std::string::npos, s.find("threads.intra_op=")) << s;
}

TEST(Api, runtimeInfoTruncatesToCapacity) {
    char small[8];
    int64_t needed = 0;
    ASSERT_EQ(FATHOM_OK, fathom_runtime_info(small, sizeof small, &needed));
    EXPECT_EQ(7u, std::string(small).size());
    EXPECT_GT(needed, 8);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_runtime_info(nullptr, 16, &needed));
}

TEST(Api, nullParamsIsRefused) {
    float x = 0;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm(FATHOM_GEMM_AUTO, nullptr, &x, 1, &x, 1, &x, 1));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("sgemm: params is null"));
}

TEST(Api, negativeDimensionIsRefusedWithSizes) {
    auto p = make_params(2, 2, 2);
    p.k = -3;
    std::vector<float> buf(16);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm(FATHOM_GEMM_AUTO, &p, buf.data(), 16,
                                                    buf.data(), 16, buf.data(), 16));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("sgemm: negative dimension")) << msg;
    EXPECT_NE(std::string::npos, msg.find("k=-3")) << msg;
}

TEST(Api, tooSmallBufferIsRefusedWithSizes) {
    auto p = make_params(4, 5, 6);
    std::vector<float> a(24), b(29), c(20);  // b needs 30
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm(FATHOM_GEMM_ONEDNN, &p, a.data(), 24,
                                                    b.data(), 29, c.data(), 20));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("b holds 29 elements but 30 are required")) << msg;
    EXPECT_NE(std::string::npos, msg.find("m=4 n=5 k=6")) << msg;
}

TEST(Api, nullBufferIsRefused) {
    auto p = make_params(2, 2, 2);
    std::vector<float> c(4);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_sgemm(FATHOM_GEMM_AUTO, &p, nullptr, 4, c.data(), 4, c.data(), 4));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("a is null"));
}

TEST(Api, leadingDimensionSmallerThanRowIsRefused) {
    auto p = make_params(3, 3, 3);
    p.lda = 2;
    std::vector<float> buf(64);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm(FATHOM_GEMM_AUTO, &p, buf.data(), 64,
                                                    buf.data(), 64, buf.data(), 64));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("lda=2"));
}

TEST(Api, overlappingBatchOutputsAreRefused) {
    auto p = make_params(3, 3, 3, false, false, 1.0f, 0.0f, 2);
    p.stride_c = 4;
    std::vector<float> buf(64);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm(FATHOM_GEMM_AUTO, &p, buf.data(), 64,
                                                    buf.data(), 64, buf.data(), 64));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("overlap"));
}

TEST(Api, unknownBackendIsRefused) {
    auto p = make_params(1, 1, 1);
    float x = 1;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm(77, &p, &x, 1, &x, 1, &x, 1));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("unknown backend 77"));
}

TEST(Api, cudaBackendWithoutGpuIsUnsupportedNotACrash) {
    int64_t needed = 0;
    fathom_runtime_info(nullptr, 0, &needed);
    if (info_text().find("cuda.devices=0") == std::string::npos) GTEST_SKIP() << "a GPU is present";
    auto p = make_params(2, 2, 2);
    std::vector<float> buf(4, 1.0f), c(4);
    EXPECT_EQ(FATHOM_UNSUPPORTED, fathom_sgemm(FATHOM_GEMM_CUDA, &p, buf.data(), 4, buf.data(), 4,
                                               c.data(), 4));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("CUDA"));
}

TEST(Api, lastErrorIsPerThread) {
    fathom_gemm_params bad = make_params(1, 1, 1);
    bad.m = -1;
    float x = 0;
    ASSERT_NE(FATHOM_OK, fathom_sgemm(FATHOM_GEMM_AUTO, &bad, &x, 1, &x, 1, &x, 1));
    std::string other;
    std::thread([&] { other = fathom_last_error(); }).join();
    EXPECT_EQ("", other);
    EXPECT_NE("", std::string(fathom_last_error()));
}

TEST(Api, threadCountIsValidated) {
    int32_t n = 0;
    ASSERT_EQ(FATHOM_OK, fathom_get_num_threads(&n));
    EXPECT_GE(n, 1);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_set_num_threads(0));
    ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(1));
    int32_t m = 0;
    fathom_get_num_threads(&m);
    EXPECT_EQ(1, m);
    fathom_set_num_threads(n);
}

TEST(Api, timedGemmReportsElapsedTime) {
    auto p = make_params(32, 32, 32);
    auto a = random_vector(len_a(p), 1), b = random_vector(len_b(p), 2);
    std::vector<float> c(len_c(p));
    double seconds = -1;
    ASSERT_EQ(FATHOM_OK, fathom_sgemm_timed(FATHOM_GEMM_AUTO, &p, a.data(), a.size(), b.data(),
                                            b.size(), c.data(), c.size(), 3, &seconds));
    EXPECT_GT(seconds, 0.0);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_sgemm_timed(FATHOM_GEMM_AUTO, &p, a.data(), a.size(),
                                                          b.data(), b.size(), c.data(), c.size(),
                                                          0, &seconds));
}

}  // namespace
