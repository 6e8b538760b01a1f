// Concurrent callers through the C ABI, as a JVM with many request threads
// calls it: threads that create, run and destroy plans of every family at
// once (conv2d, pool2d, batch_norm, rnn), share one plan and destroy it under
// running callers, allocate and free cached block sizes (across threads too),
// make failing calls whose messages must stay their own, and change the
// thread budget while others compute. Every result is compared with the same
// op run on one thread before the callers start.
//
// ci/test-tsan.sh runs this suite under ThreadSanitizer with an intra-op
// budget of 1 (OpenMP and OpenBLAS are not instrumented, so a parallel region
// of more than one thread would be reported falsely); the budget test then
// raises the budget only for ops too small to be granted a second thread
// (kTsan below).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tensor_util.h"

using namespace fathom_test;

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif
#else
constexpr bool kTsan = false;
#endif

constexpr int kCallers = 4;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Runs body(t) for t in [0, callers) on that many threads, released together;
// body returns "" or what went wrong. Returns the failures, one per thread.
template <typename Body>
std::vector<std::string> run_concurrently(int callers, Body body) {
    std::mutex mutex;
    std::condition_variable cv;
    bool go = false;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int t = 0; t < callers; ++t)
        threads.emplace_back([&, t] {
            {
                std::unique_lock<std::mutex> lock(mutex);
                cv.wait(lock, [&] { return go; });
            }
            const std::string failure = body(t);
            if (failure.empty()) return;
            std::lock_guard<std::mutex> lock(mutex);
            failures.push_back("thread " + std::to_string(t) + ": " + failure);
        });
    {
        std::lock_guard<std::mutex> lock(mutex);
        go = true;
    }
    cv.notify_all();
    for (auto& th : threads) th.join();
    return failures;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

// The process-wide budget set for a scope, then restored.
class BudgetScope {
public:
    explicit BudgetScope(int32_t n) {
        EXPECT_EQ(FATHOM_OK, fathom_get_num_threads(&saved_));
        EXPECT_EQ(FATHOM_OK, fathom_set_num_threads(n));
    }
    ~BudgetScope() { EXPECT_EQ(FATHOM_OK, fathom_set_num_threads(saved_)); }
    BudgetScope(const BudgetScope&) = delete;
    BudgetScope& operator=(const BudgetScope&) = delete;

private:
    int32_t saved_ = 1;
};

TestTensor random_tensor(fathom_dtype dtype, const std::vector<int64_t>& shape, uint32_t seed,
                         double lo = -1.0, double hi = 1.0) {
    TestTensor t = make_tensor(dtype, shape);
    t.randomize(seed, lo, hi);
    return t;
}

// An output: every element NaN, so that one the kernel leaves alone shows.
TestTensor garbage(fathom_dtype dtype, const std::vector<int64_t>& shape) {
    TestTensor t = make_tensor(dtype, shape);
    for (int64_t k = 0; k < t.storage_elements(); ++k) t.set_storage(k, kNaN);
    return t;
}

std::vector<int64_t> shape_of(const TestTensor& t) {
    const fathom_tensor_desc& d = *t.desc();
    return std::vector<int64_t>(d.shape, d.shape + d.ndim);
}

std::string error_of(const char* call, fathom_status status) {
    return std::string(call) + " returned " + std::to_string(status) + ": " + fathom_last_error();
}

// A 64-byte aligned BOOL tensor from fathom_alloc (the RNN workspace's alignment).
class NativeBytes {
public:
    explicit NativeBytes(int64_t bytes) {
        status_ = fathom_alloc(bytes, &address_);
        desc_.data = address_;
        desc_.dtype = FATHOM_BOOL;
        desc_.ndim = 1;
        desc_.shape[0] = bytes;
        desc_.strides[0] = 1;
    }
    ~NativeBytes() {
        if (address_ != 0) fathom_free(address_);
    }
    NativeBytes(const NativeBytes&) = delete;
    NativeBytes& operator=(const NativeBytes&) = delete;
    fathom_status status() const { return status_; }
    const fathom_tensor_desc* desc() const { return &desc_; }

private:
    int64_t address_ = 0;
    fathom_status status_ = FATHOM_OK;
    fathom_tensor_desc desc_{};
};

// --- op cases: a plan's params and inputs, and every pass it has --------------

class OpCase {
public:
    virtual ~OpCase() = default;
    virtual std::string name() const = 0;
    virtual fathom_status create(int64_t* plan) const = 0;
    virtual fathom_status destroy(int64_t plan) const = 0;
    // Runs every pass on fresh outputs (in a fixed order); "" or what failed.
    virtual std::string run(int64_t plan, std::vector<TestTensor>& outputs) const = 0;
    // Relative tolerance (floor 1) against the single-threaded result: oneDNN
    // may split a reduction differently with more threads.
    virtual double tolerance() const { return 1e-4; }
};

// "" when every output matches.
std::string compare(const OpCase& c, const std::vector<TestTensor>& got,
                    const std::vector<TestTensor>& want) {
    if (got.size() != want.size())
        return c.name() + ": " + std::to_string(got.size()) + " outputs, want " +
               std::to_string(want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        const std::string miss = storage_mismatch(got[i], want[i], c.tolerance(), 1.0);
        if (!miss.empty()) return c.name() + ": output " + std::to_string(i) + " " + miss;
    }
    return "";
}

