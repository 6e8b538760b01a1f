package dev.fathom.data.preprocess;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * Z-score standardisation of the columns of a matrix: {@code (x - mean) / std}
 * per column, with the statistics of the data it was fitted on (fit on the
 * training set, then transform training and test data alike). NaN marks a
 * missing value. Computed natively; only the per-column statistics are read
 * into Java.
 *
 * <pre>{@code
 * Standardizer s = Standardizer.fit(trainX);        // [N, F] float32/float64, NaN = missing
 * Tensor a = s.transform(trainX), b = s.transform(testX);
 * }</pre>
 *
 * <p>Conventions: mean and std ignore missing values; std is the unbiased
 * (n - 1) estimate, as in pandas and {@code torch.std}. A column whose std is
 * 0 (or that has fewer than two values) is only centred, so its values become
 * 0. Missing values are filled with 0 after standardising, i.e. with the
 * training mean (the d2l house-price recipe). A column with no values at all
 * has mean 0 and std 0.
 */
public final class Standardizer {
  private final double[] mean;
  private final double[] std;

  private Standardizer(double[] mean, double[] std) {
    this.mean = mean;
    this.std = std;
  }

  /** Statistics of each column of {@code x} [N, F] (floating point; NaN = missing). */
  public static Standardizer fit(Tensor x) {
    checkMatrix("fit", x);
    long f = x.size(1);
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor xd = x.to(DType.FLOAT64);
      Tensor missing = xd.ne(xd);                            // NaN is the only value unequal to itself
      Tensor zero = Tensor.scalar(0, DType.FLOAT64);
      double[] count = missing.to(DType.FLOAT64).sum(0, false).rsub(x.size(0)).toDoubleArray();
      double[] sum = Tensor.where(missing, zero, xd).sum(0, false).toDoubleArray();
      double[] mean = new double[(int) f];
      for (int j = 0; j < f; j++) {
        mean[j] = count[j] > 0 ? sum[j] / count[j] : 0;
      }
      Tensor centred = xd.sub(Tensor.fromArray(mean, f));
      double[] squares = Tensor.where(missing, zero, centred).square().sum(0, false).toDoubleArray();
      double[] std = new double[(int) f];
      for (int j = 0; j < f; j++) {
        std[j] = count[j] > 1 ? Math.sqrt(squares[j] / (count[j] - 1)) : 0;
      }
      return new Standardizer(mean, std);
    }
  }

  /** A standardizer with given statistics (e.g. saved from an earlier fit). */
  public static Standardizer of(double[] mean, double[] std) {
    if (mean.length != std.length) {
      throw new IllegalArgumentException("Standardizer: " + mean.length + " means but " + std.length + " stds");
    }
    for (double s : std) {
      if (!(s >= 0)) {
        throw new IllegalArgumentException("Standardizer: std " + s + " must be >= 0");
      }
    }
    return new Standardizer(mean.clone(), std.clone());
  }

  /** Per-column means of the fitted data. */
  public double[] mean() {
    return mean.clone();
  }

  /** Per-column unbiased standard deviations of the fitted data. */
  public double[] std() {
    return std.clone();
  }

  public int numFeatures() {
    return mean.length;
  }

  /**
   * {@code (x - mean) / std} per column (std 0: divided by 1), missing values
   * set to 0; same dtype as {@code x}. The result joins the caller's scope, as
   * any op result does.
   */
  public Tensor transform(Tensor x) {
    checkMatrix("transform", x);
    if (x.size(1) != mean.length) {
      throw new IllegalArgumentException("Standardizer.transform: input " + Arrays.toString(x.shape())
          + " has " + x.size(1) + " columns, fitted on " + mean.length);
    }
    double[] scale = new double[std.length];
    for (int j = 0; j < scale.length; j++) {
      scale[j] = std[j] > 0 ? std[j] : 1;
    }
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor m = Tensor.fromArray(mean, mean.length).to(x.dtype());
      Tensor s = Tensor.fromArray(scale, scale.length).to(x.dtype());
      Tensor z = x.sub(m).div(s);
      Tensor out = Tensor.where(z.ne(z), Tensor.scalar(0, x.dtype()), z);
      return scope.keep(out);
    }
  }

  private static void checkMatrix(String op, Tensor x) {
    if (x.dim() != 2 || !x.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("Standardizer." + op + ": expects a floating-point [N, F] matrix, got "
          + Arrays.toString(x.shape()) + " " + x.dtype());
    }
  }

  @Override
  public String toString() {
    return "Standardizer(" + mean.length + " features)";
  }
}
