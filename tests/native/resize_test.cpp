// fathom_resize_bilinear: hand-computed PyTorch numbers (align_corners=False),
// the entry point against the reference kernel (bit for bit: same formula and
// order) on upscales, downscales and odd shapes, the f32 reference against
// f64, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "ops/resize.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

std::string repro(const std::vector<int64_t>& from, const std::vector<int64_t>& to,
                  const char* dtype, uint32_t seed) {
    std::ostringstream os;
    os << "repro: resize_bilinear dtype=" << dtype << " src=" << fathom::shape_str(from.data(), 4)
       << " dst=" << fathom::shape_str(to.data(), 4) << " seed=" << seed;
    return os.str();
}

TestTensor filled(fathom_dtype dtype, const std::vector<int64_t>& shape,
                  const std::vector<double>& values) {
    TestTensor t = make_tensor(dtype, shape);
    for (size_t k = 0; k < values.size(); ++k) t.set_storage(static_cast<int64_t>(k), values[k]);
    return t;
}

TestTensor converted(const TestTensor& t, fathom_dtype dtype) {
    const fathom::TensorView v = t.view();
    TestTensor out = make_tensor(dtype, std::vector<int64_t>(v.shape, v.shape + v.ndim));
    for (int64_t k = 0; k < t.storage_elements(); ++k) out.set_storage(k, t.storage_at(k));
    return out;
}

std::vector<double> resized(const TestTensor& src, const std::vector<int64_t>& to) {
    TestTensor dst = make_tensor(src.dtype(), to);
    EXPECT_EQ(FATHOM_OK, fathom_resize_bilinear(src.desc(), dst.desc())) << fathom_last_error();
    std::vector<double> v(static_cast<size_t>(dst.storage_elements()));
    for (int64_t k = 0; k < dst.storage_elements(); ++k) v[k] = dst.storage_at(k);
    return v;
}

// F.interpolate(torch.tensor([[1., 2.], [3., 4.]])[None, None], size=(4, 4),
// mode="bilinear", align_corners=False). Per axis, scale = 2/4 and
// src = 0.5 * (o + 0.5) - 0.5 = -0.25, 0.25, 0.75, 1.25: clamped to 0, then
// weights (1, 0), (0.75, 0.25), (0.25, 0.75), and index 1 with no right
// neighbour. The plane is 1 + 2h + w, so dst = 1 + 2 a(oh) + a(ow) with
// a = 0, 0.25, 0.75, 1.
TEST(ResizeByHand, upscale2x2To4x4MatchesPyTorch) {
    const std::vector<double> want = {1.0, 1.25, 1.75, 2.0,  //
                                      1.5, 1.75, 2.25, 2.5,  //
                                      2.5, 2.75, 3.25, 3.5,  //
                                      3.0, 3.25, 3.75, 4.0};
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64})
        EXPECT_EQ(want, resized(filled(dtype, {1, 1, 2, 2}, {1, 2, 3, 4}), {1, 1, 4, 4}))
            << fathom::dtype_name(dtype);
}

// 3x3 -> 2x2 over x = (3h + w)^2 (not bilinear itself): scale = 1.5, src = 0.25
// and 1.75, i.e. neighbours (0, 1) with weights (0.75, 0.25) and (1, 2) with
// weights (0.25, 0.75) on both axes.
//   dst(0,0) = .75 (.75*0 + .25*1)   + .25 (.75*9 + .25*16)  = 2.875
//   dst(0,1) = .75 (.25*1 + .75*4)   + .25 (.25*16 + .75*25) = 8.125
//   dst(1,0) = .25 (.75*9 + .25*16)  + .75 (.75*36 + .25*49) = 32.125
//   dst(1,1) = .25 (.25*16 + .75*25) + .75 (.25*49 + .75*64) = 50.875
TEST(ResizeByHand, downscale3x3To2x2MatchesPyTorch) {
    const std::vector<double> x = {0, 1, 4, 9, 16, 25, 36, 49, 64};
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64})
        EXPECT_EQ(std::vector<double>({2.875, 8.125, 32.125, 50.875}),
                  resized(filled(dtype, {1, 1, 3, 3}, x), {1, 1, 2, 2}))
            << fathom::dtype_name(dtype);
}

// Same size is a copy; 1x1 -> 3x2 repeats the value.
TEST(ResizeByHand, identityAndSinglePixel) {
    for (fathom_dtype dtype : {FATHOM_F32, FATHOM_F64}) {
        TestTensor src = make_tensor(dtype, {2, 3, 5, 7});
        src.randomize(4);
        std::vector<double> want(static_cast<size_t>(src.storage_elements()));
        for (int64_t k = 0; k < src.storage_elements(); ++k) want[k] = src.storage_at(k);
        EXPECT_EQ(want, resized(src, {2, 3, 5, 7})) << fathom::dtype_name(dtype);
        EXPECT_EQ(std::vector<double>(6, 0.5),
                  resized(filled(dtype, {1, 1, 1, 1}, {0.5}), {1, 1, 3, 2}));
    }
}