// A fresh plan: create, run, destroy.
std::string run_with_own_plan(const OpCase& c, std::vector<TestTensor>& outputs) {
    int64_t plan = 0;
    fathom_status st = c.create(&plan);
    if (st != FATHOM_OK) return c.name() + ": " + error_of("plan_create", st);
    std::string failure = c.run(plan, outputs);
    st = c.destroy(plan);
    if (failure.empty() && st != FATHOM_OK) failure = error_of("plan_destroy", st);
    return failure.empty() ? "" : c.name() + ": " + failure;
}

class ConvCase : public OpCase {
public:
    ConvCase(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t ks, int64_t stride,
             int64_t pad, int64_t groups, bool bias, fathom_dtype dtype, uint32_t seed)
        : dtype_(dtype) {
        p_.n = n, p_.c = c, p_.h = h, p_.w = w, p_.k = k, p_.kh = p_.kw = ks;
        p_.sh = p_.sw = stride;
        p_.ph = p_.pw = pad;
        p_.dh = p_.dw = 1;
        p_.groups = groups;
        p_.has_bias = bias;
        p_.backend = FATHOM_CNN_AUTO;
        const int64_t oh = (h + 2 * pad - ks) / stride + 1, ow = (w + 2 * pad - ks) / stride + 1;
        x_ = random_tensor(dtype, {n, c, h, w}, seed);
        w_ = random_tensor(dtype, {k, c / groups, ks, ks}, seed + 1);
        b_ = random_tensor(dtype, {k}, seed + 2);
        dy_ = random_tensor(dtype, {n, k, oh, ow}, seed + 3);
    }
    std::string name() const override {
        std::ostringstream os;
        os << "conv2d " << fathom::dtype_name(dtype_) << " n=" << p_.n << " c=" << p_.c
           << " h=" << p_.h << " w=" << p_.w << " k=" << p_.k << " kernel=" << p_.kh
           << " stride=" << p_.sh << " pad=" << p_.ph << " groups=" << p_.groups
           << " bias=" << p_.has_bias;
        return os.str();
    }
    fathom_status create(int64_t* plan) const override {
        return fathom_conv2d_plan_create(&p_, dtype_, plan);
    }
    fathom_status destroy(int64_t plan) const override { return fathom_conv2d_plan_destroy(plan); }
    std::string run(int64_t plan, std::vector<TestTensor>& out) const override {
        out.clear();
        out.push_back(garbage(dtype_, shape_of(dy_)));  // dst
        out.push_back(garbage(dtype_, shape_of(x_)));   // diff_src
        out.push_back(garbage(dtype_, shape_of(w_)));   // diff_weights
        out.push_back(garbage(dtype_, shape_of(b_)));   // diff_bias
        const fathom_tensor_desc* bias = p_.has_bias ? b_.desc() : nullptr;
        const fathom_tensor_desc* diff_bias = p_.has_bias ? out[3].desc() : nullptr;
        if (!p_.has_bias) out.pop_back();
        fathom_status st = fathom_conv2d_forward(plan, x_.desc(), w_.desc(), bias, out[0].desc());
        if (st != FATHOM_OK) return error_of("conv2d_forward", st);
        st = fathom_conv2d_backward_data(plan, dy_.desc(), w_.desc(), out[1].desc());
        if (st != FATHOM_OK) return error_of("conv2d_backward_data", st);
        st = fathom_conv2d_backward_weights(plan, x_.desc(), dy_.desc(), out[2].desc(), diff_bias);
        if (st != FATHOM_OK) return error_of("conv2d_backward_weights", st);
        return "";
    }

private:
    fathom_conv2d_params p_{};
    fathom_dtype dtype_;
    TestTensor x_, w_, b_, dy_;
};

class PoolCase : public OpCase {
public:
    PoolCase(int64_t n, int64_t c, int64_t h, int64_t w, int64_t ks, int64_t stride, int64_t pad,
             int32_t algorithm, fathom_dtype dtype, uint32_t seed)
        : dtype_(dtype) {
        p_.n = n, p_.c = c, p_.h = h, p_.w = w, p_.kh = p_.kw = ks;
        p_.sh = p_.sw = stride;
        p_.ph = p_.pw = pad;
        p_.algorithm = algorithm;
        p_.backend = FATHOM_CNN_AUTO;
        const int64_t oh = (h + 2 * pad - ks) / stride + 1, ow = (w + 2 * pad - ks) / stride + 1;
        x_ = random_tensor(dtype, {n, c, h, w}, seed);
        dy_ = random_tensor(dtype, {n, c, oh, ow}, seed + 1);
    }
    std::string name() const override {
        std::ostringstream os;
        os << "pool2d " << fathom::dtype_name(dtype_) << " algorithm=" << p_.algorithm
           << " n=" << p_.n << " c=" << p_.c << " h=" << p_.h << " w=" << p_.w
           << " kernel=" << p_.kh << " stride=" << p_.sh << " pad=" << p_.ph;
        return os.str();
    }
    fathom_status create(int64_t* plan) const override {
        return fathom_pool2d_plan_create(&p_, dtype_, plan);
    }
    fathom_status destroy(int64_t plan) const override { return fathom_pool2d_plan_destroy(plan); }
    std::string run(int64_t plan, std::vector<TestTensor>& out) const override {
        fathom_pool2d_choice info{};
        fathom_status st = fathom_pool2d_plan_info(plan, &info);
        if (st != FATHOM_OK) return error_of("pool2d_plan_info", st);
        // The workspace is private to the backend: used, never compared.
        TestTensor ws = make_tensor(FATHOM_BOOL, {info.workspace_bytes});
        const fathom_tensor_desc* wsd = info.workspace_bytes > 0 ? ws.desc() : nullptr;
        out.clear();
        out.push_back(garbage(dtype_, shape_of(dy_)));  // dst
        out.push_back(garbage(dtype_, shape_of(x_)));   // diff_src
        st = fathom_pool2d_forward(plan, x_.desc(), out[0].desc(), wsd);
        if (st != FATHOM_OK) return error_of("pool2d_forward", st);
        st = fathom_pool2d_backward(plan, dy_.desc(), wsd, out[1].desc());
        if (st != FATHOM_OK) return error_of("pool2d_backward", st);
        return "";
    }

private:
    fathom_pool2d_params p_{};
    fathom_dtype dtype_;
    TestTensor x_, dy_;
};

