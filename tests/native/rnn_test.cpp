// fathom_rnn_* (through one-shot plans): oneDNN (f32) against the reference kernel (f64 and f32) for
// every mode on odd sizes, batch 1, one step, two layers and bidirectional,
// with and without h0/c0, forward and backward (every gradient); a central
// finite-difference check of the f64 reference backward per mode; the two
// GRU variants against hand-written single-step formulas; workspace reuse;
// and bad input for every entry point. All through the C ABI.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "plan_util.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

const int32_t kModes[] = {FATHOM_RNN_TANH, FATHOM_RNN_RELU, FATHOM_RNN_GRU,
                          FATHOM_RNN_GRU_PYTORCH, FATHOM_RNN_LSTM};

const char* mode_name(int32_t m) {
    switch (m) {
        case FATHOM_RNN_TANH: return "tanh";
        case FATHOM_RNN_RELU: return "relu";
        case FATHOM_RNN_GRU: return "gru";
        case FATHOM_RNN_GRU_PYTORCH: return "gru_pytorch";
        default: return "lstm";
    }
}

struct Shape {
    int64_t T, N, I, H;
    int32_t L, bidir;
    bool with_h0, with_c0;
};

fathom_rnn_params make_params(int32_t mode, const Shape& s, int32_t backend) {
    fathom_rnn_params p{};
    p.mode = mode;
    p.backend = backend;
    p.seq_len = s.T;
    p.batch = s.N;
    p.input_size = s.I;
    p.hidden_size = s.H;
    p.layers = s.L;
    p.bidirectional = s.bidir;
    return p;
}

int64_t gates(int32_t mode) {
    return mode == FATHOM_RNN_LSTM ? 4 : mode == FATHOM_RNN_GRU || mode == FATHOM_RNN_GRU_PYTORCH ? 3 : 1;
}
bool is_lstm(const fathom_rnn_params& p) { return p.mode == FATHOM_RNN_LSTM; }
int64_t dirs(const fathom_rnn_params& p) { return p.bidirectional ? 2 : 1; }

std::string repro(const fathom_rnn_params& p, const Shape& s, uint32_t seed) {
    std::ostringstream os;
    os << "repro: rnn mode=" << mode_name(p.mode) << " T=" << p.seq_len << " N=" << p.batch
       << " I=" << p.input_size << " H=" << p.hidden_size << " layers=" << p.layers
       << " bidirectional=" << p.bidirectional << " h0=" << s.with_h0 << " c0=" << s.with_c0
       << " seed=" << seed;
    return os.str();
}

std::vector<int64_t> weight_shape(const fathom_rnn_params& p, int64_t w) {
    const int64_t D = dirs(p), k = w / (4 * D), rows = gates(p.mode) * p.hidden_size;
    const int64_t in = k == 0 ? p.input_size : D * p.hidden_size;
    switch (w % 4) {
        case 0: return {rows, in};
        case 1: return {rows, p.hidden_size};
        default: return {rows};
    }
}

TestTensor converted(const TestTensor& t, fathom_dtype dtype) {
    const fathom::TensorView v = t.view();
    TestTensor out = make_tensor(dtype, std::vector<int64_t>(v.shape, v.shape + v.ndim));
    for (int64_t k = 0; k < t.storage_elements(); ++k) out.set_storage(k, t.storage_at(k));
    return out;
}

// A 64-byte aligned BOOL tensor from fathom_alloc (the workspace's alignment).
class Workspace {
public:
    explicit Workspace(int64_t bytes) {
        EXPECT_EQ(FATHOM_OK, fathom_alloc(bytes, &address_)) << fathom_last_error();
        desc_.data = address_;
        desc_.dtype = FATHOM_BOOL;
        desc_.ndim = 1;
        desc_.shape[0] = bytes;
        desc_.strides[0] = 1;
    }
    ~Workspace() { fathom_free(address_); }
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    const fathom_tensor_desc* desc() const { return &desc_; }
    fathom_tensor_desc* mutable_desc() { return &desc_; }

private:
    int64_t address_ = 0;
    fathom_tensor_desc desc_{};
};

// The inputs of one forward + backward: values drawn once (f64), converted
// to the dtype under test.
struct Inputs {
    TestTensor src, h0, c0;
    std::vector<TestTensor> weights;
    TestTensor diff_dst, diff_hn, diff_cn;
    bool with_h0 = false, with_c0 = false, with_diff_iter = true;

