// nChw16c activations (fathom.h "Activation layouts"): fathom_convert_layout
// against the index formula, oneDNN's reorder against the hand loops,
// convolution and batch norm with blocked operands against the same calls on
// NCHW (bit for bit where the kernel is the same), the layout query, and bad
// input. Blocked tensors here are built by hand from the formula, never by
// the code under test.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "ops/layout.h"
#include "plan_util.h"
#include "runtime_info_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

TestTensor random_f32(const std::vector<int64_t>& shape, uint32_t seed) {
    TestTensor t = make_tensor(FATHOM_F32, shape);
    t.randomize(seed);
    return t;
}

// The NCHW tensor t's values in nChw16c order (or back), by the ABI's formula.
TestTensor reorder_by_formula(const TestTensor& t, bool to_blocked) {
    const fathom::TensorView v = t.view();
    const int64_t n = v.shape[0], c = v.shape[1], s = v.shape[2] * v.shape[3];
    TestTensor out = make_tensor(FATHOM_F32, {n, c, v.shape[2], v.shape[3]});
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < c; ++j)
            for (int64_t k = 0; k < s; ++k) {
                const int64_t plain = fathom::layout_offset(FATHOM_LAYOUT_NCHW, c, s, i, j, k);
                const int64_t blocked =
                    fathom::layout_offset(FATHOM_LAYOUT_NCHW16C, c, s, i, j, k);
                if (to_blocked)
                    out.set_storage(blocked, t.storage_at(plain));
                else
                    out.set_storage(plain, t.storage_at(blocked));
            }
    return out;
}

std::string bitwise_mismatch(const TestTensor& got, const TestTensor& want) {
    for (int64_t k = 0; k < want.storage_elements(); ++k) {
        const float g = static_cast<float>(got.storage_at(k));
        const float w = static_cast<float>(want.storage_at(k));
        if (std::memcmp(&g, &w, sizeof(float)) == 0) continue;
        std::ostringstream os;
        os.precision(9);
        os << "storage element " << k << ": got " << g << " want " << w;
        return os.str();
    }
    return "";
}

TEST(Layout, formulaMatchesOneDnnBlocking) {
    // Element (n=1, c=17, s=2) of (2, 32, S=3): block 1 of image 1.
    EXPECT_EQ(((1 * 2 + 1) * 3 + 2) * 16 + 1,
              fathom::layout_offset(FATHOM_LAYOUT_NCHW16C, 32, 3, 1, 17, 2));
    EXPECT_EQ((1 * 32 + 17) * 3 + 2, fathom::layout_offset(FATHOM_LAYOUT_NCHW, 32, 3, 1, 17, 2));
}

TEST(Layout, convertMatchesFormulaBothWays) {
    for (auto shape : std::vector<std::vector<int64_t>>{
             {1, 16, 1, 1}, {2, 16, 3, 5}, {3, 48, 7, 7}, {1, 64, 24, 24}, {8, 32, 12, 12}}) {
        SCOPED_TRACE(fathom::shape_str(shape.data(), 4));
        const TestTensor plain = random_f32(shape, 7);
        const TestTensor want = reorder_by_formula(plain, true);
        TestTensor blocked = make_tensor(FATHOM_F32, shape);
        ASSERT_EQ(FATHOM_OK, fathom_convert_layout(laid_out(plain.desc(), FATHOM_LAYOUT_NCHW), laid_out(blocked.desc(), FATHOM_LAYOUT_NCHW16C)))
            << fathom_last_error();
        EXPECT_EQ("", bitwise_mismatch(blocked, want));
        TestTensor back = make_tensor(FATHOM_F32, shape);
        ASSERT_EQ(FATHOM_OK, fathom_convert_layout(laid_out(blocked.desc(), FATHOM_LAYOUT_NCHW16C), laid_out(back.desc(), FATHOM_LAYOUT_NCHW)))
            << fathom_last_error();
        EXPECT_EQ("", bitwise_mismatch(back, plain));
        // The hand loops (builds without oneDNN) give the same bytes.
        TestTensor loops = make_tensor(FATHOM_F32, shape);
        fathom::convert_layout_loops(reinterpret_cast<const float*>(plain.desc()->data),
                                     FATHOM_LAYOUT_NCHW,
                                     reinterpret_cast<float*>(loops.desc()->data), shape[0],
                                     shape[1], shape[2] * shape[3], 2);
        EXPECT_EQ("", bitwise_mismatch(loops, want));
    }
}