class BatchNormCase : public OpCase {
public:
    BatchNormCase(const std::vector<int64_t>& shape, int32_t training, int32_t backend,
                  fathom_dtype dtype, uint32_t seed)
        : dtype_(dtype) {
        p_.n = shape[0];
        p_.c = shape[1];
        p_.s = 1;
        for (size_t d = 2; d < shape.size(); ++d) p_.s *= shape[d];
        p_.eps = 1e-5;
        p_.momentum = 0.1;
        p_.training = training;
        p_.backend = backend;
        x_ = random_tensor(dtype, shape, seed, -2, 3);
        dy_ = random_tensor(dtype, shape, seed + 1);
        gamma_ = random_tensor(dtype, {p_.c}, seed + 2, 0.5, 1.5);
        beta_ = random_tensor(dtype, {p_.c}, seed + 3);
        mean0_ = random_tensor(dtype, {p_.c}, seed + 4);
        var0_ = random_tensor(dtype, {p_.c}, seed + 5, 0.5, 2);
    }
    std::string name() const override {
        std::ostringstream os;
        os << "batch_norm " << fathom::dtype_name(dtype_) << " backend=" << p_.backend
           << " training=" << p_.training << " n=" << p_.n << " c=" << p_.c << " s=" << p_.s;
        return os.str();
    }
    fathom_status create(int64_t* plan) const override {
        return fathom_batch_norm_plan_create(&p_, dtype_, plan);
    }
    fathom_status destroy(int64_t plan) const override {
        return fathom_batch_norm_plan_destroy(plan);
    }
    std::string run(int64_t plan, std::vector<TestTensor>& out) const override {
        out.clear();
        out.push_back(mean0_);  // running_mean, in/out: every run starts from the same
        out.push_back(var0_);   // running_var
        out.push_back(garbage(dtype_, {p_.c}));      // save_mean
        out.push_back(garbage(dtype_, {p_.c}));      // save_invstd
        out.push_back(garbage(dtype_, shape_of(x_)));  // dst
        out.push_back(garbage(dtype_, shape_of(x_)));  // diff_src
        out.push_back(garbage(dtype_, {p_.c}));      // diff_gamma
        out.push_back(garbage(dtype_, {p_.c}));      // diff_beta
        fathom_status st = fathom_batch_norm_forward(plan, x_.desc(), gamma_.desc(), beta_.desc(),
                                                     out[0].desc(), out[1].desc(), out[2].desc(),
                                                     out[3].desc(), out[4].desc());
        if (st != FATHOM_OK) return error_of("batch_norm_forward", st);
        st = fathom_batch_norm_backward(plan, x_.desc(), dy_.desc(), gamma_.desc(), out[2].desc(),
                                        out[3].desc(), out[5].desc(), out[6].desc(),
                                        out[7].desc());
        if (st != FATHOM_OK) return error_of("batch_norm_backward", st);
        return "";
    }

private:
    fathom_batch_norm_params p_{};
    fathom_dtype dtype_;
    TestTensor x_, dy_, gamma_, beta_, mean0_, var0_;
};