    Inputs as(fathom_dtype dtype) const {
        Inputs o = *this;
        o.src = converted(src, dtype);
        o.h0 = converted(h0, dtype);
        o.c0 = converted(c0, dtype);
        for (auto& w : o.weights) w = converted(w, dtype);
        o.diff_dst = converted(diff_dst, dtype);
        o.diff_hn = converted(diff_hn, dtype);
        o.diff_cn = converted(diff_cn, dtype);
        return o;
    }
};

Inputs make_inputs(const fathom_rnn_params& p, const Shape& s, uint32_t seed) {
    const int64_t LD = p.layers * dirs(p), N = p.batch, H = p.hidden_size;
    Inputs in;
    in.src = make_tensor(FATHOM_F64, {p.seq_len, N, p.input_size});
    in.src.randomize(seed);
    in.h0 = make_tensor(FATHOM_F64, {LD, N, H});
    in.h0.randomize(seed + 1);
    in.c0 = make_tensor(FATHOM_F64, {LD, N, H});
    in.c0.randomize(seed + 2);
    // PyTorch's init range, U(-1/sqrt(H), 1/sqrt(H)), keeps gates away from saturation.
    const double bound = 1.0 / std::sqrt(static_cast<double>(H));
    for (int64_t w = 0; w < 4 * LD; ++w) {
        in.weights.push_back(make_tensor(FATHOM_F64, weight_shape(p, w)));
        in.weights.back().randomize(seed + 10 + static_cast<uint32_t>(w), -bound, bound);
    }
    in.diff_dst = make_tensor(FATHOM_F64, {p.seq_len, N, dirs(p) * H});
    in.diff_dst.randomize(seed + 3);
    in.diff_hn = make_tensor(FATHOM_F64, {LD, N, H});
    in.diff_hn.randomize(seed + 4);
    in.diff_cn = make_tensor(FATHOM_F64, {LD, N, H});
    in.diff_cn.randomize(seed + 5);
    in.with_h0 = s.with_h0;
    in.with_c0 = s.with_c0 && p.mode == FATHOM_RNN_LSTM;
    return in;
}

std::vector<fathom_tensor_desc> descs_of(const std::vector<TestTensor>& ts) {
    std::vector<fathom_tensor_desc> d;
    for (const auto& t : ts) d.push_back(*t.desc());
    return d;
}

struct Outputs {
    TestTensor dst, hn, cn, diff_src, diff_h0, diff_c0;
    std::vector<TestTensor> diff_weights;
    std::string error;  // "" when every call succeeded
};

// Forward (training) then backward with every gradient requested.
Outputs run(const fathom_rnn_params& p, const Inputs& in, int backward_calls = 1) {
    const fathom_dtype dtype = in.src.dtype();
    const int64_t LD = p.layers * dirs(p), N = p.batch, H = p.hidden_size;
    Outputs o;
    o.dst = make_tensor(dtype, {p.seq_len, N, dirs(p) * H});
    o.dst.randomize(99);  // garbage the kernels must overwrite
    o.hn = make_tensor(dtype, {LD, N, H});
    o.hn.randomize(98);
    o.cn = make_tensor(dtype, {LD, N, H});
    o.cn.randomize(97);
    int64_t bytes = -1;
    if (rnn_workspace_bytes_once(&p, dtype, &bytes) != FATHOM_OK) {
        o.error = std::string("workspace_bytes: ") + fathom_last_error();
        return o;
    }
    Workspace ws(bytes);
    const auto w = descs_of(in.weights);
    const fathom_tensor_desc* h0 = in.with_h0 ? in.h0.desc() : nullptr;
    const fathom_tensor_desc* c0 = in.with_c0 ? in.c0.desc() : nullptr;
    const fathom_tensor_desc* cn = is_lstm(p) ? o.cn.desc() : nullptr;
    if (rnn_forward_once(&p, 1, in.src.desc(), h0, c0, w.data(), static_cast<int32_t>(w.size()),
                           o.dst.desc(), o.hn.desc(), cn, ws.desc()) != FATHOM_OK) {
        o.error = std::string("forward: ") + fathom_last_error();
        return o;
    }
    o.diff_src = make_tensor(dtype, {p.seq_len, N, p.input_size});
    o.diff_h0 = make_tensor(dtype, {LD, N, H});
    o.diff_c0 = make_tensor(dtype, {LD, N, H});
    for (const auto& t : in.weights) {
        const fathom::TensorView v = t.view();
        o.diff_weights.push_back(make_tensor(dtype, std::vector<int64_t>(v.shape, v.shape + v.ndim)));
    }
    for (int call = 0; call < backward_calls; ++call) {
        // Garbage in every output: backward overwrites, never accumulates.
        o.diff_src.randomize(96);
        o.diff_h0.randomize(95);
        o.diff_c0.randomize(94);
        for (auto& t : o.diff_weights) t.randomize(93);
        const auto dw = descs_of(o.diff_weights);
        const bool lstm = is_lstm(p);
        if (rnn_backward_once(&p, in.src.desc(), h0, c0, w.data(), static_cast<int32_t>(w.size()),
                                o.dst.desc(), o.hn.desc(), cn, in.diff_dst.desc(),
                                in.with_diff_iter ? in.diff_hn.desc() : nullptr,
                                in.with_diff_iter && lstm ? in.diff_cn.desc() : nullptr,
                                ws.desc(), o.diff_src.desc(), o.diff_h0.desc(),
                                lstm ? o.diff_c0.desc() : nullptr, dw.data(),
                                static_cast<int32_t>(dw.size())) != FATHOM_OK) {
            o.error = std::string("backward: ") + fathom_last_error();
            return o;
        }
    }
    return o;
}

