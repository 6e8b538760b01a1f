// fathom_batch_norm_*: training and inference against a plain double loop
// written here (mean, biased variance, output, running statistics over two
// steps), backward against the reference kernel and against central
// differences in f64, the fast F32 kernels against the reference, the dense (S=1) and
// N=1 edges, nullable operands, and bad input for both entry points.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "plan_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

struct Backend {
    int32_t backend;
    fathom_dtype dtype;
    const char* name;
};
const Backend kBackends[] = {{FATHOM_CNN_REFERENCE, FATHOM_F32, "reference f32"},
                             {FATHOM_CNN_REFERENCE, FATHOM_F64, "reference f64"},
                             {FATHOM_CNN_ONEDNN, FATHOM_F32, "oneDNN f32"},
                             {FATHOM_CNN_AUTO, FATHOM_F32, "auto f32"}};

double tol_of(fathom_dtype dtype) { return dtype == FATHOM_F32 ? 2e-6 : 1e-13; }

fathom_batch_norm_params make_params(const std::vector<int64_t>& shape, int32_t training,
                                     int32_t backend, double momentum = 0.1, double eps = 1e-5) {
    fathom_batch_norm_params p{};
    p.n = shape[0];
    p.c = shape[1];
    p.s = 1;
    for (size_t d = 2; d < shape.size(); ++d) p.s *= shape[d];
    p.eps = eps;
    p.momentum = momentum;
    p.training = training;
    p.backend = backend;
    return p;
}

std::string repro(const fathom_batch_norm_params& p, const std::vector<int64_t>& shape,
                  const char* backend, uint32_t seed) {
    std::ostringstream os;
    os << "repro: batch_norm backend=" << backend << " shape="
       << fathom::shape_str(shape.data(), static_cast<int>(shape.size())) << " n=" << p.n
       << " c=" << p.c << " s=" << p.s << " eps=" << p.eps << " momentum=" << p.momentum
       << " training=" << p.training << " seed=" << seed;
    return os.str();
}

TestTensor converted(const TestTensor& t, fathom_dtype dtype) {
    const fathom::TensorView v = t.view();
    TestTensor out = make_tensor(dtype, std::vector<int64_t>(v.shape, v.shape + v.ndim));
    for (int64_t k = 0; k < t.storage_elements(); ++k) out.set_storage(k, t.storage_at(k));
    return out;
}

// Every operand of one forward + backward, in one dtype.
struct Bn {
    std::vector<int64_t> shape;
    TestTensor x, gamma, beta, running_mean, running_var, save_mean, save_invstd, y;
    TestTensor dy, dx, dgamma, dbeta;

    Bn(fathom_dtype dtype, const std::vector<int64_t>& shape_, uint32_t seed) : shape(shape_) {
        const int64_t c = shape[1];
        x = make_tensor(dtype, shape);
        y = make_tensor(dtype, shape);
        dy = make_tensor(dtype, shape);
        dx = make_tensor(dtype, shape);
        for (TestTensor* t : {&gamma, &beta, &running_mean, &running_var, &save_mean,
                              &save_invstd, &dgamma, &dbeta})
            *t = make_tensor(dtype, {c});
        x.randomize(seed, -2, 3);
        gamma.randomize(seed + 1, 0.5, 1.5);
        beta.randomize(seed + 2);
        running_mean.randomize(seed + 3);
        running_var.randomize(seed + 4, 0.5, 2);
        dy.randomize(seed + 5);
        // Garbage in outputs, which must be overwritten.
        for (TestTensor* t : {&y, &dx, &save_mean, &save_invstd, &dgamma, &dbeta})
            t->randomize(seed + 6, 100, 200);
    }
    Bn as(fathom_dtype dtype) const {
        Bn b = *this;
        for (TestTensor* t : {&b.x, &b.gamma, &b.beta, &b.running_mean, &b.running_var,
                              &b.save_mean, &b.save_invstd, &b.y, &b.dy, &b.dx, &b.dgamma,
                              &b.dbeta})
            *t = converted(*t, dtype);
        return b;
    }
    fathom_status forward(const fathom_batch_norm_params& p) {
        return batch_norm_forward_once(&p, x.desc(), gamma.desc(), beta.desc(),
                                         running_mean.desc(), running_var.desc(), save_mean.desc(),
                                         save_invstd.desc(), y.desc());
    }
    fathom_status backward(const fathom_batch_norm_params& p) {
        return batch_norm_backward_once(&p, x.desc(), dy.desc(), gamma.desc(), save_mean.desc(),
                                          save_invstd.desc(), dx.desc(), dgamma.desc(),
                                          dbeta.desc());
    }
};

