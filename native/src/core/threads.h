// Intra-op thread budget shared by oneDNN (GNU OpenMP) and OpenBLAS (pthreads).
//
// One process-wide budget n (fathom_set_num_threads). A native call opens a
// ThreadGrant, which counts concurrent callers and gives this call
// max(1, n / callers) threads, then applies that to the calling thread's
// OpenMP ICV (omp_set_num_threads is per thread in libgomp, so a JVM thread
// that never called it would otherwise use every core) and to OpenBLAS.
// k concurrent JVM threads therefore run about n + k native threads, never k * n.
//
// Small calls also get fewer threads: idle workers sleep (passive waiting, so
// that Fathom does not starve the service around it), and waking one costs
// ~50 us on the machines we measured, as much as 8 MFLOP of single-core work.
// A call therefore uses one thread per kFlopsPerThread of work.
#pragma once

#include <atomic>

namespace fathom {

int default_num_threads();
int num_threads();
void set_num_threads(int n);

// Work (in flops) that justifies waking one more worker thread; see README
// "Threads" for the measurement behind it.
constexpr double kFlopsPerThread = 16e6;
// What ThreadGrant uses: kFlopsPerThread, or a quarter of it when OpenMP was
// told to spin (read once from GOMP_SPINCOUNT / OMP_WAIT_POLICY).
double flops_per_thread();

class ThreadGrant {
public:
    // work_flops <= 0 means "unknown": use the whole share of the budget.
    explicit ThreadGrant(double work_flops = 0.0);
    ~ThreadGrant();
    ThreadGrant(const ThreadGrant&) = delete;
    ThreadGrant& operator=(const ThreadGrant&) = delete;
    int threads() const { return threads_; }

private:
    int threads_;
};

// Applies a thread count to the calling thread's OpenMP team size (cached per thread).
void apply_omp_threads(int n);

}  // namespace fathom
