// GEMM: validation, backend dispatch and the backend kernels' signatures.
// All kernels implement the contract of fathom_gemm_params in fathom.h
// (row-major, strided-batched, C = alpha*op(A)*op(B) + beta*C, beta == 0
// overwrites C). Kernels may assume validate_gemm() has passed.
#pragma once

#include <cstdint>
#include <string>

#include "fathom/fathom.h"

namespace fathom {

// Throws fathom::Error (FATHOM_INVALID_ARGUMENT) naming `op` and the sizes when
// the params are inconsistent or a buffer is null or shorter than required.
void validate_gemm(const char* op, const fathom_gemm_params& p, const void* a, int64_t a_len,
                   const void* b, int64_t b_len, const void* c, int64_t c_len);

// Minimum number of elements a buffer must hold for the given matrix layout.
int64_t gemm_required_len(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld);

std::string describe_gemm(const fathom_gemm_params& p);

// Dispatches to a backend (AUTO resolved here); handles the degenerate cases
// (empty output, k == 0, alpha == 0) once, so kernels never see them.
void sgemm(fathom_gemm_backend backend, const fathom_gemm_params& p, const float* a,
           const float* b, float* c);

// The backend AUTO chooses for this shape.
fathom_gemm_backend resolve_gemm_backend(const fathom_gemm_params& p);

// --- kernels -------------------------------------------------------------
void gemm_forward_ref(const fathom_gemm_params& p, const float* a, const float* b, float* c);
void gemm_forward_ref(const fathom_gemm_params& p, const double* a, const double* b, double* c);
// True when OpenBLAS picked an AVX-512 core at run time (not e.g. OPENBLAS_CORETYPE=Haswell).
bool openblas_has_avx512_kernels();
void gemm_forward_openblas(const fathom_gemm_params& p, const float* a, const float* b, float* c,
                           int threads);
void gemm_forward_dnnl(const fathom_gemm_params& p, const float* a, const float* b, float* c,
                       int threads);

// C = beta * C over the (batch, m, n) output; beta == 0 writes zeros.
void gemm_scale_output(const fathom_gemm_params& p, float* c);

bool cuda_gemm_available();
int cuda_device_count();
void gemm_forward_cuda(const fathom_gemm_params& p, const float* a, const float* b, float* c);

}  // namespace fathom