int64_t index_of(const fathom_batch_norm_params& p, int64_t n, int64_t c, int64_t s) {
    return (n * p.c + c) * p.s + s;
}

// The plain double loop: statistics of x per channel, in double.
struct Stats {
    std::vector<double> mean, var;
};
Stats batch_stats(const fathom_batch_norm_params& p, const TestTensor& x) {
    Stats st{std::vector<double>(p.c, 0.0), std::vector<double>(p.c, 0.0)};
    const double m = static_cast<double>(p.n * p.s);
    for (int64_t c = 0; c < p.c; ++c) {
        for (int64_t n = 0; n < p.n; ++n)
            for (int64_t s = 0; s < p.s; ++s) st.mean[c] += x.storage_at(index_of(p, n, c, s));
        st.mean[c] /= m;
        for (int64_t n = 0; n < p.n; ++n)
            for (int64_t s = 0; s < p.s; ++s) {
                const double d = x.storage_at(index_of(p, n, c, s)) - st.mean[c];
                st.var[c] += d * d;
            }
        st.var[c] /= m;
    }
    return st;
}

// First element of `got` farther than tol * max(1, |want|) from want, as text.
std::string mismatch(const TestTensor& got, const std::vector<double>& want, double tol,
                     const char* name) {
    for (size_t k = 0; k < want.size(); ++k) {
        const double g = got.storage_at(static_cast<int64_t>(k));
        if (!(std::fabs(g - want[k]) <= tol * std::max(1.0, std::fabs(want[k])))) {
            std::ostringstream os;
            os.precision(17);
            os << name << "[" << k << "]: got " << g << " want " << want[k];
            return os.str();
        }
    }
    return "";
}

std::vector<double> values_of(const TestTensor& t) {
    std::vector<double> v(static_cast<size_t>(t.storage_elements()));
    for (int64_t k = 0; k < t.storage_elements(); ++k) v[k] = t.storage_at(k);
    return v;
}

const std::vector<std::vector<int64_t>> kShapes = {
    {3, 5, 4, 3},    // conv-like, S = 12
    {4, 6},          // dense (BatchNorm1d), S = 1
    {1, 3, 2, 5},    // N = 1: fine while S > 1
    {2, 64, 5, 7},   // large C, odd S
    {5, 3, 7},       // (N, C, L)
    {2, 2, 1, 1},    // M = 2 per channel
};

