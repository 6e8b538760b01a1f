package dev.fathom.linalg;

import dev.fathom.internal.nativ.Kernels;

/** Which native kernel computes a {@link Gemm}. */
public enum GemmBackend {
  /** Chosen per shape by the native core (oneDNN except for tiny products). */
  AUTO(Kernels.GEMM_AUTO),
  /** Naive loops accumulating in double: the specification, for tests. */
  REFERENCE(Kernels.GEMM_REFERENCE),
  /** OpenBLAS cblas_sgemm. */
  OPENBLAS(Kernels.GEMM_OPENBLAS),
  /** oneDNN matmul (AVX-512 JIT where the CPU has it). */
  ONEDNN(Kernels.GEMM_ONEDNN),
  /** CUDA; only in builds made with -Pcuda, on a machine with a GPU. */
  CUDA(Kernels.GEMM_CUDA);

  final int id;

  GemmBackend(int id) {
    this.id = id;
  }
}