TEST(Layout, convertRefusesBadInput) {
    const TestTensor a = random_f32({2, 24, 3, 3}, 1);
    TestTensor b = make_tensor(FATHOM_F32, {2, 24, 3, 3});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_convert_layout(laid_out(a.desc(), FATHOM_LAYOUT_NCHW), laid_out(b.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("divisible by 16"), std::string::npos)
        << fathom_last_error();
    const TestTensor c = random_f32({2, 32, 3, 3}, 1);
    TestTensor d = make_tensor(FATHOM_F32, {2, 32, 3, 4});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_convert_layout(laid_out(c.desc(), FATHOM_LAYOUT_NCHW), laid_out(d.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("[2,32,3,4]"), std::string::npos)
        << fathom_last_error();
    TestTensor e = make_tensor(FATHOM_F32, {2, 32, 3, 3});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_convert_layout(laid_out(c.desc(), 7), laid_out(e.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("unknown layout 7"), std::string::npos);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_convert_layout(laid_out(c.desc(), FATHOM_LAYOUT_NCHW), laid_out(c.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("not in place"), std::string::npos);
    const TestTensor strided = make_tensor(FATHOM_F32, {2, 32, 3, 3}, Layout::Transposed);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_convert_layout(laid_out(strided.desc(), FATHOM_LAYOUT_NCHW), laid_out(e.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("contiguous"), std::string::npos);
    const TestTensor f64 = make_tensor(FATHOM_F64, {2, 32, 3, 3});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_convert_layout(laid_out(f64.desc(), FATHOM_LAYOUT_NCHW), laid_out(e.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("dtype"), std::string::npos)
        << fathom_last_error();
}

// Bool masks and int64 tensors of a blocked run move as bits, like float32.
TEST(Layout, convertOtherDtypesMatchesFormula) {
    for (fathom_dtype dtype : {FATHOM_BOOL, FATHOM_I64, FATHOM_F64}) {
        const std::vector<int64_t> shape{2, 32, 3, 5};
        TestTensor plain = make_tensor(dtype, shape);
        for (int64_t k = 0; k < plain.storage_elements(); ++k)
            plain.set_storage(k, dtype == FATHOM_BOOL ? (k * 7 % 3 == 0) : k * 3 - 50);
        TestTensor blocked = make_tensor(dtype, shape), back = make_tensor(dtype, shape);
        ASSERT_EQ(FATHOM_OK, fathom_convert_layout(laid_out(plain.desc(), FATHOM_LAYOUT_NCHW), laid_out(blocked.desc(), FATHOM_LAYOUT_NCHW16C)))
            << fathom_last_error();
        for (int64_t i = 0; i < 2; ++i)
            for (int64_t c = 0; c < 32; ++c)
                for (int64_t s = 0; s < 15; ++s)
                    ASSERT_EQ(plain.storage_at(fathom::layout_offset(0, 32, 15, i, c, s)),
                              blocked.storage_at(fathom::layout_offset(1, 32, 15, i, c, s)))
                        << fathom::dtype_name(dtype) << " n=" << i << " c=" << c << " s=" << s;
        ASSERT_EQ(FATHOM_OK, fathom_convert_layout(laid_out(blocked.desc(), FATHOM_LAYOUT_NCHW16C), laid_out(back.desc(), FATHOM_LAYOUT_NCHW)))
            << fathom_last_error();
        EXPECT_EQ("", storage_mismatch(back, plain, 0.0)) << fathom::dtype_name(dtype);
    }
}

// --- convolution -----------------------------------------------------------

struct Conv {
    int64_t n, c, h, k, ks, stride, pad;
    bool bias;
    int64_t groups = 1;
};

fathom_conv2d_params params_of(const Conv& s, int32_t backend) {
    fathom_conv2d_params p{};
    p.n = s.n, p.c = s.c, p.h = p.w = s.h, p.k = s.k, p.kh = p.kw = s.ks;
    p.sh = p.sw = s.stride, p.ph = p.pw = s.pad, p.dh = p.dw = 1, p.groups = s.groups;
    p.has_bias = s.bias;
    p.backend = backend;
    return p;
}

std::string repro(const char* pass, const Conv& s, int32_t backend, int32_t layouts) {
    std::ostringstream os;
    os << "repro: conv2d_" << pass << " n=" << s.n << " c=" << s.c << " h=w=" << s.h
       << " k=" << s.k << " kernel=" << s.ks << " stride=" << s.stride << " pad=" << s.pad
       << " bias=" << s.bias << " groups=" << s.groups << " backend=" << backend
       << " layouts=" << layouts << " seed=3";
    return os.str();
}

// Every pass with each combination of blocked activations gives the bytes of
// the NCHW call, reordered: the kernel is the same, only the edges move.
TEST(Layout, convolutionWithBlockedActivationsMatchesNchw) {
    const Conv shapes[] = {{2, 16, 7, 16, 3, 1, 1, true},  {3, 32, 6, 16, 3, 2, 1, false},
                           {2, 16, 8, 32, 1, 2, 0, true},  {1, 64, 5, 64, 3, 1, 1, false},
                           {4, 32, 2, 48, 3, 1, 1, true},   {2, 32, 6, 32, 3, 1, 1, true, 2},
                           {2, 32, 5, 32, 3, 2, 1, false, 32}};
    for (const Conv& s : shapes) {
        const int64_t oh = (s.h + 2 * s.pad - s.ks) / s.stride + 1;
        const std::vector<int64_t> xs{s.n, s.c, s.h, s.h}, ys{s.n, s.k, oh, oh};
        const std::vector<int64_t> ws{s.k, s.c / s.groups, s.ks, s.ks};
        const TestTensor x = random_f32(xs, 3), w = random_f32(ws, 4), b = random_f32({s.k}, 5);
        const TestTensor dy = random_f32(ys, 6);
        const TestTensor xb = reorder_by_formula(x, true), dyb = reorder_by_formula(dy, true);
        for (int32_t backend : {FATHOM_CNN_AUTO, FATHOM_CNN_REFERENCE}) {
            const ConvPlan plan(params_of(s, backend));
            ASSERT_EQ(FATHOM_OK, plan.status()) << fathom_last_error();
            const int64_t h = plan.handle();
            TestTensor y0 = make_tensor(FATHOM_F32, ys), dx0 = make_tensor(FATHOM_F32, xs);
            TestTensor dw0 = make_tensor(FATHOM_F32, ws), db0 = make_tensor(FATHOM_F32, {s.k});
            ASSERT_EQ(FATHOM_OK, fathom_conv2d_forward(h, x.desc(), w.desc(),
                                                       s.bias ? b.desc() : nullptr, y0.desc()))
                << fathom_last_error();
            ASSERT_EQ(FATHOM_OK, fathom_conv2d_backward_data(h, dy.desc(), w.desc(), dx0.desc()));
            ASSERT_EQ(FATHOM_OK, fathom_conv2d_backward_weights(h, x.desc(), dy.desc(), dw0.desc(),
                                                                s.bias ? db0.desc() : nullptr));
            // One plan runs every layout combination: the layouts are the operands'.
            for (int32_t layouts : {1, 2, 3}) {
                const bool src_b = layouts & 1, dst_b = layouts & 2;
                const int32_t src_l = src_b ? FATHOM_LAYOUT_NCHW16C : FATHOM_LAYOUT_NCHW;
                const int32_t dst_l = dst_b ? FATHOM_LAYOUT_NCHW16C : FATHOM_LAYOUT_NCHW;
                TestTensor y = make_tensor(FATHOM_F32, ys), dx = make_tensor(FATHOM_F32, xs);
                TestTensor dw = make_tensor(FATHOM_F32, ws), db = make_tensor(FATHOM_F32, {s.k});
                ASSERT_EQ(FATHOM_OK,
                          fathom_conv2d_forward(h, laid_out((src_b ? xb : x).desc(), src_l),
                                                w.desc(), s.bias ? b.desc() : nullptr,
                                                laid_out(y.desc(), dst_l)))
                    << fathom_last_error();
                EXPECT_EQ("", bitwise_mismatch(dst_b ? reorder_by_formula(y, false) : y, y0))
                    << repro("forward", s, backend, layouts);
                ASSERT_EQ(FATHOM_OK,
                          fathom_conv2d_backward_data(h, laid_out((dst_b ? dyb : dy).desc(), dst_l),
                                                      w.desc(), laid_out(dx.desc(), src_l)))
                    << fathom_last_error();
                EXPECT_EQ("", bitwise_mismatch(src_b ? reorder_by_formula(dx, false) : dx, dx0))
                    << repro("backward_data", s, backend, layouts);
                ASSERT_EQ(FATHOM_OK, fathom_conv2d_backward_weights(
                                         h, laid_out((src_b ? xb : x).desc(), src_l),
                                         laid_out((dst_b ? dyb : dy).desc(), dst_l), dw.desc(),
                                         s.bias ? db.desc() : nullptr))
                    << fathom_last_error();
                EXPECT_EQ("", bitwise_mismatch(dw, dw0))
                    << repro("backward_weights", s, backend, layouts);
                if (s.bias)
                    EXPECT_EQ("", bitwise_mismatch(db, db0))
                        << "diff_bias " << repro("backward_weights", s, backend, layouts);
            }
        }
    }
}

TEST(Layout, convolutionRefusesImpossibleLayouts) {
    const TestTensor x = random_f32({2, 8, 5, 5}, 1), w = random_f32({16, 8, 3, 3}, 2);
    TestTensor y = make_tensor(FATHOM_F32, {2, 16, 3, 3});
    const ConvPlan plan(params_of({2, 8, 5, 16, 3, 1, 0, false}, FATHOM_CNN_AUTO));
    ASSERT_EQ(FATHOM_OK, plan.status()) << fathom_last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_conv2d_forward(plan.handle(), laid_out(x.desc(), FATHOM_LAYOUT_NCHW16C),
                                    w.desc(), nullptr, y.desc()));
    EXPECT_NE(std::string(fathom_last_error()).find("channels divisible by 16, got 8"),
              std::string::npos)
        << fathom_last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_conv2d_forward(plan.handle(), laid_out(x.desc(), 4), w.desc(), nullptr,
                                    y.desc()));
    EXPECT_NE(std::string(fathom_last_error()).find("unknown layout 4 of src"), std::string::npos)
        << fathom_last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_conv2d_forward(plan.handle(), x.desc(), laid_out(w.desc(), 1), nullptr,
                                    y.desc()));
    EXPECT_NE(std::string(fathom_last_error()).find("weights must be plain"), std::string::npos)
        << fathom_last_error();
    // float64 (gradient checks) stays NCHW.
    const ConvPlan plan64(params_of({2, 8, 5, 16, 3, 1, 0, false}, FATHOM_CNN_AUTO), FATHOM_F64);
    ASSERT_EQ(FATHOM_OK, plan64.status()) << fathom_last_error();
    const TestTensor x64 = make_tensor(FATHOM_F64, {2, 8, 5, 5});
    const TestTensor w64 = make_tensor(FATHOM_F64, {16, 8, 3, 3});
    TestTensor y64 = make_tensor(FATHOM_F64, {2, 16, 3, 3});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_conv2d_forward(plan64.handle(), x64.desc(), w64.desc(), nullptr,
                                    laid_out(y64.desc(), FATHOM_LAYOUT_NCHW16C)));
    EXPECT_NE(std::string(fathom_last_error()).find("needs float32"), std::string::npos)
        << fathom_last_error();
    // Devices other than the host are refused by name.
    fathom_tensor_desc on_gpu = *x.desc();
    on_gpu.device = FATHOM_DEVICE_CUDA;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_conv2d_forward(plan.handle(), &on_gpu, w.desc(), nullptr, y.desc()));
    EXPECT_NE(std::string(fathom_last_error()).find("src [2,8,5,5] is on cuda:0"),
              std::string::npos)
        << fathom_last_error();
}

// Layout-blind entry points refuse blocked operands instead of misreading them.
TEST(Layout, otherOpsRefuseBlockedOperands) {
    const TestTensor x = random_f32({2, 16, 3, 3}, 1);
    TestTensor y = make_tensor(FATHOM_F32, {2, 16, 3, 3});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_unary(FATHOM_UNARY_EXP,
                                                    laid_out(x.desc(), FATHOM_LAYOUT_NCHW16C),
                                                    y.desc(), 0, 0));
    EXPECT_NE(std::string(fathom_last_error()).find("is nChw16c"), std::string::npos)
        << fathom_last_error();
    EXPECT_NE(std::string(fathom_last_error()).find("fathom_convert_layout"), std::string::npos)
        << fathom_last_error();
}