// "" when |got - want| <= tol * (1 + |want|) everywhere, else the first miss.
std::string mismatch(const char* what, const TestTensor& got, const TestTensor& want, double tol) {
    for (int64_t k = 0; k < want.storage_elements(); ++k) {
        const double g = got.storage_at(k), w = want.storage_at(k);
        if (!(std::fabs(g - w) <= tol * (1.0 + std::fabs(w)))) {
            std::ostringstream os;
            os << what << "[" << k << "]: got " << g << ", want " << w << " (tol " << tol << ")";
            return os.str();
        }
    }
    return "";
}

// Every output of a against b; lstm-only tensors only for lstm.
void expect_close(const fathom_rnn_params& p, const Outputs& a, const Outputs& b, double tol,
                  const std::string& context) {
    ASSERT_EQ("", a.error) << context;
    ASSERT_EQ("", b.error) << context;
    std::vector<std::string> misses = {
        mismatch("dst", a.dst, b.dst, tol), mismatch("hn", a.hn, b.hn, tol),
        mismatch("diff_src", a.diff_src, b.diff_src, tol),
        mismatch("diff_h0", a.diff_h0, b.diff_h0, tol)};
    if (is_lstm(p)) {
        misses.push_back(mismatch("cn", a.cn, b.cn, tol));
        misses.push_back(mismatch("diff_c0", a.diff_c0, b.diff_c0, tol));
    }
    for (size_t w = 0; w < a.diff_weights.size(); ++w)
        misses.push_back(mismatch(("diff_weights[" + std::to_string(w) + "]").c_str(),
                                  a.diff_weights[w], b.diff_weights[w], tol));
    for (const auto& m : misses) EXPECT_EQ("", m) << context;
}

std::vector<Shape> shapes() {
    return {
        {5, 3, 7, 6, 1, 0, true, true},     // small, with h0 and c0
        {7, 5, 13, 11, 1, 0, false, false}, // odd sizes, zero initial state
        {4, 1, 3, 5, 1, 0, true, false},    // batch 1, h0 without c0
        {1, 2, 4, 3, 1, 0, true, true},     // one step
        {5, 2, 3, 4, 2, 0, true, true},     // two layers
        {6, 3, 5, 4, 1, 1, false, true},    // bidirectional
        {4, 2, 3, 5, 2, 1, true, true},     // two bidirectional layers
        {9, 8, 28, 64, 1, 0, true, true},   // wider, multithreaded GEMMs
    };
}

class RnnMatchesReference : public ::testing::TestWithParam<int32_t> {};

