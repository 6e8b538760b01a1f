// fathom_matmul on a GPU (-DFATHOM_CUDA=ON): dst (..., m, n) = a (..., m, k) @
// b (..., k, n) over strided views, as the reference (ops/ref/matmul_ref.cpp)
// defines it. A 16x16 shared-memory tiled kernel whose tile loads follow each
// operand's own strides, so transposed views (the backward's a^T, b^T) and
// stride-0 batch broadcasts need no copies; blockIdx.z walks the flattened
// batch. F32 accumulates in float, F64 in double. cuBLAS for contiguous
// operands comes with the benchmarks on a GPU. Tested against the reference
// in tests/native/cuda_elementwise_test.cpp.
#include <cuda_runtime.h>

#include <algorithm>

#include "core/device.h"
#include "cuda/cuda_util.h"
#include "ops/matmul.h"

namespace fathom {

namespace {

constexpr int kTile = 16;

struct MatmulShape {
    int batch_dims;
    int64_t m, n, k;
    int64_t batch_shape[FATHOM_MAX_DIMS];
    int64_t a_batch[FATHOM_MAX_DIMS], b_batch[FATHOM_MAX_DIMS], d_batch[FATHOM_MAX_DIMS];
    int64_t a_rs, a_cs, b_rs, b_cs, d_rs, d_cs;  // row and column strides of each matrix
};

template <typename T>
__global__ void matmul_tiled(MatmulShape s, const T* a, const T* b, T* dst, int64_t batch0) {
    __shared__ T tile_a[kTile][kTile];
    __shared__ T tile_b[kTile][kTile];
    int64_t rest = batch0 + blockIdx.z, oa = 0, ob = 0, od = 0;
    for (int d = s.batch_dims - 1; d >= 0; --d) {
        const int64_t i = rest % s.batch_shape[d];
        rest /= s.batch_shape[d];
        oa += i * s.a_batch[d];
        ob += i * s.b_batch[d];
        od += i * s.d_batch[d];
    }
    const int64_t row = blockIdx.y * int64_t(kTile) + threadIdx.y;
    const int64_t col = blockIdx.x * int64_t(kTile) + threadIdx.x;
    T acc = T(0);
    for (int64_t q0 = 0; q0 < s.k; q0 += kTile) {
        const int64_t qa = q0 + threadIdx.x, qb = q0 + threadIdx.y;
        tile_a[threadIdx.y][threadIdx.x] =
            row < s.m && qa < s.k ? a[oa + row * s.a_rs + qa * s.a_cs] : T(0);
        tile_b[threadIdx.y][threadIdx.x] =
            qb < s.k && col < s.n ? b[ob + qb * s.b_rs + col * s.b_cs] : T(0);
        __syncthreads();
        for (int q = 0; q < kTile; ++q) acc += tile_a[threadIdx.y][q] * tile_b[q][threadIdx.x];
        __syncthreads();
    }
    if (row < s.m && col < s.n) dst[od + row * s.d_rs + col * s.d_cs] = acc;
}

}  // namespace

void matmul_forward_cuda(const MatmulArgs& args) {
    const TensorView &a = args.a, &b = args.b, &dst = args.dst;
    const int nd = dst.ndim;
    MatmulShape s{};
    s.batch_dims = nd - 2;
    s.m = dst.shape[nd - 2];
    s.n = dst.shape[nd - 1];
    s.k = a.shape[nd - 1];
    int64_t batch = 1;
    for (int d = 0; d < nd - 2; ++d) {
        s.batch_shape[d] = dst.shape[d];
        s.a_batch[d] = a.strides[d];
        s.b_batch[d] = b.strides[d];
        s.d_batch[d] = dst.strides[d];
        batch *= dst.shape[d];
    }
    s.a_rs = a.strides[nd - 2], s.a_cs = a.strides[nd - 1];
    s.b_rs = b.strides[nd - 2], s.b_cs = b.strides[nd - 1];
    s.d_rs = dst.strides[nd - 2], s.d_cs = dst.strides[nd - 1];
    if (batch == 0 || s.m == 0 || s.n == 0) return;
    if (s.m > int64_t(65535) * kTile || s.n > int64_t(2147483647) * kTile)
        fail(FATHOM_UNSUPPORTED, "matmul[cuda]: ", s.m, " rows exceed the grid (dst ",
             shape_str(dst), ")");
    const int ordinal = device_ordinal(dst.device);
    check_cuda(cudaSetDevice(ordinal), "matmul", "cudaSetDevice");
    cudaStream_t stream = cuda_stream(ordinal);
    const dim3 block(kTile, kTile);
    with_float_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        // gridDim.z is at most 65535: larger batches go in slices.
        for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
            const dim3 grid(static_cast<unsigned>((s.n + kTile - 1) / kTile),
                            static_cast<unsigned>((s.m + kTile - 1) / kTile),
                            static_cast<unsigned>(std::min<int64_t>(batch - b0, 65535)));
            matmul_tiled<T><<<grid, block, 0, stream>>>(s, reinterpret_cast<const T*>(a.data),
                                                        reinterpret_cast<const T*>(b.data),
                                                        reinterpret_cast<T*>(dst.data), b0);
        }
    });
    check_cuda(cudaGetLastError(), "matmul", "kernel launch");
    check_cuda(cudaStreamSynchronize(stream), "matmul", "kernel");
}

}  // namespace fathom