TEST(Layout, planLayoutsQuery) {
    // Reference backend and single-tap (1x1 input) convolutions keep NCHW.
    const fathom_conv2d_params ref = params_of({8, 64, 12, 64, 3, 1, 1, false}, FATHOM_CNN_REFERENCE);
    const fathom_conv2d_params tap = params_of({8, 64, 1, 64, 3, 1, 1, false}, FATHOM_CNN_AUTO);
    for (const auto& q : {ref, tap}) {
        const ConvPlan plan(q);
        ASSERT_EQ(FATHOM_OK, plan.status()) << fathom_last_error();
        const fathom_conv2d_choice c = plan.info();
        for (int pass : {0, 1, 2}) {
            EXPECT_EQ(FATHOM_LAYOUT_NCHW, c.src_layout[pass]) << "pass " << pass;
            EXPECT_EQ(FATHOM_LAYOUT_NCHW, c.dst_layout[pass]) << "pass " << pass;
        }
    }
    EXPECT_EQ(FATHOM_CNN_REFERENCE, ConvPlan(ref).info().backend);
    // Three input channels are never nChw16c.
    const ConvPlan stem(params_of({8, 3, 12, 64, 3, 1, 1, false}, FATHOM_CNN_AUTO));
    for (int32_t pass : {0, 1, 2})
        EXPECT_EQ(FATHOM_LAYOUT_NCHW, stem.info().src_layout[pass]) << "pass " << pass;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_conv2d_plan_info(stem.handle(), nullptr));
    // With AVX-512 the direct kernels of a ResNet-18 stage block by 16 channels
    // (AVX2 machines block by 8 and get NCHW).
    // (x86 only: oneDNN's AArch64 kernels, SVE-512 included, keep NCHW here.)
    const std::string isa = runtime_info_value("onednn.isa");
    if (isa.find("avx512") == std::string::npos && isa.find("avx10_1_512") == std::string::npos)
        GTEST_SKIP() << "oneDNN ISA " << isa << ", not AVX-512";
    if (runtime_info_value("rules.blocked_min_channels") == "0")
        GTEST_SKIP() << "rule set " << runtime_info_value("rules.set") << " keeps activations NCHW";
    const ConvPlan stage(params_of({8, 64, 12, 64, 3, 1, 1, false}, FATHOM_CNN_AUTO));
    EXPECT_EQ(FATHOM_CNN_ONEDNN, stage.info().backend);
    for (int32_t pass : {0, 1, 2}) {
        EXPECT_EQ(FATHOM_LAYOUT_NCHW16C, stage.info().src_layout[pass]) << "pass " << pass;
        EXPECT_EQ(FATHOM_LAYOUT_NCHW16C, stage.info().dst_layout[pass]) << "pass " << pass;
    }
}

