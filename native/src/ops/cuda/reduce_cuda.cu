// fathom_reduce on a GPU (-DFATHOM_CUDA=ON): the reference algorithm
// (ops/ref/reduce_ref.cpp) with one thread per dst element, which walks its
// reduced elements in row-major order and accumulates in double as the host
// does, so results match the reference's order of additions. Simple and
// exact first; a tree reduction for long reduced extents comes with the
// benchmarks on a GPU. Tested in tests/native/cuda_elementwise_test.cpp.
#include <cuda_runtime.h>

#include <algorithm>

#include "core/device.h"
#include "cuda/cuda_util.h"
#include "ops/op_table.h"
#include "ops/reduce.h"

namespace fathom {

namespace {

struct ReduceShape {
    int ndim;
    int64_t dst_numel;
    int64_t count;                     // reduced elements per dst element
    int reduced_dim;                   // the last reduced dim (positions of max/min), -1 if none
    int64_t dst_shape[FATHOM_MAX_DIMS];
    int64_t rshape[FATHOM_MAX_DIMS];   // reduced sizes, 1 elsewhere
    int64_t src_strides[FATHOM_MAX_DIMS];
    int64_t dst_strides[FATHOM_MAX_DIMS];
    int64_t idx_strides[FATHOM_MAX_DIMS];
};

template <bool IsMax, typename T>
__device__ inline bool replaces(T x, T best) {
    if (best != best) return false;
    if (x != x) return true;
    return IsMax ? x > best : x < best;
}

template <typename T>
__global__ void reduce_kernel(int32_t op, ReduceShape s, const T* src, T* dst, int64_t* indices) {
    for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < s.dst_numel;
         o += int64_t(blockDim.x) * gridDim.x) {
        int64_t out[FATHOM_MAX_DIMS];
        int64_t rest = o;
        for (int d = s.ndim - 1; d >= 0; --d) {
            out[d] = rest % s.dst_shape[d];
            rest /= s.dst_shape[d];
        }
        int64_t base = 0;
        for (int d = 0; d < s.ndim; ++d)
            if (s.rshape[d] == 1) base += out[d] * s.src_strides[d];
        double acc = op == FATHOM_REDUCE_PROD ? 1.0 : 0.0;
        T best = T(0);
        int64_t best_pos = -1;
        for (int64_t k = 0; k < s.count; ++k) {
            int64_t off = base, r = k, pos = 0;
            for (int d = s.ndim - 1; d >= 0; --d) {
                if (s.rshape[d] == 1) continue;
                const int64_t i = r % s.rshape[d];
                r /= s.rshape[d];
                off += i * s.src_strides[d];
                if (d == s.reduced_dim) pos = i;
            }
            const T x = src[off];
            switch (op) {
                case FATHOM_REDUCE_SUM:
                case FATHOM_REDUCE_MEAN: acc += x; break;
                case FATHOM_REDUCE_PROD: acc *= x; break;
                case FATHOM_REDUCE_MAX:
                    if (best_pos < 0 || replaces<true>(x, best)) best = x, best_pos = pos;
                    break;
                case FATHOM_REDUCE_MIN:
                    if (best_pos < 0 || replaces<false>(x, best)) best = x, best_pos = pos;
                    break;
            }
        }
        int64_t dst_off = 0, idx_off = 0;
        for (int d = 0; d < s.ndim; ++d) {
            dst_off += out[d] * s.dst_strides[d];
            idx_off += out[d] * s.idx_strides[d];
        }
        switch (op) {
            case FATHOM_REDUCE_SUM:
            case FATHOM_REDUCE_PROD: dst[dst_off] = static_cast<T>(acc); break;
            case FATHOM_REDUCE_MEAN:
                dst[dst_off] = static_cast<T>(acc / static_cast<double>(s.count));
                break;
            default:
                dst[dst_off] = best;
                if (indices) indices[idx_off] = best_pos;
        }
    }
}

}  // namespace

void reduce_forward_cuda(int32_t op, const TensorView& src, const TensorView& dst,
                         const TensorView* indices) {
    const std::string name = std::string("reduce(") + reduce_op_name(op) + ")";
    ReduceShape s{};
    s.ndim = src.ndim;
    s.dst_numel = dst.numel();
    s.count = 1;
    s.reduced_dim = -1;
    for (int d = 0; d < src.ndim; ++d) {
        const bool reduced = dst.shape[d] == 1 && src.shape[d] != 1;
        s.rshape[d] = reduced ? src.shape[d] : 1;
        if (reduced) {
            s.reduced_dim = d;
            s.count *= src.shape[d];
        }
        s.dst_shape[d] = dst.shape[d];
        s.src_strides[d] = src.strides[d];
        s.dst_strides[d] = dst.strides[d];
        s.idx_strides[d] = indices ? indices->strides[d] : 0;
    }
    if (s.dst_numel == 0) return;
    const int ordinal = device_ordinal(dst.device);
    check_cuda(cudaSetDevice(ordinal), name.c_str(), "cudaSetDevice");
    cudaStream_t stream = cuda_stream(ordinal);
    constexpr int kThreads = 128;
    const unsigned blocks =
        static_cast<unsigned>(std::min<int64_t>((s.dst_numel + kThreads - 1) / kThreads, 65535));
    with_float_dtype(src.dtype, [&](auto t) {
        using T = decltype(t);
        reduce_kernel<T><<<blocks, kThreads, 0, stream>>>(
            op, s, reinterpret_cast<const T*>(src.data), reinterpret_cast<T*>(dst.data),
            indices ? reinterpret_cast<int64_t*>(indices->data) : nullptr);
    });
    check_cuda(cudaGetLastError(), name.c_str(), "kernel launch");
    check_cuda(cudaStreamSynchronize(stream), name.c_str(), "kernel");
}

}  // namespace fathom
