package dev.fathom.svm;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/** Argument checks shared by the kernels and the SVMs; messages name the op and the shapes. */
final class Inputs {
  private Inputs() {}

  static String shape(Tensor t) {
    return Arrays.toString(t.shape());
  }

  /** A floating-point [N, D] matrix with N >= 1 and D >= 1. */
  static void requireMatrix(String op, String name, Tensor x) {
    if (x == null) {
      throw new IllegalArgumentException(op + ": " + name + " must not be null");
    }
    if (x.isClosed()) {
      throw new IllegalStateException(op + ": " + name + " " + shape(x) + " was closed");
    }
    if (x.dim() != 2 || !x.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": " + name + " must be a floating-point [N, D] matrix, got "
          + shape(x) + " " + x.dtype());
    }
    if (x.size(0) < 1 || x.size(1) < 1) {
      throw new IllegalArgumentException(op + ": " + name + " " + shape(x) + " has no rows or no features");
    }
  }

  // Rows checked per native pass, so the check's temporary stays near 4M values.
  private static final long CHECK_VALUES = 1L << 22;

  /** Every element finite: native passes (0 * x is NaN exactly where x is NaN or infinite). */
  static void requireFinite(String op, String name, Tensor x) {
    boolean finite = true;
    long rows = x.dim() == 0 ? 1 : x.size(0);
    long perRow = rows == 0 ? 1 : Math.max(1, x.numel() / rows);
    long step = Math.max(1, CHECK_VALUES / perRow);
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      for (long start = 0; start < rows && finite; start += step) {
        try (Scope chunk = Scope.open()) {
          Tensor part = x.dim() == 0 ? x : x.narrow(0, start, Math.min(step, rows - start));
          finite = !Double.isNaN(part.mul(0.0).sum().item());
        }
      }
    }
    if (finite) {
      return;
    }
    double[] v = x.toDoubleArray();            // only on the error path, to say where
    long cols = x.dim() == 2 ? x.size(1) : 1;
    for (int i = 0; i < v.length; i++) {
      if (!Double.isFinite(v[i])) {
        String at = x.dim() == 2 ? "[" + i / cols + ", " + i % cols + "]" : "[" + i + "]";
        throw new IllegalArgumentException(op + ": " + name + " " + shape(x) + " has a non-finite value "
            + v[i] + " at " + at);
      }
    }
  }

  static void requirePositive(String op, String name, double v) {
    if (!(v > 0) || !Double.isFinite(v)) {
      throw new IllegalArgumentException(op + ": " + name + "=" + v + " must be finite and > 0");
    }
  }
}