// --- batch norm ----------------------------------------------------------------

TEST(Layout, batchNormWithBlockedActivationsMatchesNchw) {
    for (auto shape : std::vector<std::vector<int64_t>>{{2, 16, 5, 5}, {4, 48, 3, 7},
                                                        {1, 32, 6, 6}}) {
        SCOPED_TRACE(fathom::shape_str(shape.data(), 4));
        const int64_t c = shape[1];
        const TestTensor x = random_f32(shape, 11), dy = random_f32(shape, 12);
        const TestTensor gamma = random_f32({c}, 13), beta = random_f32({c}, 14);
        const TestTensor xb = reorder_by_formula(x, true), dyb = reorder_by_formula(dy, true);
        for (int32_t backend : {FATHOM_CNN_AUTO, FATHOM_CNN_REFERENCE}) {
            for (int32_t training : {1, 0}) {
                fathom_batch_norm_params p{};
                p.n = shape[0], p.c = c, p.s = shape[2] * shape[3];
                p.eps = 1e-5, p.momentum = 0.1, p.training = training, p.backend = backend;
                TestTensor out[2] = {make_tensor(FATHOM_F32, shape), make_tensor(FATHOM_F32, shape)};
                TestTensor dx[2] = {make_tensor(FATHOM_F32, shape), make_tensor(FATHOM_F32, shape)};
                std::vector<TestTensor> stats;
                for (int i = 0; i < 12; ++i) stats.push_back(make_tensor(FATHOM_F32, {c}));
                for (int layout : {0, 1}) {
                    TestTensor* v = &stats[layout * 6];  // mean, var, save_mean, save_invstd, dg, db
                    for (int64_t j = 0; j < c; ++j) v[0].set_storage(j, 0.1 * j), v[1].set_storage(j, 1.0 + 0.01 * j);
                    ASSERT_EQ(FATHOM_OK,
                              batch_norm_forward_once(&p, laid_out((layout ? xb : x).desc(), layout),
                                                        gamma.desc(), beta.desc(), v[0].desc(),
                                                        v[1].desc(), v[2].desc(), v[3].desc(),
                                                        laid_out(out[layout].desc(), layout)))
                        << fathom_last_error();
                    ASSERT_EQ(FATHOM_OK,
                              batch_norm_backward_once(&p, laid_out((layout ? xb : x).desc(), layout),
                                                         laid_out((layout ? dyb : dy).desc(), layout),
                                                         gamma.desc(), v[2].desc(), v[3].desc(),
                                                         laid_out(dx[layout].desc(), layout),
                                                         v[4].desc(), v[5].desc()))
                        << fathom_last_error();
                }
                const std::string what = std::string("backend=") + std::to_string(backend) +
                                         " training=" + std::to_string(training);
                // Sums run in another order: agreement to a few ulps of the values.
                EXPECT_EQ("", storage_mismatch(reorder_by_formula(out[1], false), out[0], 1e-5, 1.0)) << what;
                EXPECT_EQ("", storage_mismatch(reorder_by_formula(dx[1], false), dx[0], 1e-5, 1.0)) << what;
                for (int i = 0; i < 6; ++i)
                    EXPECT_EQ("", storage_mismatch(stats[6 + i], stats[i], 1e-5, 1.0))
                        << what << " per-channel vector " << i;
            }
        }
    }
}