class RnnCase : public OpCase {
public:
    RnnCase(int32_t mode, int64_t T, int64_t N, int64_t I, int64_t H, int32_t layers,
            int32_t bidirectional, fathom_dtype dtype, uint32_t seed)
        : dtype_(dtype) {
        p_.mode = mode;
        p_.backend = FATHOM_RNN_AUTO;
        p_.seq_len = T;
        p_.batch = N;
        p_.input_size = I;
        p_.hidden_size = H;
        p_.layers = layers;
        p_.bidirectional = bidirectional;
        const int64_t D = bidirectional ? 2 : 1, LD = layers * D;
        const int64_t G = mode == FATHOM_RNN_LSTM ? 4
                          : (mode == FATHOM_RNN_GRU || mode == FATHOM_RNN_GRU_PYTORCH) ? 3 : 1;
        src_ = random_tensor(dtype, {T, N, I}, seed);
        h0_ = random_tensor(dtype, {LD, N, H}, seed + 1);
        c0_ = random_tensor(dtype, {LD, N, H}, seed + 2);
        diff_dst_ = random_tensor(dtype, {T, N, D * H}, seed + 3);
        diff_hn_ = random_tensor(dtype, {LD, N, H}, seed + 4);
        diff_cn_ = random_tensor(dtype, {LD, N, H}, seed + 5);
        const double bound = 1.0 / std::sqrt(static_cast<double>(H));
        for (int64_t w = 0; w < 4 * LD; ++w) {
            const int64_t k = w / (4 * D), in = k == 0 ? I : D * H;
            const std::vector<int64_t> shape = w % 4 == 0   ? std::vector<int64_t>{G * H, in}
                                               : w % 4 == 1 ? std::vector<int64_t>{G * H, H}
                                                            : std::vector<int64_t>{G * H};
            weights_.push_back(
                random_tensor(dtype, shape, seed + 10 + static_cast<uint32_t>(w), -bound, bound));
        }
        for (const auto& t : weights_) weight_descs_.push_back(*t.desc());
    }
    std::string name() const override {
        std::ostringstream os;
        os << "rnn " << fathom::dtype_name(dtype_) << " mode=" << p_.mode << " T=" << p_.seq_len
           << " N=" << p_.batch << " I=" << p_.input_size << " H=" << p_.hidden_size
           << " layers=" << p_.layers << " bidirectional=" << p_.bidirectional;
        return os.str();
    }
    fathom_status create(int64_t* plan) const override {
        return fathom_rnn_plan_create(&p_, dtype_, plan);
    }
    fathom_status destroy(int64_t plan) const override { return fathom_rnn_plan_destroy(plan); }
    std::string run(int64_t plan, std::vector<TestTensor>& out) const override {
        const bool lstm = p_.mode == FATHOM_RNN_LSTM;
        fathom_rnn_choice info{};
        fathom_status st = fathom_rnn_plan_info(plan, &info);
        if (st != FATHOM_OK) return error_of("rnn_plan_info", st);
        NativeBytes ws(info.workspace_bytes);
        if (ws.status() != FATHOM_OK) return error_of("alloc", ws.status());
        out.clear();
        out.push_back(garbage(dtype_, shape_of(diff_dst_)));  // dst
        out.push_back(garbage(dtype_, shape_of(h0_)));        // hn
        out.push_back(garbage(dtype_, shape_of(c0_)));        // cn
        out.push_back(garbage(dtype_, shape_of(src_)));       // diff_src
        out.push_back(garbage(dtype_, shape_of(h0_)));        // diff_h0
        out.push_back(garbage(dtype_, shape_of(c0_)));        // diff_c0
        for (const auto& w : weights_) out.push_back(garbage(dtype_, shape_of(w)));
        std::vector<fathom_tensor_desc> dw;
        for (size_t i = 6; i < out.size(); ++i) dw.push_back(*out[i].desc());
        const auto n = static_cast<int32_t>(weight_descs_.size());
        const fathom_tensor_desc* c0 = lstm ? c0_.desc() : nullptr;
        const fathom_tensor_desc* cn = lstm ? out[2].desc() : nullptr;
        st = fathom_rnn_forward(plan, 1, src_.desc(), h0_.desc(), c0, weight_descs_.data(), n,
                                out[0].desc(), out[1].desc(), cn, ws.desc());
        if (st != FATHOM_OK) return error_of("rnn_forward", st);
        st = fathom_rnn_backward(plan, src_.desc(), h0_.desc(), c0, weight_descs_.data(), n,
                                 out[0].desc(), out[1].desc(), cn, diff_dst_.desc(),
                                 diff_hn_.desc(), lstm ? diff_cn_.desc() : nullptr, ws.desc(),
                                 out[3].desc(), out[4].desc(), lstm ? out[5].desc() : nullptr,
                                 dw.data(), n);
        if (st != FATHOM_OK) return error_of("rnn_backward", st);
        if (!lstm) {  // cn and diff_c0 are LSTM-only: drop the untouched ones
            out.erase(out.begin() + 5);
            out.erase(out.begin() + 2);
        }
        return "";
    }

private:
    fathom_rnn_params p_{};
    fathom_dtype dtype_;
    TestTensor src_, h0_, c0_, diff_dst_, diff_hn_, diff_cn_;
    std::vector<TestTensor> weights_;
    std::vector<fathom_tensor_desc> weight_descs_;
};

using Cases = std::vector<std::unique_ptr<OpCase>>;

Cases conv_cases() {
    Cases c;
    c.emplace_back(new ConvCase(2, 8, 9, 7, 16, 3, 1, 1, 1, true, FATHOM_F32, 100));
    c.emplace_back(new ConvCase(1, 16, 8, 8, 16, 3, 2, 1, 2, false, FATHOM_F32, 200));
    c.emplace_back(new ConvCase(2, 4, 6, 5, 8, 1, 1, 0, 1, true, FATHOM_F32, 300));
    c.emplace_back(new ConvCase(1, 3, 6, 6, 4, 3, 1, 1, 1, true, FATHOM_F64, 400));  // reference
    return c;
}

Cases pool_cases() {
    Cases c;
    c.emplace_back(new PoolCase(2, 16, 9, 9, 3, 2, 1, FATHOM_POOL_MAX, FATHOM_F32, 500));
    c.emplace_back(new PoolCase(2, 8, 8, 6, 2, 2, 0, FATHOM_POOL_AVG_EXCLUDE_PADDING, FATHOM_F32,
                                600));
    c.emplace_back(new PoolCase(1, 3, 7, 5, 3, 1, 1, FATHOM_POOL_MAX, FATHOM_F64, 700));
    return c;
}