// Two training steps (momentum 0.1) against the plain loop: output, saved
// statistics, and running statistics with the unbiased variance.
TEST(BatchNorm, trainingMatchesPlainLoop) {
    uint32_t seed = 10;
    for (const auto& shape : kShapes)
        for (const Backend& b : kBackends) {
            ++seed;
            const auto p = make_params(shape, 1, b.backend);
            Bn bn(FATHOM_F32, shape, seed);
            bn = bn.as(b.dtype);
            std::vector<double> rm = values_of(bn.running_mean), rv = values_of(bn.running_var);
            const double m = static_cast<double>(p.n * p.s), tol = tol_of(b.dtype);
            for (int step = 0; step < 2; ++step) {
                if (step == 1) bn.x.randomize(seed + 77, -1, 4);
                ASSERT_EQ(FATHOM_OK, bn.forward(p))
                    << fathom_last_error() << "\n" << repro(p, shape, b.name, seed);
                const Stats st = batch_stats(p, bn.x);
                std::vector<double> y(static_cast<size_t>(p.n * p.c * p.s)), invstd(p.c);
                for (int64_t c = 0; c < p.c; ++c) {
                    invstd[c] = 1.0 / std::sqrt(st.var[c] + p.eps);
                    for (int64_t n = 0; n < p.n; ++n)
                        for (int64_t s = 0; s < p.s; ++s) {
                            const int64_t i = index_of(p, n, c, s);
                            y[i] = bn.gamma.storage_at(c) * (bn.x.storage_at(i) - st.mean[c]) *
                                       invstd[c] +
                                   bn.beta.storage_at(c);
                        }
                    rm[c] = 0.9 * rm[c] + 0.1 * st.mean[c];
                    rv[c] = 0.9 * rv[c] + 0.1 * st.var[c] * m / (m - 1);
                }
                const std::string where = repro(p, shape, b.name, seed) + " step " +
                                          std::to_string(step);
                EXPECT_EQ("", mismatch(bn.y, y, tol, "dst")) << where;
                EXPECT_EQ("", mismatch(bn.save_mean, st.mean, tol, "save_mean")) << where;
                EXPECT_EQ("", mismatch(bn.save_invstd, invstd, tol, "save_invstd")) << where;
                EXPECT_EQ("", mismatch(bn.running_mean, rm, tol, "running_mean")) << where;
                EXPECT_EQ("", mismatch(bn.running_var, rv, tol, "running_var")) << where;
            }
        }
}

// Inference normalises with the running statistics and leaves them alone;
// save_* receive them (mean, 1/sqrt(var + eps)).
TEST(BatchNorm, inferenceUsesRunningStats) {
    uint32_t seed = 300;
    for (const auto& shape : {std::vector<int64_t>{3, 5, 4, 3}, std::vector<int64_t>{4, 6},
                              std::vector<int64_t>{1, 4}})
        for (const Backend& b : kBackends) {
            ++seed;
            const auto p = make_params(shape, 0, b.backend);
            Bn bn = Bn(FATHOM_F32, shape, seed).as(b.dtype);
            const std::vector<double> rm = values_of(bn.running_mean),
                                      rv = values_of(bn.running_var);
            ASSERT_EQ(FATHOM_OK, bn.forward(p))
                << fathom_last_error() << "\n" << repro(p, shape, b.name, seed);
            std::vector<double> y(static_cast<size_t>(p.n * p.c * p.s)), invstd(p.c);
            for (int64_t c = 0; c < p.c; ++c) {
                invstd[c] = 1.0 / std::sqrt(rv[c] + p.eps);
                for (int64_t n = 0; n < p.n; ++n)
                    for (int64_t s = 0; s < p.s; ++s) {
                        const int64_t i = index_of(p, n, c, s);
                        y[i] = bn.gamma.storage_at(c) * (bn.x.storage_at(i) - rm[c]) * invstd[c] +
                               bn.beta.storage_at(c);
                    }
            }
            const std::string where = repro(p, shape, b.name, seed);
            const double tol = tol_of(b.dtype);
            EXPECT_EQ("", mismatch(bn.y, y, tol, "dst")) << where;
            EXPECT_EQ("", mismatch(bn.running_mean, rm, 0.0, "running_mean")) << where;
            EXPECT_EQ("", mismatch(bn.running_var, rv, 0.0, "running_var")) << where;
            EXPECT_EQ("", mismatch(bn.save_mean, rm, 0.0, "save_mean")) << where;
            EXPECT_EQ("", mismatch(bn.save_invstd, invstd, tol, "save_invstd")) << where;
        }
}