// oneDNN f32 against the f64 reference (the oracle), and the f32 reference
// against it, on every shape; every output and gradient.
TEST_P(RnnMatchesReference, matchesReference) {
    const int32_t mode = GetParam();
    uint32_t seed = 100;
    for (const Shape& s : shapes()) {
        ++seed;
        const fathom_rnn_params ref = make_params(mode, s, FATHOM_RNN_REFERENCE);
        const fathom_rnn_params dnnl = make_params(mode, s, FATHOM_RNN_ONEDNN);
        const Inputs in = make_inputs(ref, s, seed);
        const Outputs want = run(ref, in.as(FATHOM_F64));
        const std::string context = repro(ref, s, seed);
        expect_close(ref, run(dnnl, in.as(FATHOM_F32)), want, 2e-5, context + " backend=oneDNN");
        expect_close(ref, run(ref, in.as(FATHOM_F32)), want, 2e-5, context + " backend=ref f32");
        // AUTO is oneDNN for f32 and the reference for f64.
        const fathom_rnn_params automatic = make_params(mode, s, FATHOM_RNN_AUTO);
        expect_close(ref, run(automatic, in.as(FATHOM_F64)), want, 0, context + " auto f64");
    }
}

// Inference forward writes what training forward writes, with no workspace.
TEST_P(RnnMatchesReference, inferenceMatchesTraining) {
    const int32_t mode = GetParam();
    const Shape s{6, 3, 5, 4, 2, 1, true, true};
    for (int32_t backend : {FATHOM_RNN_REFERENCE, FATHOM_RNN_ONEDNN}) {
        const fathom_rnn_params p = make_params(mode, s, backend);
        const Inputs in = make_inputs(p, s, 7).as(FATHOM_F32);
        const Outputs train = run(p, in);
        ASSERT_EQ("", train.error);
        TestTensor dst = make_tensor(FATHOM_F32, {s.T, s.N, 2 * s.H});
        TestTensor hn = make_tensor(FATHOM_F32, {4, s.N, s.H}), cn = hn;
        const auto w = descs_of(in.weights);
        ASSERT_EQ(FATHOM_OK, rnn_forward_once(&p, 0, in.src.desc(), in.h0.desc(),
                                                is_lstm(p) ? in.c0.desc() : nullptr, w.data(),
                                                static_cast<int32_t>(w.size()), dst.desc(),
                                                hn.desc(), is_lstm(p) ? cn.desc() : nullptr,
                                                nullptr))
            << fathom_last_error();
        EXPECT_EQ("", mismatch("dst", dst, train.dst, 0)) << mode_name(mode) << " " << backend;
        EXPECT_EQ("", mismatch("hn", hn, train.hn, 0)) << mode_name(mode) << " " << backend;
        if (is_lstm(p)) EXPECT_EQ("", mismatch("cn", cn, train.cn, 0));
    }
}

// Backward leaves the workspace as it was (a second backward, as with
// retain_graph, gives the same gradients), and a null diff_dst_iter means zeros.
TEST_P(RnnMatchesReference, backwardIsRepeatableAndNullDiffIterIsZero) {
    const int32_t mode = GetParam();
    const Shape s{5, 3, 4, 6, 2, 1, true, true};
    for (int32_t backend : {FATHOM_RNN_REFERENCE, FATHOM_RNN_ONEDNN}) {
        const fathom_rnn_params p = make_params(mode, s, backend);
        Inputs in = make_inputs(p, s, 11).as(FATHOM_F32);
        const std::string context = repro(p, s, 11) + " backend=" + std::to_string(backend);
        expect_close(p, run(p, in, 2), run(p, in, 1), 0, context + " (second backward)");
        in.with_diff_iter = false;
        Outputs null_iter = run(p, in);
        in.with_diff_iter = true;
        in.diff_hn = converted(make_tensor(FATHOM_F64, {4, s.N, s.H}), FATHOM_F32);  // zeros
        in.diff_cn = in.diff_hn;
        expect_close(p, null_iter, run(p, in), 0, context + " (null diff_dst_iter)");
    }
}

INSTANTIATE_TEST_SUITE_P(Modes, RnnMatchesReference, ::testing::ValuesIn(kModes),
                         [](const auto& info) { return std::string(mode_name(info.param)); });

