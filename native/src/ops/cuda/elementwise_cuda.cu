// fathom_unary and fathom_binary on a GPU (-DFATHOM_CUDA=ON): the scalar
// kernels of ops/elementwise.h (the same functors the CPU runs, compiled
// __host__ __device__), walked like the reference (ops/ref/elementwise_ref.cpp):
// one thread per element in a grid-stride loop, every operand's offset
// recomputed from its own strides, so broadcasts (stride 0), transposes and
// negative strides need no copies. Tested against the reference in
// tests/native/cuda_elementwise_test.cpp (label "gpu").
#include <cuda_runtime.h>

#include <algorithm>

#include "core/device.h"
#include "cuda/cuda_util.h"
#include "ops/elementwise.h"

namespace fathom {

namespace {

// The shape walked and one operand's strides, passed by value to the kernels.
struct Walk {
    int ndim;
    int64_t numel;
    int64_t shape[FATHOM_MAX_DIMS];
};
struct Strides {
    int64_t s[FATHOM_MAX_DIMS];
};

Walk walk_of(const TensorView& t) {
    Walk w{};
    w.ndim = t.ndim;
    w.numel = t.numel();
    for (int d = 0; d < t.ndim; ++d) w.shape[d] = t.shape[d];
    return w;
}
Strides strides_of(const TensorView& t) {
    Strides s{};
    for (int d = 0; d < t.ndim; ++d) s.s[d] = t.strides[d];
    return s;
}

// The element offset of row-major index `linear` under each of up to three
// stride sets (unused ones null).
__device__ inline void offsets(const Walk& w, int64_t linear, const Strides& s0, int64_t& o0,
                               const Strides* s1, int64_t* o1, const Strides* s2, int64_t* o2) {
    o0 = 0;
    if (o1) *o1 = 0;
    if (o2) *o2 = 0;
    for (int d = w.ndim - 1; d >= 0; --d) {
        const int64_t i = linear % w.shape[d];
        linear /= w.shape[d];
        o0 += i * s0.s[d];
        if (o1) *o1 += i * s1->s[d];
        if (o2) *o2 += i * s2->s[d];
    }
}

template <int Op, typename T>
__global__ void unary_map(Walk w, const T* src, Strides ss, T* dst, Strides ds, T alpha, T beta) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < w.numel;
         i += int64_t(blockDim.x) * gridDim.x) {
        int64_t od, os;
        offsets(w, i, ds, od, &ss, &os, nullptr, nullptr);
        dst[od] = unary_value<Op, T>(src[os], alpha, beta);
    }
}

template <typename D, typename S>
__global__ void copy_cast(Walk w, const S* src, Strides ss, D* dst, Strides ds) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < w.numel;
         i += int64_t(blockDim.x) * gridDim.x) {
        int64_t od, os;
        offsets(w, i, ds, od, &ss, &os, nullptr, nullptr);
        dst[od] = cast_value<D>(src[os]);
    }
}

// FILL writes alpha, RANGE alpha + linear * beta (linear: row-major over dst).
template <typename D>
__global__ void fill_range(Walk w, D* dst, Strides ds, double alpha, double beta, bool range) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < w.numel;
         i += int64_t(blockDim.x) * gridDim.x) {
        int64_t od;
        offsets(w, i, ds, od, nullptr, nullptr, nullptr, nullptr);
        dst[od] = cast_value<D>(range ? alpha + static_cast<double>(i) * beta : alpha);
    }
}

template <int Op, typename T, typename D>
__global__ void binary_map(Walk w, const T* a, Strides as, const T* b, Strides bs, D* dst,
                           Strides ds) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < w.numel;
         i += int64_t(blockDim.x) * gridDim.x) {
        int64_t od, oa, ob;
        offsets(w, i, ds, od, &as, &oa, &bs, &ob);
        dst[od] = static_cast<D>(binary_value<Op, T>(a[oa], b[ob]));
    }
}

