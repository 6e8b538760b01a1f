// Intra-op thread budget shared by oneDNN (GNU OpenMP) and OpenBLAS (pthreads).
//
// One process-wide budget n (fathom_set_num_threads). A native call opens a
// ThreadGrant, which counts concurrent callers and gives this call
// max(1, n / callers) threads, then applies that to the calling thread's
// OpenMP ICV (omp_set_num_threads is per thread in libgomp, so a JVM thread
// that never called it would otherwise use every core) and to OpenBLAS.
// k concurrent JVM threads therefore run about n + k native threads, never k * n.
#pragma once

#include <atomic>

namespace fathom {

int default_num_threads();
int num_threads();
void set_num_threads(int n);

class ThreadGrant {
public:
    ThreadGrant();
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