// The loss sum(dst * r) + sum(hn * r') + sum(cn * r'') through the f64
// reference, and its central differences in every input element against the
// reference backward (whose seeds are those r).
double loss_of(const fathom_rnn_params& p, const Inputs& in) {
    const int64_t LD = p.layers * dirs(p), N = p.batch, H = p.hidden_size;
    TestTensor dst = make_tensor(FATHOM_F64, {p.seq_len, N, dirs(p) * H});
    TestTensor hn = make_tensor(FATHOM_F64, {LD, N, H}), cn = hn;
    const auto w = descs_of(in.weights);
    EXPECT_EQ(FATHOM_OK, rnn_forward_once(&p, 0, in.src.desc(), in.with_h0 ? in.h0.desc() : nullptr,
                                            in.with_c0 ? in.c0.desc() : nullptr, w.data(),
                                            static_cast<int32_t>(w.size()), dst.desc(), hn.desc(),
                                            is_lstm(p) ? cn.desc() : nullptr, nullptr))
        << fathom_last_error();
    double loss = 0;
    for (int64_t k = 0; k < dst.storage_elements(); ++k)
        loss += dst.storage_at(k) * in.diff_dst.storage_at(k);
    for (int64_t k = 0; k < hn.storage_elements(); ++k) {
        loss += hn.storage_at(k) * in.diff_hn.storage_at(k);
        if (is_lstm(p)) loss += cn.storage_at(k) * in.diff_cn.storage_at(k);
    }
    return loss;
}

void expect_gradient(const fathom_rnn_params& p, Inputs& in, TestTensor& x, const TestTensor& grad,
                     const std::string& what) {
    const double eps = 1e-6;
    for (int64_t k = 0; k < x.storage_elements(); ++k) {
        const double saved = x.storage_at(k);
        x.set_storage(k, saved + eps);
        const double plus = loss_of(p, in);
        x.set_storage(k, saved - eps);
        const double minus = loss_of(p, in);
        x.set_storage(k, saved);
        const double numeric = (plus - minus) / (2 * eps);
        EXPECT_NEAR(numeric, grad.storage_at(k), 1e-6 * (1 + std::fabs(numeric)))
            << what << "[" << k << "]";
    }
}

TEST(Rnn, referenceBackwardMatchesFiniteDifferences) {
    for (int32_t mode : kModes)
        for (const Shape& s : {Shape{3, 2, 3, 2, 1, 0, true, true}, Shape{2, 2, 2, 2, 2, 1, true, true}}) {
            const fathom_rnn_params p = make_params(mode, s, FATHOM_RNN_REFERENCE);
            Inputs in = make_inputs(p, s, 5);
            // Larger weights than the init range: the gates leave their linear region.
            for (auto& w : in.weights)
                for (int64_t k = 0; k < w.storage_elements(); ++k)
                    w.set_storage(k, 2 * w.storage_at(k));
            const Outputs g = run(p, in);
            ASSERT_EQ("", g.error);
            const std::string context = repro(p, s, 5);
            expect_gradient(p, in, in.src, g.diff_src, context + " src");
            expect_gradient(p, in, in.h0, g.diff_h0, context + " h0");
            if (is_lstm(p)) expect_gradient(p, in, in.c0, g.diff_c0, context + " c0");
            for (size_t w = 0; w < in.weights.size(); ++w)
                expect_gradient(p, in, in.weights[w], g.diff_weights[w],
                                context + " weights[" + std::to_string(w) + "]");
        }
}

