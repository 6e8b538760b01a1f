// Many concurrent callers: results stay correct and the shared thread budget
// keeps the process from growing a full OpenMP team per calling thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gemm_reference.h"
#include "runtime_info_util.h"

using namespace fathom_test;

namespace {

int os_thread_count() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

void hammer(fathom_gemm_backend backend, int callers, int iterations, std::atomic<int>& failures,
            std::atomic<int>& peak) {
    std::vector<std::thread> threads;
    for (int t = 0; t < callers; ++t)
        threads.emplace_back([&, t] {
            auto p = make_params(48 + t, 40, 33, t % 2, (t / 2) % 2);
            auto a = random_vector(len_a(p), t), b = random_vector(len_b(p), t + 100);
            std::vector<float> c(len_c(p), 0.0f);
            const Oracle o = reference(p, a, b, c);
            for (int i = 0; i < iterations; ++i) {
                std::fill(c.begin(), c.end(), 0.0f);
                if (fathom_sgemm(backend, &p, a.data(), a.size(), b.data(), b.size(), c.data(),
                                 c.size()) != FATHOM_OK) {
                    ++failures;
                    return;
                }
                for (size_t j = 0; j < c.size(); ++j)
                    if (std::fabs(c[j] - o.expected[j]) > o.bound[j]) {
                        ++failures;
                        return;
                    }
                int now = os_thread_count();
                int prev = peak.load();
                while (now > prev && !peak.compare_exchange_weak(prev, now)) {}
            }
        });
    for (auto& t : threads) t.join();
}

// With idle workers sleeping (ctest sets OMP_WAIT_POLICY=PASSIVE here), a call
// wakes one more thread per 16 MFLOP of work; threads_spin_test.cpp checks the
// spinning case.
TEST(Threads, workPerThreadAssumesSleepingWorkers) {
    if (std::getenv("GOMP_SPINCOUNT") != nullptr) GTEST_SKIP() << "GOMP_SPINCOUNT is set";
    EXPECT_DOUBLE_EQ(16e6, std::stod(runtime_info_value("threads.flops_per_thread")));
}

TEST(Threads, concurrentCallersGetCorrectResults) {
    for (auto backend : {FATHOM_GEMM_ONEDNN, FATHOM_GEMM_OPENBLAS}) {
        std::atomic<int> failures{0}, peak{0};
        hammer(backend, 8, 50, failures, peak);
        EXPECT_EQ(0, failures.load()) << "backend " << backend;
    }
}

TEST(Threads, budgetOfOneAddsNoOpenMpThreadsPerCaller) {
    int32_t saved = 0;
    fathom_get_num_threads(&saved);
    ASSERT_EQ(FATHOM_OK, fathom_set_num_threads(1));
    // A helper thread that a runtime starts with the process's first extra
    // thread (ThreadSanitizer's background thread) belongs in the baseline.
    std::thread([] {}).join();
    const int baseline = os_thread_count();
    std::atomic<int> failures{0}, peak{0};
    hammer(FATHOM_GEMM_ONEDNN, 8, 30, failures, peak);
    fathom_set_num_threads(saved);
    EXPECT_EQ(0, failures.load());
    // 8 caller threads and nothing else: without the shared budget each caller
    // would start its own OpenMP team of (cores - 1) workers.
    EXPECT_LE(peak.load(), baseline + 8) << "baseline " << baseline;
}

}  // namespace