// Fast f32 (FATHOM_CNN_ONEDNN: the hand kernels) vs reference f32, and
// reference f32 vs f64, forward and backward, training and inference (whose
// backward treats the statistics as constants).
TEST(BatchNorm, backwardMatchesReference) {
    uint32_t seed = 500;
    std::vector<std::vector<int64_t>> shapes = kShapes;
    shapes.push_back({8, 64, 24, 24});  // ResNet-18 stage 1 at batch 8
    shapes.push_back({3, 1, 1, 1});
    shapes.push_back({16, 130});        // dense, channel blocks of 64 and a tail
    shapes.push_back({9, 70, 1, 1});    // ResNet-18's last stage at 28x28 is (N,512,1,1)
    for (const auto& shape : shapes)
        for (int32_t training : {1, 0}) {
            ++seed;
            const auto ref = make_params(shape, training, FATHOM_CNN_REFERENCE);
            const auto dnnl = make_params(shape, training, FATHOM_CNN_ONEDNN);
            const Bn start(FATHOM_F32, shape, seed);
            Bn want = start, got = start, want64 = start.as(FATHOM_F64);
            const std::string where = repro(dnnl, shape, "oneDNN vs reference", seed);
            ASSERT_EQ(FATHOM_OK, want.forward(ref)) << fathom_last_error() << "\n" << where;
            ASSERT_EQ(FATHOM_OK, got.forward(dnnl)) << fathom_last_error() << "\n" << where;
            ASSERT_EQ(FATHOM_OK, want64.forward(ref)) << fathom_last_error() << "\n" << where;
            // Backward from each backend's own saved statistics.
            ASSERT_EQ(FATHOM_OK, want.backward(ref)) << fathom_last_error() << "\n" << where;
            ASSERT_EQ(FATHOM_OK, got.backward(dnnl)) << fathom_last_error() << "\n" << where;
            ASSERT_EQ(FATHOM_OK, want64.backward(ref)) << fathom_last_error() << "\n" << where;
            // Sums over M = N*S values (dgamma, dbeta, and inside dx) round
            // with M; they are compared relative to the sum of magnitudes.
            const double m = static_cast<double>(ref.n * ref.s);
            const double sum_tol = 4 * FLT_EPSILON * std::sqrt(m) + 2e-6;
            for (const Bn* other : {&got, &want64}) {
                const std::string who = other == &got ? "oneDNN" : "reference f64";
                EXPECT_EQ("", storage_mismatch(other->y, want.y, 2e-6, 1.0))
                    << who << " dst\n" << where;
                EXPECT_EQ("", storage_mismatch(other->save_mean, want.save_mean, 2e-6, 1.0))
                    << who << " save_mean\n" << where;
                EXPECT_EQ("", storage_mismatch(other->save_invstd, want.save_invstd, 2e-6, 1.0))
                    << who << " save_invstd\n" << where;
                EXPECT_EQ("", storage_mismatch(other->running_var, want.running_var, 2e-6, 1.0))
                    << who << " running_var\n" << where;
                EXPECT_EQ("", storage_mismatch(other->dx, want.dx, sum_tol, 1.0))
                    << who << " diff_src\n" << where;
                EXPECT_EQ("", storage_mismatch(other->dgamma, want.dgamma, sum_tol, std::sqrt(m)))
                    << who << " diff_gamma\n" << where;
                EXPECT_EQ("", storage_mismatch(other->dbeta, want.dbeta, sum_tol, std::sqrt(m)))
                    << who << " diff_beta\n" << where;
            }
        }
}

// The fast kernels (one thread per channel or channel block, no split of N)
// give the same bits with 1 and 2 threads, forward and backward, conv and
// dense: the header promises results independent of the budget.
TEST(BatchNorm, resultsIndependentOfThreadCount) {
    for (const std::vector<int64_t>& shape :
         {std::vector<int64_t>{16, 5, 7, 9}, std::vector<int64_t>{33, 150}}) {
        SCOPED_TRACE(shape.size() == 4 ? "conv" : "dense");
        const auto p = make_params(shape, 1, FATHOM_CNN_ONEDNN);
        int32_t saved = 0;
        ASSERT_EQ(FATHOM_OK, fathom_get_num_threads(&saved));
        Bn one(FATHOM_F32, shape, 77), two(FATHOM_F32, shape, 77);
        ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(1));
        ASSERT_EQ(FATHOM_OK, one.forward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, one.backward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(2));
        ASSERT_EQ(FATHOM_OK, two.forward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, two.backward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(saved));
        EXPECT_EQ("", storage_mismatch(two.y, one.y, 0.0, 0.0));
        EXPECT_EQ("", storage_mismatch(two.save_mean, one.save_mean, 0.0, 0.0));
        EXPECT_EQ("", storage_mismatch(two.save_invstd, one.save_invstd, 0.0, 0.0));
        EXPECT_EQ("", storage_mismatch(two.running_var, one.running_var, 0.0, 0.0));
        EXPECT_EQ("", storage_mismatch(two.dx, one.dx, 0.0, 0.0));
        EXPECT_EQ("", storage_mismatch(two.dgamma, one.dgamma, 0.0, 0.0));
        EXPECT_EQ("", storage_mismatch(two.dbeta, one.dbeta, 0.0, 0.0));
    }
}