Cases batch_norm_cases() {
    Cases c;
    c.emplace_back(new BatchNormCase({4, 8, 5, 5}, 1, FATHOM_CNN_ONEDNN, FATHOM_F32, 800));
    c.emplace_back(new BatchNormCase({6, 20}, 1, FATHOM_CNN_AUTO, FATHOM_F32, 900));
    c.emplace_back(new BatchNormCase({3, 16, 2, 2}, 0, FATHOM_CNN_ONEDNN, FATHOM_F32, 1000));
    c.emplace_back(new BatchNormCase({2, 3, 4, 4}, 1, FATHOM_CNN_REFERENCE, FATHOM_F64, 1100));
    return c;
}

Cases rnn_cases() {
    Cases c;
    c.emplace_back(new RnnCase(FATHOM_RNN_LSTM, 4, 3, 5, 6, 1, 0, FATHOM_F32, 1200));
    c.emplace_back(new RnnCase(FATHOM_RNN_GRU_PYTORCH, 3, 2, 4, 5, 1, 1, FATHOM_F32, 1300));
    c.emplace_back(new RnnCase(FATHOM_RNN_TANH, 3, 2, 3, 4, 2, 0, FATHOM_F32, 1400));
    c.emplace_back(new RnnCase(FATHOM_RNN_LSTM, 2, 2, 3, 3, 1, 0, FATHOM_F64, 1500));  // reference
    return c;
}

// Each case's outputs from one caller with a budget of one thread.
std::vector<std::vector<TestTensor>> single_threaded(const Cases& cases) {
    BudgetScope one(1);
    std::vector<std::vector<TestTensor>> want(cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
        const std::string failure = run_with_own_plan(*cases[i], want[i]);
        EXPECT_EQ("", failure);
    }
    return want;
}

// kCallers threads each create, run, check and destroy plans of the family's
// cases in turn (so different plans of one family live at once), iterations times.
void plans_from_many_threads(const Cases& cases, int iterations) {
    const auto want = single_threaded(cases);
    if (::testing::Test::HasFailure()) return;
    const auto failures = run_concurrently(kCallers, [&](int t) -> std::string {
        std::vector<TestTensor> got;
        for (int it = 0; it < iterations; ++it) {
            const size_t i = static_cast<size_t>(t + it) % cases.size();
            std::string failure = run_with_own_plan(*cases[i], got);
            if (failure.empty()) failure = compare(*cases[i], got, want[i]);
            if (!failure.empty()) return "iteration " + std::to_string(it) + ": " + failure;
        }
        return "";
    });
    EXPECT_TRUE(failures.empty()) << joined(failures);
}

// One plan per case, created here and run by every thread at once.
void shared_plans(const Cases& cases, int iterations) {
    const auto want = single_threaded(cases);
    if (::testing::Test::HasFailure()) return;
    std::vector<int64_t> plans(cases.size(), 0);
    for (size_t i = 0; i < cases.size(); ++i)
        ASSERT_EQ(FATHOM_OK, cases[i]->create(&plans[i])) << fathom_last_error();
    const auto failures = run_concurrently(kCallers, [&](int t) -> std::string {
        std::vector<TestTensor> got;
        for (int it = 0; it < iterations; ++it) {
            const size_t i = static_cast<size_t>(t + it) % cases.size();
            std::string failure = cases[i]->run(plans[i], got);
            if (failure.empty()) failure = compare(*cases[i], got, want[i]);
            if (!failure.empty())
                return "iteration " + std::to_string(it) + ": " + cases[i]->name() + ": " + failure;
        }
        return "";
    });
    EXPECT_TRUE(failures.empty()) << joined(failures);
    for (size_t i = 0; i < cases.size(); ++i)
        EXPECT_EQ(FATHOM_OK, cases[i]->destroy(plans[i])) << fathom_last_error();
}

