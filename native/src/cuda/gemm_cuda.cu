// CUDA backend for GEMM (built only with -DFATHOM_CUDA=ON).
// The API takes host buffers, so a call copies A, B (and C when beta != 0) to
// the device, runs one kernel launch over all batch entries, and copies C back.
// With cuBLAS found at configure time (FATHOM_WITH_CUBLAS) the product runs in
// cublasSgemmStridedBatched; otherwise in the tiled kernel below, which is
// also the path the GPU tests compare against the CPU reference.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "core/error.h"
#include "ops/gemm.h"

#ifdef FATHOM_WITH_CUBLAS
#include <cublas_v2.h>
#endif

namespace fathom {

namespace {

constexpr int kTile = 16;

void check_cuda(cudaError_t err, const char* what) {
    if (err != cudaSuccess)
        fail(FATHOM_BACKEND_ERROR, "sgemm[cuda]: ", what, ": ", cudaGetErrorString(err));
}

// One thread per C element, K walked in kTile-wide shared-memory tiles.
// blockIdx.z is the batch entry.
__global__ void sgemm_tiled(int64_t m, int64_t n, int64_t k, float alpha, float beta,
                            const float* a, int64_t lda, int64_t stride_a, bool trans_a,
                            const float* b, int64_t ldb, int64_t stride_b, bool trans_b,
                            float* c, int64_t ldc, int64_t stride_c) {
    __shared__ float tile_a[kTile][kTile];
    __shared__ float tile_b[kTile][kTile];
    const int64_t batch = blockIdx.z;
    const float* ai = a + batch * stride_a;
    const float* bi = b + batch * stride_b;
    float* ci = c + batch * stride_c;
    const int64_t row = static_cast<int64_t>(blockIdx.y) * kTile + threadIdx.y;
    const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + threadIdx.x;
    float acc = 0.0f;
    for (int64_t q0 = 0; q0 < k; q0 += kTile) {
        const int64_t qa = q0 + threadIdx.x, qb = q0 + threadIdx.y;
        tile_a[threadIdx.y][threadIdx.x] =
            (row < m && qa < k) ? (trans_a ? ai[qa * lda + row] : ai[row * lda + qa]) : 0.0f;
        tile_b[threadIdx.y][threadIdx.x] =
            (qb < k && col < n) ? (trans_b ? bi[col * ldb + qb] : bi[qb * ldb + col]) : 0.0f;
        __syncthreads();
        for (int q = 0; q < kTile; ++q) acc += tile_a[threadIdx.y][q] * tile_b[q][threadIdx.x];
        __syncthreads();
    }
    if (row < m && col < n) {
        float& out = ci[row * ldc + col];
        out = alpha * acc + (beta == 0.0f ? 0.0f : beta * out);
    }
}

struct DeviceBuffer {
    float* ptr = nullptr;
    explicit DeviceBuffer(int64_t elements) {
        if (elements > 0)
            check_cuda(cudaMalloc(&ptr, static_cast<size_t>(elements) * sizeof(float)), "cudaMalloc");
    }
    ~DeviceBuffer() { if (ptr) cudaFree(ptr); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

bool cuda_gemm_available() {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

void gemm_forward_cuda(const fathom_gemm_params& p, const float* a, const float* b, float* c) {
    const int64_t a_len = gemm_required_len(p.batch, p.stride_a, p.trans_a ? p.k : p.m,
                                            p.trans_a ? p.m : p.k, p.lda);
    const int64_t b_len = gemm_required_len(p.batch, p.stride_b, p.trans_b ? p.n : p.k,
                                            p.trans_b ? p.k : p.n, p.ldb);
    const int64_t c_len = gemm_required_len(p.batch, p.stride_c, p.m, p.n, p.ldc);
    DeviceBuffer da(a_len), db(b_len), dc(c_len);
    check_cuda(cudaMemcpy(da.ptr, a, a_len * sizeof(float), cudaMemcpyHostToDevice), "copy A");
    check_cuda(cudaMemcpy(db.ptr, b, b_len * sizeof(float), cudaMemcpyHostToDevice), "copy B");
    // C is copied in even when beta == 0: rows are strided (ldc > n), and the
    // gaps between them must come back unchanged.
    check_cuda(cudaMemcpy(dc.ptr, c, c_len * sizeof(float), cudaMemcpyHostToDevice), "copy C");
#ifdef FATHOM_WITH_CUBLAS
    // cuBLAS is column-major: row-major C = op(A) op(B) is column-major
    // C^T = op(B)^T op(A)^T, i.e. swap the operands and m/n.
    static thread_local cublasHandle_t handle = nullptr;
    if (!handle && cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS)
        fail(FATHOM_BACKEND_ERROR, "sgemm[cuda]: cublasCreate failed");
    const cublasStatus_t st = cublasSgemmStridedBatched(
        handle, p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
        static_cast<int>(p.n), static_cast<int>(p.m), static_cast<int>(p.k), &p.alpha, db.ptr,
        static_cast<int>(p.ldb), p.stride_b, da.ptr, static_cast<int>(p.lda), p.stride_a, &p.beta,
        dc.ptr, static_cast<int>(p.ldc), p.stride_c, static_cast<int>(p.batch));
    if (st != CUBLAS_STATUS_SUCCESS)
        fail(FATHOM_BACKEND_ERROR, "sgemm[cuda]: cublasSgemmStridedBatched failed with status ",
             static_cast<int>(st), " (", describe_gemm(p), ")");
#else
    if (p.batch > 65535)
        fail(FATHOM_UNSUPPORTED, "sgemm[cuda]: batch above 65535 (", describe_gemm(p), ")");
    dim3 block(kTile, kTile);
    dim3 grid(static_cast<unsigned>((p.n + kTile - 1) / kTile),
              static_cast<unsigned>((p.m + kTile - 1) / kTile), static_cast<unsigned>(p.batch));
    sgemm_tiled<<<grid, block>>>(p.m, p.n, p.k, p.alpha, p.beta, da.ptr, p.lda, p.stride_a,
                                 p.trans_a != 0, db.ptr, p.ldb, p.stride_b, p.trans_b != 0,
                                 dc.ptr, p.ldc, p.stride_c);
    check_cuda(cudaGetLastError(), "kernel launch");
#endif
    check_cuda(cudaMemcpy(c, dc.ptr, c_len * sizeof(float), cudaMemcpyDeviceToHost), "copy C back");
}

int cuda_device_count() {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

}  // namespace fathom