// A channel far from zero (mean 1000, spread 1): oneDNN's variance must not
// cancel catastrophically.
TEST(BatchNorm, largeMeanKeepsVariance) {
    const std::vector<int64_t> shape = {16, 8, 6, 6};
    const auto ref = make_params(shape, 1, FATHOM_CNN_REFERENCE);
    const auto dnnl = make_params(shape, 1, FATHOM_CNN_ONEDNN);
    Bn start(FATHOM_F32, shape, 42);
    start.x.randomize(42, 999, 1001);
    Bn want = start.as(FATHOM_F64), got = start;
    ASSERT_EQ(FATHOM_OK, want.forward(ref)) << fathom_last_error();
    ASSERT_EQ(FATHOM_OK, got.forward(dnnl)) << fathom_last_error();
    EXPECT_EQ("", storage_mismatch(got.save_invstd, want.save_invstd, 1e-4, 1.0))
        << repro(dnnl, shape, "oneDNN vs reference f64", 42);
    EXPECT_EQ("", storage_mismatch(got.y, want.y, 1e-3, 1.0))
        << repro(dnnl, shape, "oneDNN vs reference f64", 42);
}

// f64 reference backward against central differences of L = sum(dy * y) in
// x, gamma and beta, in training and in inference mode.
TEST(BatchNorm, backwardMatchesCentralDifferences) {
    const std::vector<int64_t> shape = {2, 3, 2, 2};
    for (int32_t training : {1, 0}) {
        const auto p = make_params(shape, training, FATHOM_CNN_REFERENCE);
        Bn bn = Bn(FATHOM_F32, shape, 7).as(FATHOM_F64);
        const std::string where = repro(p, shape, "reference f64", 7);
        // Forward without touching the running statistics: a copy per evaluation.
        auto loss = [&](Bn probe) {
            EXPECT_EQ(FATHOM_OK, probe.forward(p)) << fathom_last_error();
            double l = 0.0;
            for (int64_t k = 0; k < probe.y.storage_elements(); ++k)
                l += probe.dy.storage_at(k) * probe.y.storage_at(k);
            return l;
        };
        Bn fwd = bn;
        ASSERT_EQ(FATHOM_OK, fwd.forward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, fwd.backward(p)) << fathom_last_error();
        const double h = 1e-6;
        auto check = [&](TestTensor Bn::*field, const TestTensor& grad, const char* name) {
            for (int64_t k = 0; k < (bn.*field).storage_elements(); ++k) {
                Bn plus = bn, minus = bn;
                (plus.*field).set_storage(k, (bn.*field).storage_at(k) + h);
                (minus.*field).set_storage(k, (bn.*field).storage_at(k) - h);
                const double numeric = (loss(plus) - loss(minus)) / (2 * h);
                EXPECT_NEAR(numeric, grad.storage_at(k), 1e-7 * std::max(1.0, std::fabs(numeric)))
                    << name << "[" << k << "]\n" << where;
            }
        };
        check(&Bn::x, fwd.dx, "diff_src");
        check(&Bn::gamma, fwd.dgamma, "diff_gamma");
        check(&Bn::beta, fwd.dbeta, "diff_beta");
    }
}