TEST(Layout, batchNormRefusesImpossibleLayouts) {
    const TestTensor x = random_f32({2, 24, 3, 3}, 1);
    TestTensor y = make_tensor(FATHOM_F32, {2, 24, 3, 3});
    fathom_batch_norm_params p{};
    p.n = 2, p.c = 24, p.s = 9, p.eps = 1e-5, p.momentum = 0.1, p.training = 1;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              batch_norm_forward_once(&p, laid_out(x.desc(), 1), nullptr, nullptr, nullptr,
                                        nullptr, nullptr, nullptr, laid_out(y.desc(), 1)));
    EXPECT_NE(std::string(fathom_last_error()).find("c divisible by 16"), std::string::npos)
        << fathom_last_error();
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              batch_norm_forward_once(&p, laid_out(x.desc(), 2), nullptr, nullptr, nullptr,
                                        nullptr, nullptr, nullptr, y.desc()));
    EXPECT_NE(std::string(fathom_last_error()).find("unknown layout 2"), std::string::npos);
    const TestTensor x32 = random_f32({2, 32, 3, 3}, 1);
    TestTensor y32 = make_tensor(FATHOM_F32, {2, 32, 3, 3});
    p.c = 32;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              batch_norm_forward_once(&p, laid_out(x32.desc(), 1), nullptr, nullptr, nullptr,
                                        nullptr, nullptr, nullptr, y32.desc()));
    EXPECT_NE(std::string(fathom_last_error()).find("all activations take one layout"),
              std::string::npos)
        << fathom_last_error();
}

}  // namespace