// One step of each GRU on hand-picked numbers, against the two formulas
// (fathom.h): notes n = tanh(x W_in^T + b_in + (r*h) W_hn^T + b_hn),
// PyTorch n = tanh(x W_in^T + b_in + r*(h W_hn^T + b_hn)).
TEST(Rnn, gruVariantsFollowTheirFormulasAndDiffer) {
    const Shape s{1, 1, 2, 2, 1, 0, true, false};
    // Rows r (0,1), z (2,3), n (4,5) of w_ih (6,2), w_hh (6,2), b_ih, b_hh.
    const double w_ih[6][2] = {{0.5, -0.3}, {0.2, 0.8}, {-0.6, 0.1}, {0.4, 0.4}, {0.9, -0.7}, {-0.2, 0.6}};
    const double w_hh[6][2] = {{0.3, 0.1}, {-0.5, 0.2}, {0.7, -0.4}, {0.1, 0.3}, {-0.8, 0.5}, {0.6, 0.9}};
    const double b_ih[6] = {0.1, -0.2, 0.05, 0.3, -0.1, 0.2};
    const double b_hh[6] = {-0.05, 0.15, 0.2, -0.1, 0.4, -0.3};
    const double x[2] = {0.7, -1.2}, h[2] = {0.5, -0.4};
    auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
    double expected[2][2];  // [notes, pytorch][j]
    for (int j = 0; j < 2; ++j) {
        auto xw = [&](int row) { return x[0] * w_ih[row][0] + x[1] * w_ih[row][1] + b_ih[row]; };
        auto hw = [&](int row) { return h[0] * w_hh[row][0] + h[1] * w_hh[row][1] + b_hh[row]; };
        const double r[2] = {sig(xw(0) + hw(0)), sig(xw(1) + hw(1))};
        const double z = sig(xw(2 + j) + hw(2 + j));
        const double rh_w = r[0] * h[0] * w_hh[4 + j][0] + r[1] * h[1] * w_hh[4 + j][1] + b_hh[4 + j];
        const double n_notes = std::tanh(xw(4 + j) + rh_w);
        const double n_torch = std::tanh(xw(4 + j) + r[j] * hw(4 + j));
        expected[0][j] = z * h[j] + (1 - z) * n_notes;
        expected[1][j] = z * h[j] + (1 - z) * n_torch;
    }
    for (fathom_dtype dtype : {FATHOM_F64, FATHOM_F32}) {
        double got[2][2];
        for (int variant = 0; variant < 2; ++variant) {
            const int32_t mode = variant == 0 ? FATHOM_RNN_GRU : FATHOM_RNN_GRU_PYTORCH;
            const fathom_rnn_params p =
                make_params(mode, s, dtype == FATHOM_F64 ? FATHOM_RNN_REFERENCE : FATHOM_RNN_ONEDNN);
            Inputs in = make_inputs(p, s, 1);
            for (int i = 0; i < 2; ++i) in.src.set_storage(i, x[i]), in.h0.set_storage(i, h[i]);
            for (int r = 0; r < 6; ++r) {
                for (int i = 0; i < 2; ++i) {
                    in.weights[0].set_storage(r * 2 + i, w_ih[r][i]);
                    in.weights[1].set_storage(r * 2 + i, w_hh[r][i]);
                }
                in.weights[2].set_storage(r, b_ih[r]);
                in.weights[3].set_storage(r, b_hh[r]);
            }
            const Outputs o = run(p, in.as(dtype));
            ASSERT_EQ("", o.error);
            for (int j = 0; j < 2; ++j) {
                got[variant][j] = o.dst.storage_at(j);
                EXPECT_NEAR(expected[variant][j], got[variant][j], dtype == FATHOM_F64 ? 1e-12 : 1e-6)
                    << mode_name(mode) << " dtype " << fathom::dtype_name(dtype) << " h[" << j << "]";
            }
        }
        EXPECT_GT(std::fabs(got[0][0] - got[1][0]) + std::fabs(got[0][1] - got[1][1]), 1e-3)
            << "the notes' GRU and PyTorch's GRU gave the same output";
    }
}

// ---------------------------------------------------------------- bad input

// A valid LSTM call whose pieces a test breaks one at a time.
struct Call {
    fathom_rnn_params p = make_params(FATHOM_RNN_LSTM, Shape{3, 2, 4, 5, 2, 1, true, true},
                                      FATHOM_RNN_AUTO);
    Inputs in = make_inputs(p, Shape{3, 2, 4, 5, 2, 1, true, true}, 3).as(FATHOM_F32);
    std::vector<fathom_tensor_desc> w = descs_of(in.weights);
    TestTensor dst = make_tensor(FATHOM_F32, {3, 2, 10});
    TestTensor hn = make_tensor(FATHOM_F32, {4, 2, 5}), cn = hn;
    const fathom_tensor_desc* h0 = in.h0.desc();
    const fathom_tensor_desc* c0 = in.c0.desc();
    const fathom_tensor_desc* cn_desc = cn.desc();
    int32_t weights_count = static_cast<int32_t>(w.size());
    int32_t training = 1;

    int64_t bytes() {
        int64_t b = 0;
        EXPECT_EQ(FATHOM_OK, rnn_workspace_bytes_once(&p, FATHOM_F32, &b)) << fathom_last_error();
        return b;
    }
    fathom_status forward(const fathom_tensor_desc* ws) {
        return rnn_forward_once(&p, training, in.src.desc(), h0, c0, w.data(), weights_count,
                                  dst.desc(), hn.desc(), cn_desc, ws);
    }
};