// Null gamma/beta mean 1/0 (affine=False), null running statistics in training
// are not tracked, and null diff_gamma/diff_beta are not written.
TEST(BatchNorm, nullableOperands) {
    const std::vector<int64_t> shape = {3, 4, 5};
    for (const Backend& b : kBackends) {
        const auto p = make_params(shape, 1, b.backend);
        const std::string where = repro(p, shape, b.name, 9);
        Bn full = Bn(FATHOM_F32, shape, 9).as(b.dtype);
        for (int64_t c = 0; c < 4; ++c) {
            full.gamma.set_storage(c, 1.0);
            full.beta.set_storage(c, 0.0);
        }
        Bn bare = full;
        ASSERT_EQ(FATHOM_OK, full.forward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, full.backward(p)) << fathom_last_error();
        ASSERT_EQ(FATHOM_OK, batch_norm_forward_once(&p, bare.x.desc(), nullptr, nullptr,
                                                       nullptr, nullptr, bare.save_mean.desc(),
                                                       bare.save_invstd.desc(), bare.y.desc()))
            << fathom_last_error() << "\n" << where;
        ASSERT_EQ(FATHOM_OK, batch_norm_backward_once(&p, bare.x.desc(), bare.dy.desc(), nullptr,
                                                        bare.save_mean.desc(),
                                                        bare.save_invstd.desc(), bare.dx.desc(),
                                                        nullptr, nullptr))
            << fathom_last_error() << "\n" << where;
        EXPECT_EQ("", storage_mismatch(bare.y, full.y, 0.0)) << where;
        EXPECT_EQ("", storage_mismatch(bare.dx, full.dx, 0.0)) << where;
        const Bn untouched = Bn(FATHOM_F32, shape, 9).as(b.dtype);
        EXPECT_EQ("", storage_mismatch(bare.dgamma, untouched.dgamma, 0.0)) << where;
        EXPECT_EQ("", storage_mismatch(bare.running_var, untouched.running_var, 0.0)) << where;
        // save_* may be null too (training without a backward).
        EXPECT_EQ(FATHOM_OK, batch_norm_forward_once(&p, bare.x.desc(), nullptr, nullptr,
                                                       nullptr, nullptr, nullptr, nullptr,
                                                       bare.y.desc()))
            << fathom_last_error() << "\n" << where;
        EXPECT_EQ("", storage_mismatch(bare.y, full.y, 0.0)) << where;
    }
}

// PyTorch refuses training on one value per channel (its variance is 0/0 for
// the running update); inference is fine. N = 1 with S > 1 trains.
TEST(BatchNorm, trainingNeedsMoreThanOneValuePerChannel) {
    for (const auto& shape : {std::vector<int64_t>{1, 4}, std::vector<int64_t>{1, 4, 1, 1}})
        for (const Backend& b : kBackends) {
            Bn bn = Bn(FATHOM_F32, shape, 3).as(b.dtype);
            const TestTensor before = bn.y;
            EXPECT_EQ(FATHOM_INVALID_ARGUMENT, bn.forward(make_params(shape, 1, b.backend)))
                << repro(make_params(shape, 1, b.backend), shape, b.name, 3);
            EXPECT_NE(std::string::npos,
                      std::string(fathom_last_error())
                          .find("batch_norm_plan_create: training needs more than one value per "
                                "channel (n=1 c=4 s=1"))
                << fathom_last_error();
            EXPECT_EQ("", storage_mismatch(bn.y, before, 0.0)) << "a refused call wrote dst";
            EXPECT_EQ(FATHOM_OK, bn.forward(make_params(shape, 0, b.backend)))
                << fathom_last_error();
        }
}

// --- bad input ---------------------------------------------------------------------------

void expect_refused(fathom_status got, const std::string& needle, const std::string& what) {
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, got) << what;
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find(needle)) << what << "\n  message: " << msg;
}