constexpr int kThreads = 256;

// Blocks for n elements: enough to fill the GPU, capped (the loop strides).
unsigned blocks_for(int64_t n) {
    return static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535));
}

// Runs `launch(stream, blocks)` on the calling thread's stream of dst's
// device and waits for it, turning launch and kernel errors into Fathom errors.
template <typename Launch>
void run_on(const char* op, const TensorView& dst, Launch&& launch) {
    const int64_t n = dst.numel();
    if (n == 0) return;
    const int ordinal = device_ordinal(dst.device);
    check_cuda(cudaSetDevice(ordinal), op, "cudaSetDevice");
    cudaStream_t stream = cuda_stream(ordinal);
    launch(stream, blocks_for(n));
    check_cuda(cudaGetLastError(), op, "kernel launch");
    check_cuda(cudaStreamSynchronize(stream), op, "kernel");
}

}  // namespace

void unary_forward_cuda(int32_t op, const TensorView& src, const TensorView& dst, double alpha,
                        double beta) {
    const std::string name = std::string("unary(") + unary_op_name(op) + ")";
    const Walk w = walk_of(dst);
    const Strides ds = strides_of(dst);
    run_on(name.c_str(), dst, [&](cudaStream_t stream, unsigned blocks) {
        if (op == FATHOM_UNARY_FILL || op == FATHOM_UNARY_RANGE) {
            with_dtype(dst.dtype, [&](auto d) {
                using D = decltype(d);
                fill_range<D><<<blocks, kThreads, 0, stream>>>(
                    w, reinterpret_cast<D*>(dst.data), ds, alpha, beta, op == FATHOM_UNARY_RANGE);
            });
            return;
        }
        const Strides ss = strides_of(src);
        if (op == FATHOM_UNARY_COPY) {
            with_dtype(src.dtype, [&](auto s) {
                using S = decltype(s);
                with_dtype(dst.dtype, [&](auto d) {
                    using D = decltype(d);
                    copy_cast<D, S><<<blocks, kThreads, 0, stream>>>(
                        w, reinterpret_cast<const S*>(src.data), ss,
                        reinterpret_cast<D*>(dst.data), ds);
                });
            });
            return;
        }
        with_unary_op(op, [&](auto op_tag) {
            constexpr int Op = decltype(op_tag)::value;
            with_float_dtype(dst.dtype, [&](auto t) {
                using T = decltype(t);
                unary_map<Op, T><<<blocks, kThreads, 0, stream>>>(
                    w, reinterpret_cast<const T*>(src.data), ss, reinterpret_cast<T*>(dst.data),
                    ds, T(alpha), T(beta));
            });
        });
    });
}

void binary_forward_cuda(int32_t op, const TensorView& a, const TensorView& b,
                         const TensorView& dst) {
    const std::string name = std::string("binary(") + binary_op_name(op) + ")";
    const Walk w = walk_of(dst);
    const Strides as = strides_of(a), bs = strides_of(b), ds = strides_of(dst);
    run_on(name.c_str(), dst, [&](cudaStream_t stream, unsigned blocks) {
        with_binary_op(op, [&](auto op_tag) {
            constexpr int Op = decltype(op_tag)::value;
            with_float_dtype(a.dtype, [&](auto t) {
                using T = decltype(t);
                auto launch = [&](auto d) {
                    using D = decltype(d);
                    binary_map<Op, T, D><<<blocks, kThreads, 0, stream>>>(
                        w, reinterpret_cast<const T*>(a.data), as,
                        reinterpret_cast<const T*>(b.data), bs, reinterpret_cast<D*>(dst.data),
                        ds);
                };
                if constexpr (is_comparison(Op)) {
                    if (dst.dtype == FATHOM_BOOL) return launch(uint8_t{});
                }
                launch(T{});
            });
        });
    });
}

}  // namespace fathom