// Expects FATHOM_INVALID_ARGUMENT (or `status`) and a message holding every fragment.
void expect_refused(fathom_status got, std::initializer_list<const char*> fragments,
                    fathom_status status = FATHOM_INVALID_ARGUMENT) {
    EXPECT_EQ(status, got);
    const std::string message = fathom_last_error();
    for (const char* f : fragments) EXPECT_NE(std::string::npos, message.find(f)) << message;
}

TEST(Rnn, forwardRefusesBadInput) {
    {
        Call c;
        Workspace ws(c.bytes());
        ASSERT_EQ(FATHOM_OK, c.forward(ws.desc())) << fathom_last_error();
    }
    {
        Call c;
        c.weights_count = 15;
        expect_refused(c.forward(nullptr), {"rnn_forward: weights has 15 tensors but 16 are expected"});
    }
    {
        Call c;
        c.w[5].shape[1] = 4;  // weight_hh_l0_reverse (20,5) -> (20,4)
        Workspace ws(c.bytes());
        expect_refused(c.forward(ws.desc()),
                       {"rnn_forward: weights[5] (weight_hh_l0_reverse) [20,4] does not match "
                        "the expected [20,5]",
                        "mode=lstm T=3 N=2 I=4 H=5 layers=2 bidirectional=1"});
    }
    {
        Call c;
        c.w[8].shape[1] = 4;  // weight_ih_l1 reads D*H = 10 inputs
        Workspace ws(c.bytes());
        expect_refused(c.forward(ws.desc()), {"weights[8] (weight_ih_l1) [20,4]", "[20,10]"});
    }
    {
        Call c;
        TestTensor bad = make_tensor(FATHOM_F32, {2, 2, 5});
        c.h0 = bad.desc();
        Workspace ws(c.bytes());
        expect_refused(c.forward(ws.desc()), {"src_iter [2,2,5] does not match the expected [4,2,5]"});
    }
    {
        Call c;
        TestTensor f64 = make_tensor(FATHOM_F64, {4, 2, 5});
        c.h0 = f64.desc();
        Workspace ws(c.bytes());
        expect_refused(c.forward(ws.desc()), {"dtype float64 of src_iter [4,2,5] does not match the plan's float32"});
    }
    {
        Call c;
        c.p.mode = FATHOM_RNN_GRU;
        c.cn_desc = nullptr;
        expect_refused(c.forward(nullptr), {"src_iter_c is given but mode gru has no cell state"});
    }
    {
        Call c;
        c.cn_desc = nullptr;
        Workspace ws(c.bytes());
        expect_refused(c.forward(ws.desc()), {"dst_iter_c is null (lstm needs it)"});
    }
    {
        Call c;
        expect_refused(c.forward(nullptr), {"training=1 needs the workspace"});
        Workspace small(c.bytes() - 64);
        expect_refused(c.forward(small.desc()), {"workspace holds", "but the plan's workspace_bytes is"});
        c.training = 0;
        Workspace ws(c.bytes());
        expect_refused(c.forward(ws.desc()), {"workspace is given but training=0"});
    }
    {
        Call c;
        Workspace ws(c.bytes() + 8);
        fathom_tensor_desc* d = ws.mutable_desc();
        d->data += 8;  // no longer 64-byte aligned
        d->shape[0] -= 8;
        expect_refused(c.forward(ws.desc()), {"workspace address must be 64-byte aligned"});
    }
    {
        Call c;
        c.p.backend = FATHOM_RNN_ONEDNN;
        int64_t bytes = 0;
        expect_refused(rnn_workspace_bytes_once(&c.p, FATHOM_F64, &bytes),
                       {"oneDNN backend takes float32, got float64"});
    }
    {
        Call c;
        TestTensor strided = make_tensor(FATHOM_F32, {3, 2, 4}, Layout::Transposed);
        c.training = 0;
        c.w = descs_of(c.in.weights);
        expect_refused(rnn_forward_once(&c.p, 0, strided.desc(), c.h0, c.c0, c.w.data(), 16,
                                          c.dst.desc(), c.hn.desc(), c.cn_desc, nullptr),
                       {"src [3,2,4] must be contiguous"});
    }
}