TEST(BatchNormBadInput, paramsAreChecked) {
    const std::vector<int64_t> shape = {2, 3, 4, 4};
    struct Mutation {
        const char* what;
        void (*apply)(fathom_batch_norm_params&);
        const char* needle;
    };
    const Mutation mutations[] = {
        {"c=0", [](fathom_batch_norm_params& p) { p.c = 0; }, "n, c and s must be positive"},
        {"s=-1", [](fathom_batch_norm_params& p) { p.s = -1; }, "n, c and s must be positive"},
        {"eps=0", [](fathom_batch_norm_params& p) { p.eps = 0; }, "eps must be positive"},
        {"eps=NaN", [](fathom_batch_norm_params& p) { p.eps = std::nan(""); },
         "eps must be positive"},
        {"momentum=1.5", [](fathom_batch_norm_params& p) { p.momentum = 1.5; },
         "momentum must be in [0, 1]"},
        {"momentum=-0.1", [](fathom_batch_norm_params& p) { p.momentum = -0.1; },
         "momentum must be in [0, 1]"},
        {"backend 2", [](fathom_batch_norm_params& p) { p.backend = 2; }, "unknown backend 2"},
    };
    Bn bn(FATHOM_F32, shape, 1);
    for (const Mutation& m : mutations) {
        auto p = make_params(shape, 1, FATHOM_CNN_AUTO);
        m.apply(p);
        int64_t plan = 0;
        expect_refused(fathom_batch_norm_plan_create(&p, FATHOM_F32, &plan),
                       std::string("batch_norm_plan_create: ") + m.needle, m.what);
        EXPECT_EQ(0, plan) << m.what;
    }
    int64_t plan = 0;
    expect_refused(fathom_batch_norm_plan_create(nullptr, FATHOM_F32, &plan),
                   "batch_norm_plan_create: params is null", "null params");
    const auto p = make_params(shape, 1, FATHOM_CNN_AUTO);
    expect_refused(fathom_batch_norm_plan_create(&p, FATHOM_I64, &plan),
                   "batch_norm_plan_create: dtype int64 not supported", "int64 plan");
    BatchNormPlan live(&p, FATHOM_F32);
    ASSERT_EQ(FATHOM_OK, live.status()) << fathom_last_error();
    fathom_batch_norm_choice info{};
    ASSERT_EQ(FATHOM_OK, fathom_batch_norm_plan_info(live.handle(), &info));
    EXPECT_TRUE(info.backend == FATHOM_CNN_ONEDNN || info.backend == FATHOM_CNN_REFERENCE);
    expect_refused(fathom_batch_norm_plan_info(live.handle(), nullptr),
                   "batch_norm_plan_info: info is null", "null info");
    expect_refused(fathom_batch_norm_forward(live.handle() + 1000, bn.x.desc(), nullptr, nullptr,
                                             nullptr, nullptr, nullptr, nullptr, bn.y.desc()),
                   "is not a live plan", "forged plan");
}