// --- pooling ---------------------------------------------------------------------

namespace {

TEST(Layout, poolingWithBlockedActivationsMatchesNchw) {
    struct Case {
        int32_t algorithm;
        int64_t k, stride, pad;
    };
    const std::vector<int64_t> shape{2, 32, 7, 7};
    const TestTensor x = random_f32(shape, 21);
    const TestTensor xb = reorder_by_formula(x, true);
    for (const Case& c : {Case{FATHOM_POOL_MAX, 3, 2, 1}, Case{FATHOM_POOL_MAX, 2, 2, 0},
                          Case{FATHOM_POOL_AVG_EXCLUDE_PADDING, 3, 1, 1},
                          Case{FATHOM_POOL_AVG_INCLUDE_PADDING, 2, 2, 1}}) {
        for (int32_t backend : {FATHOM_CNN_AUTO, FATHOM_CNN_REFERENCE}) {
            fathom_pool2d_params p{};
            p.n = 2, p.c = 32, p.h = p.w = 7, p.kh = p.kw = c.k, p.sh = p.sw = c.stride;
            p.ph = p.pw = c.pad, p.algorithm = c.algorithm, p.backend = backend;
            PoolPlan plan(&p, FATHOM_F32);
            ASSERT_EQ(FATHOM_OK, plan.status()) << fathom_last_error();
            fathom_pool2d_choice info{};
            ASSERT_EQ(FATHOM_OK, fathom_pool2d_plan_info(plan.handle(), &info));
            const std::vector<int64_t> ys(info.dst_shape, info.dst_shape + 4);
            const TestTensor dy = random_f32(ys, 22);
            const TestTensor dyb = reorder_by_formula(dy, true);
            TestTensor y[2] = {make_tensor(FATHOM_F32, ys), make_tensor(FATHOM_F32, ys)};
            TestTensor dx[2] = {make_tensor(FATHOM_F32, shape), make_tensor(FATHOM_F32, shape)};
            for (int layout : {0, 1}) {
                const int64_t ws_bytes = info.workspace_bytes;
                TestTensor ws = make_tensor(FATHOM_BOOL, {std::max<int64_t>(ws_bytes, 1)});
                const fathom_tensor_desc* wsd = ws_bytes > 0 ? ws.desc() : nullptr;
                ASSERT_EQ(FATHOM_OK, fathom_pool2d_forward(plan.handle(), laid_out((layout ? xb : x).desc(), layout),
                                                           laid_out(y[layout].desc(), layout), wsd))
                    << fathom_last_error();
                ASSERT_EQ(FATHOM_OK, fathom_pool2d_backward(plan.handle(), laid_out((layout ? dyb : dy).desc(), layout),
                                                            wsd, laid_out(dx[layout].desc(), layout)))
                    << fathom_last_error();
                if (layout == 1 && wsd != nullptr) {
                    // The workspace records its layout: backward in the other one is refused.
                    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
                              fathom_pool2d_backward(plan.handle(), dy.desc(), wsd, dx[0].desc()));
                    EXPECT_NE(std::string(fathom_last_error()).find("other pooling params"),
                              std::string::npos)
                        << fathom_last_error();
                }
            }
            const std::string what = "algorithm=" + std::to_string(c.algorithm) +
                                     " k=" + std::to_string(c.k) + " backend=" +
                                     std::to_string(backend);
            EXPECT_EQ("", bitwise_mismatch(reorder_by_formula(y[1], false), y[0])) << what;
            if (c.stride >= c.k) {
                EXPECT_EQ("", bitwise_mismatch(reorder_by_formula(dx[1], false), dx[0])) << what;
            } else {
                // Overlapping windows: each dx element sums up to k*k dy terms
                // (|dy| <= 1), whose order is the kernel's. x86 oneDNN keeps
                // one order for both layouts; the AArch64 one does not (1-ulp
                // differences), so the bound is k*k rounding steps at 1.0.
                EXPECT_EQ("", storage_mismatch(reorder_by_formula(dx[1], false), dx[0],
                                               static_cast<double>(c.k * c.k) * FLT_EPSILON, 1.0))
                    << what;
            }
        }
    }
}

}  // namespace