TEST(Rnn, paramsAreChecked) {
    const Shape s{3, 2, 4, 5, 1, 0, true, true};
    int64_t bytes = 0;
    fathom_rnn_params p = make_params(FATHOM_RNN_TANH, s, FATHOM_RNN_AUTO);
    p.layers = 0;
    expect_refused(rnn_workspace_bytes_once(&p, FATHOM_F32, &bytes),
                   {"rnn_plan_create: layers=0 must be >= 1", "mode=tanh"});
    p = make_params(7, s, FATHOM_RNN_AUTO);
    expect_refused(rnn_workspace_bytes_once(&p, FATHOM_F32, &bytes), {"unknown mode 7"});
    p = make_params(FATHOM_RNN_TANH, s, 2);
    expect_refused(rnn_workspace_bytes_once(&p, FATHOM_F32, &bytes), {"unknown backend 2"});
    p = make_params(FATHOM_RNN_TANH, s, FATHOM_RNN_AUTO);
    p.bidirectional = 2;
    expect_refused(rnn_workspace_bytes_once(&p, FATHOM_F32, &bytes), {"bidirectional=2"});
    p.bidirectional = 0;
    p.hidden_size = int64_t{1} << 40;
    expect_refused(rnn_workspace_bytes_once(&p, FATHOM_F32, &bytes), {"hidden_size=", "above 2^31-1"});
    p.hidden_size = 5;
    expect_refused(rnn_workspace_bytes_once(&p, FATHOM_I32, &bytes), {"dtype int32 not supported"});
    expect_refused(rnn_workspace_bytes_once(nullptr, FATHOM_F32, &bytes), {"params is null"});
}

TEST(Rnn, backwardRefusesBadInput) {
    Call c;
    Workspace ws(c.bytes());
    ASSERT_EQ(FATHOM_OK, c.forward(ws.desc())) << fathom_last_error();
    TestTensor dsrc = make_tensor(FATHOM_F32, {3, 2, 4});
    TestTensor dh = make_tensor(FATHOM_F32, {4, 2, 5}), dc = dh;
    std::vector<TestTensor> dw_t;
    for (const auto& t : c.in.weights) dw_t.push_back(t);
    auto dw = descs_of(dw_t);
    auto backward = [&](const fathom_rnn_params& p, const fathom_tensor_desc* workspace,
                        const fathom_tensor_desc* diff_dst, int32_t dw_count) {
        return rnn_backward_once(&p, c.in.src.desc(), c.h0, c.c0, c.w.data(), 16, c.dst.desc(),
                                   c.hn.desc(), c.cn.desc(), diff_dst, nullptr, nullptr, workspace,
                                   dsrc.desc(), dh.desc(), dc.desc(), dw.data(), dw_count);
    };
    ASSERT_EQ(FATHOM_OK, backward(c.p, ws.desc(), c.in.diff_dst.desc(), 16)) << fathom_last_error();
    expect_refused(backward(c.p, ws.desc(), nullptr, 16), {"rnn_backward: diff_dst is null"});
    expect_refused(backward(c.p, ws.desc(), c.in.diff_dst.desc(), 3),
                   {"diff_weights has 3 tensors but 16 are expected"});
    expect_refused(backward(c.p, nullptr, c.in.diff_dst.desc(), 16), {"workspace is null"});
    // A workspace of the reference backend, or of other params.
    fathom_rnn_params ref = c.p;
    ref.backend = FATHOM_RNN_REFERENCE;
    expect_refused(backward(ref, ws.desc(), c.in.diff_dst.desc(), 16),
                   {"workspace was written by the oneDNN backend but this call runs the reference"});
    Workspace fresh(c.bytes());
    std::memset(reinterpret_cast<void*>(fresh.desc()->data), 0, 64);
    expect_refused(backward(c.p, fresh.desc(), c.in.diff_dst.desc(), 16),
                   {"workspace was not written by a training rnn_forward"});
    Call other;
    other.p.mode = FATHOM_RNN_GRU;
    other.cn_desc = nullptr;
    other.c0 = nullptr;
    other.in = make_inputs(other.p, Shape{3, 2, 4, 5, 2, 1, true, false}, 3).as(FATHOM_F32);
    other.w = descs_of(other.in.weights);
    Workspace gru_ws(other.bytes());
    ASSERT_EQ(FATHOM_OK, other.forward(gru_ws.desc())) << fathom_last_error();
    expect_refused(backward(c.p, gru_ws.desc(), c.in.diff_dst.desc(), 16),
                   {"workspace was written for other rnn params"});
}

}  // namespace
