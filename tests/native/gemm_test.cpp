// Every GEMM backend against the f64 reference, on odd shapes, transposes,
// alpha/beta, padded leading dimensions, batches and broadcast operands.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gemm_reference.h"

using namespace fathom_test;

namespace {

struct Backend {
    fathom_gemm_backend id;
    const char* name;
};

const Backend kBackends[] = {{FATHOM_GEMM_REFERENCE, "reference"},
                             {FATHOM_GEMM_OPENBLAS, "openblas"},
                             {FATHOM_GEMM_ONEDNN, "onednn"},
                             {FATHOM_GEMM_AUTO, "auto"}};

std::vector<GemmCase> cases() {
    std::vector<GemmCase> out = {
        {"1x1x1", make_params(1, 1, 1)},
        {"1xNxK", make_params(1, 33, 17)},
        {"Mx1xK", make_params(29, 1, 7)},
        {"17x33x65", make_params(17, 33, 65)},
        {"17x33x65_tA", make_params(17, 33, 65, true, false)},
        {"17x33x65_tB", make_params(17, 33, 65, false, true)},
        {"17x33x65_tAtB", make_params(17, 33, 65, true, true)},
        {"alpha_beta", make_params(13, 9, 21, false, false, -0.5f, 0.75f)},
        {"beta_one_tAtB", make_params(8, 31, 5, true, true, 2.0f, 1.0f)},
        {"padded_ld", make_params(11, 19, 23, false, false, 1.0f, 0.5f, 1, 3)},
        {"padded_ld_tA", make_params(11, 19, 23, true, false, 1.5f, 0.0f, 1, 5)},
        {"batch3", make_params(7, 6, 5, false, false, 1.0f, 0.0f, 3)},
        {"batch4_tAtB_beta", make_params(9, 10, 11, true, true, 0.5f, -1.0f, 4, 2)},
        {"mlp_layer", make_params(64, 256, 784)},
        {"square_128", make_params(128, 128, 128)},
        {"tall_300x7x129", make_params(300, 7, 129, false, true)},
    };
    // The same weight matrix for every batch entry (stride_b == 0).
    fathom_gemm_params shared = make_params(5, 12, 9, false, false, 1.0f, 0.0f, 3);
    shared.stride_b = 0;
    out.push_back({"broadcast_b", shared});
    fathom_gemm_params shared_a = make_params(6, 4, 3, true, false, 1.0f, 0.25f, 2);
    shared_a.stride_a = 0;
    out.push_back({"broadcast_a_tA", shared_a});
    return out;
}

class GemmMatchesReference : public ::testing::TestWithParam<std::tuple<Backend, GemmCase>> {};

TEST_P(GemmMatchesReference, matchesReference) {
    const auto& [backend, gc] = GetParam();
    const fathom_gemm_params& p = gc.p;
    const uint32_t seed = 1234u + static_cast<uint32_t>(p.m * 31 + p.n * 7 + p.k);
    auto a = random_vector(len_a(p), seed);
    auto b = random_vector(len_b(p), seed + 1);
    auto c = random_vector(len_c(p), seed + 2);
    const Oracle o = reference(p, a, b, c);
    ASSERT_EQ(FATHOM_OK, fathom_sgemm(backend.id, &p, a.data(), a.size(), b.data(), b.size(),
                                      c.data(), c.size()))
        << fathom_last_error() << "\n" << repro(backend.name, p, seed);
    for (size_t i = 0; i < c.size(); ++i)
        ASSERT_LE(std::fabs(c[i] - o.expected[i]), o.bound[i])
            << "element " << i << ": got " << c[i] << " want " << o.expected[i] << "\n"
            << repro(backend.name, p, seed);
}

INSTANTIATE_TEST_SUITE_P(
    AllBackends, GemmMatchesReference,
    ::testing::Combine(::testing::ValuesIn(kBackends), ::testing::ValuesIn(cases())),
    [](const auto& info) {
        return std::string(std::get<0>(info.param).name) + "_" + std::get<1>(info.param).name;
    });

class GemmEdgeCases : public ::testing::TestWithParam<Backend> {};

TEST_P(GemmEdgeCases, betaZeroIgnoresNaNInOutput) {
    auto p = make_params(4, 5, 3);
    auto a = random_vector(len_a(p), 1), b = random_vector(len_b(p), 2);
    std::vector<float> c(len_c(p), std::numeric_limits<float>::quiet_NaN());
    ASSERT_EQ(FATHOM_OK, fathom_sgemm(GetParam().id, &p, a.data(), a.size(), b.data(), b.size(),
                                      c.data(), c.size())) << fathom_last_error();
    for (float x : c) EXPECT_FALSE(std::isnan(x)) << GetParam().name;
}

TEST_P(GemmEdgeCases, zeroKScalesOutputByBeta) {
    auto p = make_params(3, 4, 0, false, false, 1.0f, 0.5f);
    p.lda = 1;  // BLAS convention: ld >= max(1, columns), also for empty A
    std::vector<float> c(len_c(p), 2.0f);
    ASSERT_EQ(FATHOM_OK, fathom_sgemm(GetParam().id, &p, nullptr, 0, nullptr, 0, c.data(),
                                      c.size())) << fathom_last_error();
    for (float x : c) EXPECT_EQ(1.0f, x);
}

TEST_P(GemmEdgeCases, emptyOutputTouchesNothing) {
    auto p = make_params(0, 4, 3);
    ASSERT_EQ(FATHOM_OK, fathom_sgemm(GetParam().id, &p, nullptr, 0, nullptr, 0, nullptr, 0))
        << fathom_last_error();
}

TEST_P(GemmEdgeCases, paddingBetweenRowsIsPreserved) {
    auto p = make_params(6, 5, 4, false, false, 1.0f, 0.0f, 2, 3);
    auto a = random_vector(len_a(p), 3), b = random_vector(len_b(p), 4);
    std::vector<float> c(len_c(p), 42.0f);
    ASSERT_EQ(FATHOM_OK, fathom_sgemm(GetParam().id, &p, a.data(), a.size(), b.data(), b.size(),
                                      c.data(), c.size())) << fathom_last_error();
    for (int64_t i = 0; i < p.batch; ++i)
        for (int64_t r = 0; r < p.m; ++r)
            for (int64_t j = p.n; j < p.ldc && i * p.stride_c + r * p.ldc + j < (int64_t)c.size(); ++j)
                EXPECT_EQ(42.0f, c[i * p.stride_c + r * p.ldc + j]) << GetParam().name;
}

TEST_P(GemmEdgeCases, repeatedShapesReuseCachedPlansCorrectly) {
    // Same shape, different data and alpha: a stale cached plan would be wrong.
    for (float alpha : {1.0f, 2.0f, 1.0f}) {
        auto p = make_params(9, 8, 7, false, true, alpha, 0.0f);
        auto a = random_vector(len_a(p), static_cast<uint32_t>(alpha * 10));
        auto b = random_vector(len_b(p), 99);
        std::vector<float> c(len_c(p), 0.0f);
        const Oracle o = reference(p, a, b, c);
        ASSERT_EQ(FATHOM_OK, fathom_sgemm(GetParam().id, &p, a.data(), a.size(), b.data(),
                                          b.size(), c.data(), c.size())) << fathom_last_error();
        for (size_t i = 0; i < c.size(); ++i) ASSERT_LE(std::fabs(c[i] - o.expected[i]), o.bound[i]);
    }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, GemmEdgeCases, ::testing::ValuesIn(kBackends),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
