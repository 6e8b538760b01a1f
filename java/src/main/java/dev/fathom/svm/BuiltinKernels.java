package dev.fathom.svm;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;

/** The built-in kernels behind {@link Kernel}'s factories, and their shared checks. */
final class BuiltinKernels {
  private BuiltinKernels() {}

  static final Kernel LINEAR = new Linear();

  /** x and z are floating-point matrices with the same number of columns. */
  static void checkPair(String op, Tensor x, Tensor z) {
    Inputs.requireMatrix(op, "x", x);
    Inputs.requireMatrix(op, "z", z);
    if (x.size(1) != z.size(1)) {
      throw new IllegalArgumentException(op + ": x " + Arrays.toString(x.shape()) + " and z "
          + Arrays.toString(z.shape()) + " differ in their number of features");
    }
    if (x.dtype() != z.dtype()) {
      throw new IllegalArgumentException(op + ": x is " + x.dtype() + " but z is " + z.dtype());
    }
  }

  private static void checkNorms(String op, Tensor z, Tensor norms) {
    if (norms == null || norms.dim() != 1 || norms.size(0) != z.size(0)) {
      throw new IllegalArgumentException(op + ": zSquaredNorms must be [" + z.size(0) + "] (Kernel.squaredNorms(z)), got "
          + (norms == null ? "null" : Arrays.toString(norms.shape())));
    }
  }

  /** x z^T: x [n, D], z [m, D] -> [n, m] (GEMM with z transposed, no copy). */
  private static Tensor gram(Tensor x, Tensor z) {
    return x.matmul(z.t());
  }

  static final class Linear implements Kernel {
    @Override
    public Tensor block(Tensor x, Tensor z, Tensor zSquaredNorms) {
      checkPair("Kernel.block (" + this + ")", x, z);
      try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        return scope.keep(gram(x, z));
      }
    }

    @Override
    public Tensor diagonal(Tensor x) {
      Inputs.requireMatrix("Kernel.diagonal (" + this + ")", "x", x);
      return Kernel.squaredNorms(x);
    }

    @Override
    public String toString() {
      return "linear";
    }
  }

  static final class Polynomial implements Kernel {
    private final int degree;
    private final double gamma;
    private final double coef0;

    Polynomial(int degree, double gamma, double coef0) {
      String op = "Kernel.polynomial";
      if (degree < 1) {
        throw new IllegalArgumentException(op + ": degree=" + degree + " must be >= 1");
      }
      Inputs.requirePositive(op, "gamma", gamma);
      if (!(coef0 >= 0) || !Double.isFinite(coef0)) {
        throw new IllegalArgumentException(op + ": coef0=" + coef0
            + " must be finite and >= 0 (a negative coef0 is not a positive semi-definite kernel)");
      }
      this.degree = degree;
      this.gamma = gamma;
      this.coef0 = coef0;
    }

    @Override
    public Tensor block(Tensor x, Tensor z, Tensor zSquaredNorms) {
      checkPair("Kernel.block (" + this + ")", x, z);
      try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        return scope.keep(apply(gram(x, z)));
      }
    }

    @Override
    public Tensor diagonal(Tensor x) {
      Inputs.requireMatrix("Kernel.diagonal (" + this + ")", "x", x);
      try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        return scope.keep(apply(Kernel.squaredNorms(x)));
      }
    }

    /** (gamma * dot + coef0)^degree, in place on the fresh dot-product buffer up to the power. */
    private Tensor apply(Tensor dot) {
      dot.mul_(gamma).add_(coef0);
      return degree == 1 ? dot : dot.pow(degree);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "polynomial(degree=%d, gamma=%s, coef0=%s)", degree, gamma, coef0);
    }
  }

  static final class Rbf implements Kernel {
    private final double gamma;

    Rbf(double gamma) {
      Inputs.requirePositive("Kernel.rbf", "gamma", gamma);
      this.gamma = gamma;
    }

    @Override
    public Tensor block(Tensor x, Tensor z, Tensor zSquaredNorms) {
      String op = "Kernel.block (" + this + ")";
      checkPair(op, x, z);
      checkNorms(op, z, zSquaredNorms);
      try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        // ||x - z||^2 = ||x||^2 + ||z||^2 - 2 x.z; rounding can make it slightly negative
        // for (near-)equal rows, hence the clamp. All in place on the one [n, m] buffer,
        // so a block needs two [n, m] buffers (this and exp's result).
        Tensor d = gram(x, z);
        d.mul_(-2).add_(Kernel.squaredNorms(x).unsqueeze(1)).add_(zSquaredNorms)
            .clamp_(0, Double.POSITIVE_INFINITY).mul_(-gamma);
        return scope.keep(d.exp());
      }
    }

    @Override
    public Tensor diagonal(Tensor x) {
      Inputs.requireMatrix("Kernel.diagonal (" + this + ")", "x", x);
      return Tensor.ones(x.dtype(), x.size(0));   // exp(-gamma * 0)
    }

    @Override
    public String toString() {
      return "rbf(gamma=" + gamma + ")";
    }
  }
}
