#include "core/threads.h"

#include <algorithm>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

// Declared by hand: the OpenMP runtime is the libgomp that ships with oneDNN,
// and linking its omp.h-less jar must not pull a second runtime in.
extern "C" {
void omp_set_num_threads(int);
}

namespace fathom {

namespace {
std::atomic<int> g_budget{0};
std::atomic<int> g_active_calls{0};
thread_local int tls_omp_threads = -1;
}  // namespace

int default_num_threads() {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

int num_threads() {
    int n = g_budget.load(std::memory_order_relaxed);
    if (n <= 0) {
        int expected = 0;
        n = default_num_threads();
        if (!g_budget.compare_exchange_strong(expected, n)) n = expected;
    }
    return n;
}

void set_num_threads(int n) { g_budget.store(std::max(1, n), std::memory_order_relaxed); }

void apply_omp_threads(int n) {
    if (tls_omp_threads != n) {
        omp_set_num_threads(n);
        tls_omp_threads = n;
    }
}

ThreadGrant::ThreadGrant(double work_flops) {
    int callers = g_active_calls.fetch_add(1, std::memory_order_acq_rel) + 1;
    threads_ = std::max(1, num_threads() / callers);
    if (work_flops > 0.0) {
        const double useful = std::max(1.0, work_flops / kFlopsPerThread);
        if (useful < threads_) threads_ = static_cast<int>(useful);
    }
    apply_omp_threads(threads_);
}

ThreadGrant::~ThreadGrant() { g_active_calls.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace fathom
