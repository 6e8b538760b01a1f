// fathom_random: Philox known answers, fast vs reference, independence of
// thread count and chunking, and the moments of each distribution.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/random.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

const char* const kOps[] = {"uniform", "normal", "bernoulli"};

std::string repro(int32_t op, int64_t seed, int64_t offset, const TestTensor& dst, double alpha,
                  double beta) {
    std::ostringstream os;
    os << "repro: random(" << kOps[op] << ") seed=" << seed << " offset=" << offset
       << " dst=" << dst.str() << " alpha=" << alpha << " beta=" << beta;
    return os.str();
}

TEST(Philox, knownAnswersFromRandom123) {
    // Random123 kat_vectors: counter (4 words), key (2 words) -> output.
    struct Kat {
        uint32_t ctr[4], key[2], out[4];
    };
    const Kat kats[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (const Kat& k : kats) {
        const fathom::PhiloxBlock b =
            fathom::philox4x32_10(k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3], k.key[0], k.key[1]);
        for (int i = 0; i < 4; ++i) EXPECT_EQ(k.out[i], b.w[i]) << "word " << i;
    }
}

TEST(Random, matchesReferenceOnEveryLayout) {
    for (int32_t op = 0; op < 3; ++op)
        for (fathom_dtype dt : {FATHOM_F32, FATHOM_F64, FATHOM_BOOL}) {
            if (dt == FATHOM_BOOL && op != FATHOM_RANDOM_BERNOULLI) continue;
            for (Layout l : {Layout::Dense, Layout::Transposed, Layout::Padded, Layout::Flipped})
                for (const std::vector<int64_t>& shape :
                     {std::vector<int64_t>{}, {0}, {17, 33}, {3, 1, 5}, {300, 400}}) {
                    const double alpha = op == FATHOM_RANDOM_BERNOULLI ? 0.3 : -2.0, beta = 3.0;
                    const int64_t seed = 0x1234567890abcdefLL, offset = 77;
                    TestTensor fast = make_tensor(dt, shape, l);
                    TestTensor ref = fast;
                    ASSERT_EQ(FATHOM_OK, fathom_random(op, seed, offset, fast.desc(), alpha, beta))
                        << fathom_last_error() << "\n"
                        << repro(op, seed, offset, fast, alpha, beta);
                    fathom::random_forward_ref(op, seed, offset, ref.view(), alpha, beta);
                    ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                        << repro(op, seed, offset, fast, alpha, beta);
                }
        }
}

TEST(Random, sameNumbersForAnyThreadCountAndChunking) {
    int32_t saved = 0;
    fathom_get_num_threads(&saved);
    for (int32_t op = 0; op < 3; ++op) {
        const double alpha = op == FATHOM_RANDOM_BERNOULLI ? 0.5 : 0.0, beta = 1.0;
        const int64_t seed = 42;
        TestTensor one = make_tensor(FATHOM_F32, {200000}), two = one;
        ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(1));
        ASSERT_EQ(FATHOM_OK, fathom_random(op, seed, 0, one.desc(), alpha, beta));
        ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(2));
        ASSERT_EQ(FATHOM_OK, fathom_random(op, seed, 0, two.desc(), alpha, beta));
        EXPECT_EQ("", storage_mismatch(two, one, 0)) << repro(op, seed, 0, one, alpha, beta);

        // offset 0 for 1000 elements == offset 0 for 600, then offset 600 for 400.
        TestTensor whole = make_tensor(FATHOM_F64, {1000});
        ASSERT_EQ(FATHOM_OK, fathom_random(op, seed, 0, whole.desc(), alpha, beta));
        TestTensor parts = make_tensor(FATHOM_F64, {1000});
        fathom_tensor_desc head = *parts.desc(), tail = *parts.desc();
        head.shape[0] = 600;
        tail.shape[0] = 400;
        tail.data += 600 * sizeof(double);
        ASSERT_EQ(FATHOM_OK, fathom_random(op, seed, 0, &head, alpha, beta));
        ASSERT_EQ(FATHOM_OK, fathom_random(op, seed, 600, &tail, alpha, beta));
        EXPECT_EQ("", storage_mismatch(parts, whole, 0))
            << repro(op, seed, 600, parts, alpha, beta);
    }
    fathom_set_num_threads(saved);
}

