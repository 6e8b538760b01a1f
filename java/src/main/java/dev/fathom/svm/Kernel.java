package dev.fathom.svm;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;

/**
 * A positive semi-definite kernel {@code k(x, z) = <phi(x), phi(z)>}, evaluated without
 * forming phi (the notes' kernel trick). Every kernel here is a function of the inner
 * products {@code x . z} and the squared norms, so a block of kernel values is one GEMM
 * ({@link Tensor#matmul}, the native path) plus elementwise ops.
 *
 * <pre>{@code
 * Kernel k = Kernel.rbf(0.5);
 * Tensor gram = k.matrix(x, z, 128);   // [n, m], computed 128 rows of x at a time
 * }</pre>
 *
 * <p>Memory: {@link #matrix(Tensor, Tensor, int)} computes {@code blockRows} rows at a
 * time, so its temporaries are bounded by {@code blockRows * m} values whatever n is
 * (the [n, m] result itself is the caller's). The SVMs use {@link #block} directly and
 * never hold more than one block. Kernel values are not differentiable (no graph is
 * recorded).
 */
public interface Kernel {
  /** Rows per block when none is given. */
  int DEFAULT_BLOCK_ROWS = 256;

  /**
   * {@code k(x_i, z_j)} for every pair of rows: x [n, D], z [m, D] -> [n, m], in their
   * dtype. {@code zSquaredNorms} is {@code ||z_j||^2} as [m] ({@link #squaredNorms}),
   * computed once by the caller for all blocks; kernels that do not need it ignore it.
   */
  Tensor block(Tensor x, Tensor z, Tensor zSquaredNorms);

  /** {@code k(x_i, x_i)} for every row: x [n, D] -> [n]. */
  Tensor diagonal(Tensor x);

  /** {@code k(x_i, z_j)}: x [n, D], z [m, D] -> [n, m], {@value #DEFAULT_BLOCK_ROWS} rows at a time. */
  default Tensor matrix(Tensor x, Tensor z) {
    return matrix(x, z, DEFAULT_BLOCK_ROWS);
  }

  /**
   * {@code k(x_i, z_j)}: x [n, D], z [m, D] -> [n, m], computed {@code blockRows} rows of x
   * at a time (the same values as one block: each block is the same GEMM on fewer rows).
   */
  default Tensor matrix(Tensor x, Tensor z, int blockRows) {
    String op = "Kernel.matrix (" + this + ")";
    BuiltinKernels.checkPair(op, x, z);
    if (blockRows < 1) {
      throw new IllegalArgumentException(op + ": blockRows=" + blockRows + " must be >= 1");
    }
    long n = x.size(0);
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor out = Tensor.empty(x.dtype(), n, z.size(0));
      Tensor norms = squaredNorms(z);
      for (long start = 0; start < n; start += blockRows) {
        long rows = Math.min(blockRows, n - start);
        try (Scope blockScope = Scope.open()) {
          out.narrow(0, start, rows).copy_(block(x.narrow(0, start, rows), z, norms));
        }
      }
      return scope.keep(out);
    }
  }

  /** {@code ||x_i||^2} for every row: x [n, D] -> [n]. */
  static Tensor squaredNorms(Tensor x) {
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      return scope.keep(x.square().sum(1, false));
    }
  }

  /** {@code k(x, z) = x . z}. */
  static Kernel linear() {
    return BuiltinKernels.LINEAR;
  }

  /**
   * {@code k(x, z) = (gamma x . z + coef0)^degree}: the inner product of all monomials of
   * degree <= {@code degree}, weighted (see the class test for the explicit feature map).
   * Needs degree >= 1, gamma > 0 and coef0 >= 0 (a negative coef0 does not give a positive
   * semi-definite kernel in general).
   */
  static Kernel polynomial(int degree, double gamma, double coef0) {
    return new BuiltinKernels.Polynomial(degree, gamma, coef0);
  }

  /**
   * The Gaussian RBF kernel {@code k(x, z) = exp(-gamma ||x - z||^2)}, gamma > 0, with
   * {@code ||x - z||^2 = ||x||^2 + ||z||^2 - 2 x . z} (one GEMM; clamped at 0 against rounding).
   */
  static Kernel rbf(double gamma) {
    return new BuiltinKernels.Rbf(gamma);
  }
}
