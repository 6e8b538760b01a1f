#include "core/threads.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
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

// Work per extra thread. The constant assumes idle workers sleep; when the user
// asked OpenMP to spin (GOMP_SPINCOUNT, or OMP_WAIT_POLICY=ACTIVE), a worker
// is usually still awake from the previous call and costs little to use:
// with GOMP_SPINCOUNT=3000, batch-1 ResNet-18 s2/s3 stride-2 convolutions
// (21 MFLOP, one thread before) went from 0.14/0.21 to 0.10-0.12 ms forward.
double flops_per_thread() {
    static const double value = [] {
        const char* spin = std::getenv("GOMP_SPINCOUNT");
        const char* policy = std::getenv("OMP_WAIT_POLICY");
        const bool spinning = (spin != nullptr && std::atoll(spin) > 0) ||
                              (policy != nullptr && std::strcmp(policy, "ACTIVE") == 0);
        return spinning ? kFlopsPerThread / 4 : kFlopsPerThread;
    }();
    return value;
}

ThreadGrant::ThreadGrant(double work_flops) {
    int callers = g_active_calls.fetch_add(1, std::memory_order_acq_rel) + 1;
    threads_ = std::max(1, num_threads() / callers);
    if (work_flops > 0.0) {
        const double useful = std::max(1.0, work_flops / flops_per_thread());
        if (useful < threads_) threads_ = static_cast<int>(useful);
    }
    apply_omp_threads(threads_);
}

ThreadGrant::~ThreadGrant() { g_active_calls.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace fathom