// Thread 0 destroys a plan that the others keep running, once each of them
// has run it. Each call must either succeed with the right result or be
// refused as "not a live plan", and once a caller saw a refusal the handle
// stays refused (never reused or revived); a second destroy is refused too.
void destroy_under_running_callers(const OpCase& c) {
    std::vector<TestTensor> want;
    {
        BudgetScope one(1);
        ASSERT_EQ("", run_with_own_plan(c, want));
    }
    int64_t plan = 0;
    ASSERT_EQ(FATHOM_OK, c.create(&plan)) << fathom_last_error();
    const std::string refusal = "plan " + std::to_string(plan) + " is not a live plan";
    std::atomic<int> have_run{0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    const auto failures = run_concurrently(kCallers, [&](int t) -> std::string {
        std::vector<TestTensor> got;
        if (t == 0) {
            while (have_run.load() < kCallers - 1) {
                if (std::chrono::steady_clock::now() > deadline) return "the others never ran";
                std::this_thread::yield();
            }
            fathom_status st = c.destroy(plan);
            if (st != FATHOM_OK) return error_of("plan_destroy", st);
            if (c.destroy(plan) != FATHOM_INVALID_ARGUMENT ||
                std::string(fathom_last_error()).find(refusal) == std::string::npos)
                return "a second destroy was not refused as \"" + refusal + "\"";
            const std::string failure = c.run(plan, got);
            if (failure.find(refusal) == std::string::npos)
                return "a call after the destroy gave \"" + failure + "\"";
            return "";
        }
        bool ran = false, refused = false;
        for (int it = 0; std::chrono::steady_clock::now() < deadline; ++it) {
            const std::string failure = c.run(plan, got);
            if (failure.empty()) {
                if (refused) return "the plan ran again after a refusal";
                const std::string miss = compare(c, got, want);
                if (!miss.empty()) return "iteration " + std::to_string(it) + ": " + miss;
                if (!ran) ++have_run;
                ran = true;
                continue;
            }
            if (failure.find(refusal) == std::string::npos)
                return "iteration " + std::to_string(it) + ": " + failure;
            if (!ran) return "refused before the destroy: " + failure;
            if (refused) return "";  // refused twice in a row: done
            refused = true;
        }
        return "no refusal within the deadline";
    });
    EXPECT_TRUE(failures.empty()) << joined(failures);
}

const int kIterations = 24;

TEST(ConcurrentPlans, conv2dPlansFromManyThreads) { plans_from_many_threads(conv_cases(), kIterations); }
TEST(ConcurrentPlans, pool2dPlansFromManyThreads) { plans_from_many_threads(pool_cases(), kIterations); }
TEST(ConcurrentPlans, batchNormPlansFromManyThreads) {
    plans_from_many_threads(batch_norm_cases(), kIterations);
}
TEST(ConcurrentPlans, rnnPlansFromManyThreads) { plans_from_many_threads(rnn_cases(), kIterations); }

// Every family at once: each thread walks all the cases of all families, so
// conv2d, pool2d, batch_norm and rnn plans are created, run and destroyed
// beside each other (the registries and the per-thread oneDNN caches of
// different families interleave).
TEST(ConcurrentPlans, everyFamilyAtOnce) {
    Cases all;
    for (Cases (*family)() : {conv_cases, pool_cases, batch_norm_cases, rnn_cases})
        for (auto& c : family()) all.push_back(std::move(c));
    plans_from_many_threads(all, kIterations);
}

TEST(ConcurrentPlans, conv2dSharedPlans) { shared_plans(conv_cases(), kIterations); }
TEST(ConcurrentPlans, pool2dSharedPlans) { shared_plans(pool_cases(), kIterations); }
TEST(ConcurrentPlans, batchNormSharedPlans) { shared_plans(batch_norm_cases(), kIterations); }
TEST(ConcurrentPlans, rnnSharedPlans) { shared_plans(rnn_cases(), kIterations); }

TEST(ConcurrentPlans, destroyWhileOthersRunEveryFamily) {
    for (const Cases& cases : {conv_cases(), pool_cases(), batch_norm_cases(), rnn_cases()}) {
        SCOPED_TRACE(cases[0]->name());
        destroy_under_running_callers(*cases[0]);
    }
}

// Autotuning (FATHOM_CONV_TUNE=all: every call's first sight of a key times
// each candidate) by every thread at once on one shared plan: the plan's
// choices are written under its lock while other threads read them.
TEST(ConcurrentPlans, conv2dTuningFromManyThreads) {
    const Cases cases = conv_cases();
    ASSERT_EQ(0, setenv("FATHOM_CONV_TUNE", "all", 1));  // before any thread reads it
    shared_plans(cases, 2);
    ASSERT_EQ(0, unsetenv("FATHOM_CONV_TUNE"));
}

// --- allocator -----------------------------------------------------------------

// Sizes whose blocks the allocator caches (>= 32 KiB with the header), the
// smallest cached block exactly among them, and one odd size.
const int64_t kCachedSizes[] = {(32 << 10) - 64, 32 << 10, 48 << 10, (64 << 10) + 8, 1 << 20};

uint64_t pattern_of(int t, int it) { return (uint64_t{0x9e3779b9u} << 32) ^ (uint64_t(t) << 20) ^ uint64_t(it); }

void fill_block(int64_t address, int64_t bytes, uint64_t pattern) {
    auto* words = reinterpret_cast<uint64_t*>(static_cast<intptr_t>(address));
    for (int64_t i = 0; i < bytes / 8; ++i) words[i] = pattern + static_cast<uint64_t>(i);
}

// "" when the block still holds its pattern (no other caller was handed it).
std::string check_block(int64_t address, int64_t bytes, uint64_t pattern) {
    const auto* words = reinterpret_cast<const uint64_t*>(static_cast<intptr_t>(address));
    for (int64_t i = 0; i < bytes / 8; ++i)
        if (words[i] != pattern + static_cast<uint64_t>(i))
            return "block " + std::to_string(address) + " of " + std::to_string(bytes) +
                   " bytes changed at word " + std::to_string(i) +
                   " while its owner held it (handed out twice?)";
    return "";
}

struct Block {
    int64_t address, bytes;
    uint64_t pattern;
};

TEST(ConcurrentAlloc, cachedSizesFromManyThreadsReturnToBaseline) {
    int64_t baseline = -1;
    ASSERT_EQ(FATHOM_OK, fathom_live_bytes(&baseline));
    std::mutex handoff_mutex;
    std::deque<Block> handoff;  // blocks allocated by one thread, freed by another
    const int rounds = kTsan ? 60 : 300;
    const auto failures = run_concurrently(kCallers, [&](int t) -> std::string {
        std::vector<Block> held;
        for (int it = 0; it < rounds; ++it) {
            const int64_t bytes = kCachedSizes[(t + it) % 5];
            int64_t address = 0;
            const fathom_status st = fathom_alloc(bytes, &address);
            if (st != FATHOM_OK) return error_of("alloc", st);
            if (address == 0 || address % 64 != 0)
                return "alloc returned " + std::to_string(address) + ", not 64-byte aligned";
            const uint64_t pattern = pattern_of(t, it);
            fill_block(address, bytes, pattern);
            held.push_back({address, bytes, pattern});
            if (it % 3 == 2) {  // hand one over, take one (maybe another thread's) back
                std::lock_guard<std::mutex> lock(handoff_mutex);
                handoff.push_back(held.front());
                held.erase(held.begin());
                if (handoff.size() > 2) {
                    held.push_back(handoff.front());
                    handoff.pop_front();
                }
            }
            if (held.size() > 4 || it == rounds - 1) {  // free the oldest, or all at the end
                const size_t keep = it == rounds - 1 ? 0 : 2;
                while (held.size() > keep) {
                    const Block b = held.front();
                    held.erase(held.begin());
                    const std::string changed = check_block(b.address, b.bytes, b.pattern);
                    if (!changed.empty()) return changed;
                    const fathom_status fst = fathom_free(b.address);
                    if (fst != FATHOM_OK) return error_of("free", fst);
                }
            }
        }
        return "";
    });
    EXPECT_TRUE(failures.empty()) << joined(failures);
    for (const Block& b : handoff) {
        EXPECT_EQ("", check_block(b.address, b.bytes, b.pattern));
        EXPECT_EQ(FATHOM_OK, fathom_free(b.address)) << fathom_last_error();
    }
    int64_t live = -1;
    ASSERT_EQ(FATHOM_OK, fathom_live_bytes(&live));
    EXPECT_EQ(baseline, live);
}

// --- thread-local last error ------------------------------------------------------

// Each thread's failed calls name its own arguments, whatever the other
// threads fail or succeed with meanwhile; a success leaves the message as it was.
TEST(ConcurrentErrors, lastErrorNamesThisThreadsCall) {
    const int rounds = kTsan ? 100 : 400;
    const auto failures = run_concurrently(kCallers, [&](int t) -> std::string {
        for (int it = 0; it < rounds; ++it) {
            const int64_t tag = 1000000 * (t + 1) + it;
            std::string expected;
            fathom_status st = FATHOM_OK;
            switch (it % 4) {
                case 0: {
                    int64_t address = 0;
                    st = fathom_alloc(-tag, &address);
                    expected = "alloc: bytes=-" + std::to_string(tag) + " is negative";
                    break;
                }
                case 1:
                    st = fathom_conv2d_forward(tag, nullptr, nullptr, nullptr, nullptr);
                    expected = "conv2d_forward: plan " + std::to_string(tag) +
                               " is not a live plan (never created, or already destroyed)";
                    break;
                case 2:
                    st = fathom_set_num_threads(static_cast<int32_t>(-tag));
                    expected = "set_num_threads: n=-" + std::to_string(tag) + " (must be >= 1)";
                    break;
                default:
                    st = fathom_rnn_plan_destroy(tag);
                    expected = "rnn_plan_destroy: plan " + std::to_string(tag) +
                               " is not a live plan (never created, or already destroyed)";
                    break;
            }
            if (st != FATHOM_INVALID_ARGUMENT)
                return "a bad call returned " + std::to_string(st) + ", want invalid argument";
            std::this_thread::yield();  // let the others fail in between
            int64_t live = 0;
            if (fathom_live_bytes(&live) != FATHOM_OK) return "live_bytes failed";
            const std::string got = fathom_last_error();
            if (got != expected) return "last error is \"" + got + "\", want \"" + expected + "\"";
        }
        return "";
    });
    EXPECT_TRUE(failures.empty()) << joined(failures);
}

// --- the thread budget changed under running callers -------------------------------

struct GemmCase {
    fathom_gemm_params p{};
    int32_t backend = FATHOM_GEMM_AUTO;
    std::vector<float> a, b, want;
};

GemmCase gemm_case(int64_t side, int32_t backend, uint32_t seed) {
    GemmCase g;
    g.p.m = g.p.n = g.p.k = side;
    g.p.alpha = 1.0f;
    g.p.lda = g.p.ldb = g.p.ldc = side;
    g.p.batch = 1;
    g.p.stride_a = g.p.stride_b = g.p.stride_c = side * side;
    g.backend = backend;
    TestTensor a = random_tensor(FATHOM_F32, {side * side}, seed);
    TestTensor b = random_tensor(FATHOM_F32, {side * side}, seed + 1);
    for (int64_t i = 0; i < side * side; ++i) {
        g.a.push_back(static_cast<float>(a.storage_at(i)));
        g.b.push_back(static_cast<float>(b.storage_at(i)));
    }
    return g;
}

fathom_status run_gemm(const GemmCase& g, std::vector<float>& c) {
    c.assign(g.a.size(), std::numeric_limits<float>::quiet_NaN());
    return fathom_sgemm(g.backend, &g.p, g.a.data(), static_cast<int64_t>(g.a.size()), g.b.data(),
                        static_cast<int64_t>(g.b.size()), c.data(), static_cast<int64_t>(c.size()));
}

std::string gemm_mismatch(const std::vector<float>& got, const std::vector<float>& want) {
    for (size_t i = 0; i < want.size(); ++i)
        if (!(std::fabs(got[i] - want[i]) <= 1e-4 * std::max(1.0f, std::fabs(want[i]))))
            return "sgemm element " + std::to_string(i) + ": got " + std::to_string(got[i]) +
                   " want " + std::to_string(want[i]);
    return "";
}

// One thread keeps changing the budget (and reading it back) while the others
// run GEMMs, an elementwise op and convolution and pooling plans; every result
// must match its single-threaded one, and the budget must end as set.
// Under TSan only ops below the work of one thread (ThreadGrant:
// kFlopsPerThread) run, so that no budget lets OpenMP start a team; elsewhere
// larger GEMMs and a larger convolution take as many threads as the budget
// of the moment gives them.
TEST(ConcurrentBudget, changingTheBudgetUnderRunningCallers) {
    std::vector<GemmCase> gemms;
    gemms.push_back(gemm_case(24, FATHOM_GEMM_AUTO, 1600));     // 28 kflop: OpenBLAS
    gemms.push_back(gemm_case(40, FATHOM_GEMM_ONEDNN, 1700));   // 128 kflop
    if (!kTsan) {
        gemms.push_back(gemm_case(256, FATHOM_GEMM_ONEDNN, 1800));   // 34 MFLOP: 2 threads
        gemms.push_back(gemm_case(320, FATHOM_GEMM_OPENBLAS, 1900)); // 66 MFLOP: 4 threads
    }
    Cases plans_cases = conv_cases();
    plans_cases.resize(2);
    plans_cases.emplace_back(new PoolCase(2, 16, 9, 9, 3, 2, 1, FATHOM_POOL_MAX, FATHOM_F32, 2000));
    if (!kTsan)  // 2 * 8 * 64 * 24 * 24 * 64 * 9 = 340 MFLOP forward
        plans_cases.emplace_back(new ConvCase(8, 64, 24, 24, 64, 3, 1, 1, 1, true, FATHOM_F32, 2100));
    TestTensor exp_src = random_tensor(FATHOM_F32, {4096}, 2200, -3, 3);
    TestTensor exp_want = garbage(FATHOM_F32, {4096});
    std::vector<std::vector<TestTensor>> plan_want;
    {
        BudgetScope one(1);
        for (auto& g : gemms) {
            ASSERT_EQ(FATHOM_OK, run_gemm(g, g.want)) << fathom_last_error();
        }
        ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_EXP, exp_src.desc(), exp_want.desc(), 0, 0))
            << fathom_last_error();
        plan_want = single_threaded(plans_cases);
        if (HasFailure()) return;
    }
    int32_t saved = 0;
    ASSERT_EQ(FATHOM_OK, fathom_get_num_threads(&saved));
    const int32_t budgets[] = {1, 2, 3, 8, 2, 1, 16, 4};
    std::atomic<int> running{kCallers - 1};
    const int rounds = kTsan ? 4 : 8;
    const auto failures = run_concurrently(kCallers, [&](int t) -> std::string {
        if (t == 0) {  // the changer
            for (int i = 0; running.load() > 0; ++i) {
                const int32_t n = budgets[i % 8];
                if (fathom_set_num_threads(n) != FATHOM_OK) return "set_num_threads failed";
                int32_t got = 0;
                if (fathom_get_num_threads(&got) != FATHOM_OK) return "get_num_threads failed";
                bool known = false;
                for (int32_t b : budgets) known = known || b == got;
                if (!known) return "get_num_threads gave " + std::to_string(got);
                char info[4096];
                int64_t needed = 0;
                if (fathom_runtime_info(info, sizeof info, &needed) != FATHOM_OK)
                    return "runtime_info failed";
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
            return fathom_set_num_threads(saved) == FATHOM_OK ? "" : "set_num_threads failed";
        }
        struct Done {
            std::atomic<int>& running;
            ~Done() { --running; }
        } done{running};
        std::vector<float> c;
        std::vector<TestTensor> got;
        for (int it = 0; it < rounds; ++it) {
            for (const auto& g : gemms) {
                const fathom_status st = run_gemm(g, c);
                if (st != FATHOM_OK) return error_of("sgemm", st);
                const std::string miss = gemm_mismatch(c, g.want);
                if (!miss.empty()) return "m=" + std::to_string(g.p.m) + " " + miss;
            }
            TestTensor e = garbage(FATHOM_F32, {4096});
            fathom_status st = fathom_unary(FATHOM_UNARY_EXP, exp_src.desc(), e.desc(), 0, 0);
            if (st != FATHOM_OK) return error_of("unary(exp)", st);
            const std::string miss = storage_mismatch(e, exp_want, 1e-6, 1.0);
            if (!miss.empty()) return "exp: " + miss;
            const size_t i = static_cast<size_t>(t + it) % plans_cases.size();
            std::string failure = run_with_own_plan(*plans_cases[i], got);
            if (failure.empty()) failure = compare(*plans_cases[i], got, plan_want[i]);
            if (!failure.empty()) return failure;
        }
        return "";
    });
    EXPECT_TRUE(failures.empty()) << joined(failures);
    int32_t now = 0;
    ASSERT_EQ(FATHOM_OK, fathom_get_num_threads(&now));
    EXPECT_EQ(saved, now);
}

}  // namespace