TEST(BatchNormBadInput, descriptorsAreChecked) {
    const std::vector<int64_t> shape = {2, 3, 4, 4};
    const auto p = make_params(shape, 1, FATHOM_CNN_AUTO);
    Bn bn(FATHOM_F32, shape, 1);
    auto wrong = make_tensor(FATHOM_F32, {2, 3, 4, 5});
    expect_refused(batch_norm_forward_once(&p, wrong.desc(), nullptr, nullptr, nullptr, nullptr,
                                             nullptr, nullptr, bn.y.desc()),
                   "batch_norm_forward: src [2,3,4,5] does not match n=2 c=3 s=16", "src shape");
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, nullptr, nullptr, nullptr,
                                             nullptr, nullptr, wrong.desc()),
                   "batch_norm_forward: dst [2,3,4,5] does not match n=2 c=3 s=16", "dst shape");
    auto reshaped = make_tensor(FATHOM_F32, {2, 3, 16});  // same (n,c,s), other shape
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, nullptr, nullptr, nullptr,
                                             nullptr, nullptr, reshaped.desc()),
                   "batch_norm_forward: dst [2,3,16] does not match src [2,3,4,4]",
                   "dst shape vs src");
    auto padded = make_tensor(FATHOM_F32, shape, Layout::Padded);
    expect_refused(batch_norm_forward_once(&p, padded.desc(), nullptr, nullptr, nullptr,
                                             nullptr, nullptr, nullptr, bn.y.desc()),
                   "batch_norm_forward: src [2,3,4,4] must be contiguous", "strided src");
    auto y64 = make_tensor(FATHOM_F64, shape);
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, nullptr, nullptr, nullptr,
                                             nullptr, nullptr, y64.desc()),
                   "batch_norm_forward: dtype float64 of dst [2,3,4,4] does not match the plan's float32",
                   "dst dtype");
    auto x_i64 = make_tensor(FATHOM_I64, shape);
    expect_refused(batch_norm_forward_once(&p, x_i64.desc(), nullptr, nullptr, nullptr, nullptr,
                                             nullptr, nullptr, bn.y.desc()),
                   "batch_norm_plan_create: dtype int64 not supported", "int64");
    auto gamma4 = make_tensor(FATHOM_F32, {4});
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), gamma4.desc(), nullptr, nullptr,
                                             nullptr, nullptr, nullptr, bn.y.desc()),
                   "batch_norm_forward: gamma [4] does not match the expected [3]", "gamma size");
    auto beta64 = make_tensor(FATHOM_F64, {3});
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, beta64.desc(), nullptr,
                                             nullptr, nullptr, nullptr, bn.y.desc()),
                   "batch_norm_forward: dtype float64 of beta [3] does not match the plan's float32",
                   "beta dtype");
    auto mean2d = make_tensor(FATHOM_F32, {1, 3});
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, nullptr, nullptr, nullptr,
                                             mean2d.desc(), nullptr, bn.y.desc()),
                   "batch_norm_forward: save_mean [1,3] does not match the expected [3]",
                   "save_mean shape");
    auto strided = make_tensor(FATHOM_F32, {3}, Layout::Padded);
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, nullptr,
                                             bn.running_mean.desc(), strided.desc(), nullptr,
                                             nullptr, bn.y.desc()),
                   "batch_norm_forward: running_var [3] must be contiguous", "strided vector");
    expect_refused(batch_norm_forward_once(&p, bn.x.desc(), nullptr, nullptr,
                                             bn.running_mean.desc(), nullptr, nullptr, nullptr,
                                             bn.y.desc()),
                   "running_mean and running_var must both be given or both be null",
                   "half the running stats");
    const auto inference = make_params(shape, 0, FATHOM_CNN_AUTO);
    expect_refused(batch_norm_forward_once(&inference, bn.x.desc(), nullptr, nullptr, nullptr,
                                             nullptr, nullptr, nullptr, bn.y.desc()),
                   "batch_norm_forward: inference needs running_mean and running_var",
                   "inference without running stats");
    auto onednn = p;
    onednn.backend = FATHOM_CNN_ONEDNN;
    Bn bn64 = bn.as(FATHOM_F64);
    expect_refused(bn64.forward(onednn),
                   "batch_norm_plan_create: the oneDNN backend takes float32, got float64",
                   "oneDNN f64");
    expect_refused(bn64.backward(onednn),
                   "batch_norm_plan_create: the oneDNN backend takes float32, got float64",
                   "oneDNN f64");
    // Backward.
    expect_refused(batch_norm_backward_once(&p, bn.x.desc(), bn.dy.desc(), nullptr, nullptr,
                                              bn.save_invstd.desc(), bn.dx.desc(), nullptr,
                                              nullptr),
                   "batch_norm_backward: save_mean and save_invstd of the forward are required",
                   "no save_mean");
    expect_refused(batch_norm_backward_once(&p, bn.x.desc(), wrong.desc(), nullptr,
                                              bn.save_mean.desc(), bn.save_invstd.desc(),
                                              bn.dx.desc(), nullptr, nullptr),
                   "batch_norm_backward: diff_dst [2,3,4,5] does not match n=2 c=3 s=16",
                   "diff_dst shape");
    expect_refused(batch_norm_backward_once(&p, bn.x.desc(), bn.dy.desc(), nullptr,
                                              bn.save_mean.desc(), bn.save_invstd.desc(),
                                              bn.dx.desc(), gamma4.desc(), nullptr),
                   "batch_norm_backward: diff_gamma [4] does not match the expected [3]",
                   "diff_gamma size");
    expect_refused(batch_norm_backward_once(&p, bn.x.desc(), bn.dy.desc(), nullptr,
                                              bn.save_mean.desc(), bn.save_invstd.desc(),
                                              y64.desc(), nullptr, nullptr),
                   "batch_norm_backward: dtype float64 of diff_src [2,3,4,4] does not match the plan's float32",
                   "diff_src dtype");
}

}  // namespace