void moments(const TestTensor& t, double* mean, double* var) {
    double s = 0, s2 = 0;
    const int64_t n = t.storage_elements();
    for (int64_t k = 0; k < n; ++k) s += t.storage_at(k);
    *mean = s / n;
    for (int64_t k = 0; k < n; ++k) s2 += (t.storage_at(k) - *mean) * (t.storage_at(k) - *mean);
    *var = s2 / n;
}

TEST(Random, distributionsHaveTheirMoments) {
    for (fathom_dtype dt : {FATHOM_F32, FATHOM_F64}) {
        TestTensor t = make_tensor(dt, {1000000});
        double mean = 0, var = 0;
        ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_NORMAL, 7, 0, t.desc(), 0.0, 1.0));
        moments(t, &mean, &var);
        EXPECT_NEAR(0.0, mean, 0.01) << "normal " << fathom::dtype_name(dt);
        EXPECT_NEAR(1.0, var, 0.01) << "normal " << fathom::dtype_name(dt);

        ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_NORMAL, 8, 0, t.desc(), 5.0, 2.0));
        moments(t, &mean, &var);
        EXPECT_NEAR(5.0, mean, 0.02);
        EXPECT_NEAR(4.0, var, 0.04);

        ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_UNIFORM, 9, 0, t.desc(), 2.0, 5.0));
        moments(t, &mean, &var);
        EXPECT_NEAR(3.5, mean, 0.01);
        EXPECT_NEAR(0.75, var, 0.01);  // (b - a)^2 / 12
        for (int64_t k = 0; k < t.storage_elements(); ++k) {
            ASSERT_GE(t.storage_at(k), 2.0);
            ASSERT_LT(t.storage_at(k), 5.0);
        }

        ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_BERNOULLI, 10, 0, t.desc(), 0.3, 0.0));
        moments(t, &mean, &var);
        EXPECT_NEAR(0.3, mean, 0.01) << "bernoulli frequency " << fathom::dtype_name(dt);
    }
}

TEST(Random, uniformStaysBelowHighAfterRoundingAndMasksAgreeAcrossDtypes) {
    // [1, 2) in f32: values just below 2 in double round up to 2.0f unless handled.
    TestTensor t = make_tensor(FATHOM_F32, {2000000});
    ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_UNIFORM, 3, 0, t.desc(), 1.0, 2.0));
    for (int64_t k = 0; k < t.storage_elements(); ++k) ASSERT_LT(t.storage_at(k), 2.0) << k;

    TestTensor f = make_tensor(FATHOM_F32, {5000}), b = make_tensor(FATHOM_BOOL, {5000});
    ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_BERNOULLI, 5, 9, f.desc(), 0.4, 0.0));
    ASSERT_EQ(FATHOM_OK, fathom_random(FATHOM_RANDOM_BERNOULLI, 5, 9, b.desc(), 0.4, 0.0));
    EXPECT_EQ("", storage_mismatch(b, f, 0));
}

TEST(Random, badArgumentsAreRefused) {
    TestTensor t = make_tensor(FATHOM_F32, {4}), i = make_tensor(FATHOM_I32, {4});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_random(FATHOM_RANDOM_UNIFORM, 1, 0, t.desc(), 2, 1));
    EXPECT_NE(std::string::npos, std::string(fathom_last_error()).find("random(uniform)"));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_random(FATHOM_RANDOM_NORMAL, 1, 0, t.desc(), 0, -1));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_random(FATHOM_RANDOM_BERNOULLI, 1, 0, t.desc(), 1.5, 0));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_random(FATHOM_RANDOM_UNIFORM, 1, -1, t.desc(), 0, 1));
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_random(FATHOM_RANDOM_NORMAL, 1, 0, i.desc(), 0, 1));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("random(normal): dtype int32 not supported (dst [4])"))
        << msg;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_random(9, 1, 0, t.desc(), 0, 1));
}

}  // namespace