// The entry point (the OpenMP kernel) against the reference kernel, and the
// F32 reference against F64.
TEST(Resize, matchesReference) {
    const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
        {{2, 3, 28, 28}, {2, 3, 96, 96}},
        {{1, 3, 28, 28}, {1, 3, 224, 224}},
        {{2, 3, 96, 96}, {2, 3, 28, 28}},      // downscale
        {{3, 2, 28, 20}, {3, 2, 33, 50}},      // non-square, odd, mixed ratios
        {{1, 4, 17, 9}, {1, 4, 5, 31}},        // down along H, up along W
        {{1, 1, 1, 6}, {1, 1, 4, 3}},          // a single row
        {{2, 64, 7, 7}, {2, 64, 14, 14}},      // large C: exactly 2x
        {{8, 3, 32, 32}, {8, 3, 224, 224}},    // multithreaded
    };
    uint32_t seed = 20;
    for (const auto& [from, to] : cases) {
        ++seed;
        TestTensor src = make_tensor(FATHOM_F32, from);
        src.randomize(seed);
        const TestTensor src64 = converted(src, FATHOM_F64);
        TestTensor got = make_tensor(FATHOM_F32, to), want = got;
        TestTensor got64 = make_tensor(FATHOM_F64, to), want64 = got64;
        got.randomize(seed + 1);
        got64.randomize(seed + 1);
        ASSERT_EQ(FATHOM_OK, fathom_resize_bilinear(src.desc(), got.desc()))
            << fathom_last_error() << "\n" << repro(from, to, "float32", seed);
        ASSERT_EQ(FATHOM_OK, fathom_resize_bilinear(src64.desc(), got64.desc()))
            << fathom_last_error() << "\n" << repro(from, to, "float64", seed);
        fathom::resize_bilinear_ref(src.view(), want.view());
        fathom::resize_bilinear_ref(src64.view(), want64.view());
        EXPECT_EQ("", storage_mismatch(got, want, 0.0))
            << "fast vs reference\n" << repro(from, to, "float32", seed);
        EXPECT_EQ("", storage_mismatch(got64, want64, 0.0))
            << "fast vs reference\n" << repro(from, to, "float64", seed);
        // PyTorch's float source index src = (in/out) * (o + 0.5) - 0.5 is off
        // by a few ulp of `in`, times a neighbour difference of up to 2.
        const double in = static_cast<double>(std::max(from[2], from[3]));
        EXPECT_EQ("", storage_mismatch(want, want64, 8 * in * FLT_EPSILON, 1.0))
            << "reference f32 vs f64\n" << repro(from, to, "float32", seed);
    }
}

// --- bad input ---------------------------------------------------------------------------

void expect_refused(const TestTensor& src, const TestTensor& dst, const std::string& needle) {
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_resize_bilinear(src.desc(), dst.desc())) << needle;
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find(needle)) << "message: " << msg;
}

TEST(ResizeBadInput, descriptorsAreChecked) {
    const auto src = make_tensor(FATHOM_F32, {2, 3, 8, 8});
    expect_refused(src, make_tensor(FATHOM_F32, {2, 4, 16, 16}),
                   "resize_bilinear: dst [2,4,16,16] does not match the expected [2,3,16,16]");
    expect_refused(src, make_tensor(FATHOM_F32, {3, 3, 16, 16}),
                   "resize_bilinear: dst [3,3,16,16] does not match the expected [2,3,16,16]");
    expect_refused(make_tensor(FATHOM_F32, {3, 8, 8}), make_tensor(FATHOM_F32, {2, 3, 4, 4}),
                   "resize_bilinear: src [3,8,8] must be 4-D (N,C,H,W)");
    expect_refused(src, make_tensor(FATHOM_F32, {2, 3, 16}),
                   "resize_bilinear: dst [2,3,16] must be 4-D (N,C,OH,OW)");
    expect_refused(src, make_tensor(FATHOM_F32, {2, 3, 0, 4}),
                   "resize_bilinear: sizes must be positive (src [2,3,8,8], dst [2,3,0,4])");
    expect_refused(src, make_tensor(FATHOM_F64, {2, 3, 4, 4}),
                   "resize_bilinear: dtype float64 of dst does not match src float32");
    expect_refused(make_tensor(FATHOM_I32, {2, 3, 8, 8}), make_tensor(FATHOM_I32, {2, 3, 4, 4}),
                   "resize_bilinear: dtype int32 not supported (src [2,3,8,8])");
    expect_refused(make_tensor(FATHOM_F32, {2, 3, 8, 8}, Layout::Padded),
                   make_tensor(FATHOM_F32, {2, 3, 4, 4}),
                   "resize_bilinear: src [2,3,8,8] must be contiguous");
    expect_refused(src, make_tensor(FATHOM_F32, {2, 3, 4, 4}, Layout::Transposed),
                   "resize_bilinear: dst [2,3,4,4] must be contiguous");
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_resize_bilinear(nullptr, src.desc()));
    EXPECT_NE(std::string::npos,
              std::string(fathom_last_error()).find("resize_bilinear: src is null"));
}

}  // namespace
