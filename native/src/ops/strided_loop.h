// The walk shared by the fast tensor kernels: up to four operands of one shape,
// with any strides, split into row-major ranges over threads.
//
// make_loop() drops size-1 dimensions and merges dimensions that are
// contiguous in every operand, so a dense tensor becomes one flat run and a
// row broadcast (b strides (0,1)) a sequence of dense rows. The kernel's body
// then sees only its innermost loop:
//   body(first, n, ptrs, strides): n elements, operand k at ptrs[k] and
//   ptrs[k] + i * strides[k] bytes; `first` is the chunk's linear index.
// Bodies test for unit and zero strides themselves so that those loops are the
// plain ones the compiler vectorises. Bodies must not throw (they run inside
// OpenMP regions); kernels validate everything before they start.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "core/tensor_desc.h"
#include "core/threads.h"

namespace fathom {

constexpr int kMaxOperands = 4;

struct StridedLoop {
    int operands = 0;
    int ndim = 1;  // >= 1: a scalar is one dimension of size 1
    int64_t numel = 1;
    int64_t shape[FATHOM_MAX_DIMS] = {};
    int64_t strides[kMaxOperands][FATHOM_MAX_DIMS] = {};  // bytes
    char* data[kMaxOperands] = {};
};

// operands[0] is the output and defines the shape; the others must have the same
// shape (or the same shape with size 1 where they are not walked; see reduce).
// keep_order == true walks in row-major order of that shape, so `first` is the
// row-major linear index (RANGE and random need it); false reorders dimensions
// so that the output is walked in memory order (a transposed output then still
// gets a unit-stride innermost loop).
StridedLoop make_loop(std::initializer_list<const TensorView*> operands, bool keep_order);

// Thread sizing. ThreadGrant wakes one more thread per kFlopsPerThread of work
// (core/threads.h: a wake costs ~50 us with passive waiting), so each kernel
// states its work as elements times a per-element cost in those units. On one
// core a memory-bound element (copy, add, relu, compare, sum, index move) costs
// ~0.1-0.4 ns and a transcendental one (exp, tanh, pow, a random normal) ~2 ns;
// on a 2-core CI container a 100k-element add took 10 us on one thread and
// 68 us on two. Hence one more thread per:
constexpr int64_t kCheapElementsPerThread = 262144;  // memory-bound ops
constexpr int64_t kCostlyElementsPerThread = 32768;  // transcendental ops

// Work estimate in ThreadGrant's units (flops) for `elements` elements.
inline double elementwise_work(int64_t elements, bool costly = false) {
    const double per_thread = costly ? kCostlyElementsPerThread : kCheapElementsPerThread;
    return static_cast<double>(elements) * (kFlopsPerThread / per_thread);
}

template <typename Body>
void run_range(const StridedLoop& loop, int64_t begin, int64_t end, Body& body) {
    const int last = loop.ndim - 1;
    int64_t index[FATHOM_MAX_DIMS];
    int64_t rest = begin;
    for (int d = last; d >= 0; --d) {
        index[d] = rest % loop.shape[d];
        rest /= loop.shape[d];
    }
    char* ptrs[kMaxOperands];
    int64_t inner[kMaxOperands];
    for (int k = 0; k < loop.operands; ++k) {
        ptrs[k] = loop.data[k];
        for (int d = 0; d <= last; ++d) ptrs[k] += index[d] * loop.strides[k][d];
        inner[k] = loop.strides[k][last];
    }
    for (int64_t pos = begin; pos < end;) {
        const int64_t n = std::min(end - pos, loop.shape[last] - index[last]);
        body(pos, n, static_cast<char* const*>(ptrs), static_cast<const int64_t*>(inner));
        pos += n;
        if (pos == end) break;
        // The row is finished: step to the start of the next one (odometer carry).
        for (int k = 0; k < loop.operands; ++k) ptrs[k] += n * inner[k];
        index[last] += n;
        for (int d = last; d > 0 && index[d] == loop.shape[d]; --d) {
            index[d] = 0;
            ++index[d - 1];
            for (int k = 0; k < loop.operands; ++k)
                ptrs[k] += loop.strides[k][d - 1] - loop.shape[d] * loop.strides[k][d];
        }
    }
}

// Runs body over the whole loop on `threads` threads, one contiguous range each.
template <typename Body>
void run_loop(const StridedLoop& loop, int threads, Body&& body) {
    if (loop.numel == 0) return;
    const int64_t chunks = std::min<int64_t>(threads, loop.numel);
    if (chunks <= 1) {
        run_range(loop, 0, loop.numel, body);
        return;
    }
    const int64_t base = loop.numel / chunks, extra = loop.numel % chunks;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static, 1)
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t begin = c * base + std::min(c, extra);
        run_range(loop, begin, begin + base + (c < extra ? 1 : 0), body);
    }
}

}  // namespace fathom
