package dev.fathom.svm;

import static dev.fathom.svm.SvmTesting.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SMO dual solution: KKT conditions, a known max-margin hyperplane, a brute-force optimum. */
class KernelSVMTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  /** Two overlapping Gaussian blobs in 2-D, labels 0/1 alternating: not separable. */
  private static double[] blobs(int n, double shift, long seed, long[] labels) {
    Random rng = new Random(seed);
    double[] x = new double[2 * n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
      double c = labels[i] == 1 ? shift : -shift;
      x[2 * i] = c + rng.nextGaussian();
      x[2 * i + 1] = c / 2 + rng.nextGaussian();
    }
    return x;
  }

  /** alpha_i for every training row (0 off the support set), from the kept coefficients. */
  private static double[] trainingAlphas(KernelSVM svm, int n) {
    double[] alpha = new double[n];
    double[] coef = svm.dualCoef().toDoubleArray();
    int[] sv = svm.supportIndices();
    for (int s = 0; s < sv.length; s++) {
      alpha[sv[s]] = Math.abs(coef[s]);
    }
    return alpha;
  }

  @Test
  void kktConditionsHoldOnASoftMarginProblem() {
    int n = 80;
    long[] labels = new long[n];
    double[] xs = blobs(n, 1.0, 1, labels);
    double c = 2.0;
    try (Scope s = Scope.open();
        KernelSVM svm = KernelSVM.builder(Kernel.rbf(0.5)).c(c).tol(1e-6).blockRows(7).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2);
      svm.fit(x, Tensor.fromArray(labels, n));
      assertTrue(svm.fitReport().allConverged());
      assertTrue(svm.fitReport().gap()[0] < 1e-6);
      double[] alpha = trainingAlphas(svm, n);
      double[] f = svm.decisionFunction(x).toDoubleArray();
      double[] coef = svm.dualCoef().toDoubleArray();
      int[] sv = svm.supportIndices();
      double balance = 0;
      for (int k = 0; k < sv.length; k++) {
        // The coefficient alpha_i y_i has the sign of the label (1 -> +1, 0 -> -1).
        assertEquals(labels[sv[k]] == 1 ? 1.0 : -1.0, Math.signum(coef[k]), "coefficient sign at row " + sv[k]);
        balance += coef[k];
      }
      assertEquals(0, balance, 1e-9, "sum_i alpha_i y_i = 0");
      int free = 0;
      int bounded = 0;
      double kktTol = 1e-5;
      for (int i = 0; i < n; i++) {
        double yf = (labels[i] == 1 ? 1 : -1) * f[i];
        assertTrue(alpha[i] >= 0 && alpha[i] <= c * (1 + 1e-12), "0 <= alpha <= C at " + i + ": " + alpha[i]);
        if (alpha[i] == 0) {
          assertTrue(yf >= 1 - kktTol, "alpha = 0 needs y f >= 1 at row " + i + ": " + yf);
        } else if (alpha[i] >= c) {
          bounded++;
          assertTrue(yf <= 1 + kktTol, "alpha = C needs y f <= 1 at row " + i + ": " + yf);
        } else {
          free++;
          assertEquals(1, yf, kktTol, "0 < alpha < C needs y f = 1 at row " + i);
        }
      }
      // The problem exercises all three cases.
      assertTrue(free > 0 && bounded > 0 && sv.length < n, "free " + free + " bounded " + bounded + " of " + n);
      // Only support vectors are kept.
      assertArrayEquals(new long[] {sv.length, 2}, svm.supportVectors().shape());
    }
  }

  @Test
  void linearKernelFindsTheKnownMaxMarginHyperplane() {
    // Closest pair (2, 2) / (0, 0): the max-margin hyperplane is x1 + x2 = 2, i.e.
    // w = (0.5, 0.5), b = -1 (w.x + b = +-1 on the two), alpha = 2 / ||p - n||^2 = 0.25 each.
    double[] xs = {2, 2, 3, 3, 2, 4, 4, 2, 0, 0, -1, 0, 0, -1, -1, -1};
    long[] ys = {1, 1, 1, 1, -1, -1, -1, -1};
    try (Scope s = Scope.open();
        KernelSVM svm = KernelSVM.builder(Kernel.linear()).c(1e6).tol(1e-9).build()) {
      svm.fit(Tensor.fromArray(xs, 8, 2), Tensor.fromArray(ys, 8));
      assertArrayEquals(new int[] {0, 4}, svm.supportIndices());
      assertArrayEquals(new double[] {0.25, -0.25}, svm.dualCoef().toDoubleArray(), 1e-8);
      // w = sum alpha_i y_i x_i from the kept support vectors.
      Tensor w = svm.supportVectors().t().matmul(svm.dualCoef());
      assertArrayEquals(new double[] {0.5, 0.5}, w.toDoubleArray(), 1e-8);
      assertEquals(-1, svm.intercept()[0], 1e-8);
      assertArrayEquals(new long[] {-1, 1}, svm.classes());
      double[] f = svm.decisionFunction(Tensor.fromArray(new double[] {1, 1, 5, 0, 0, -3}, 3, 2)).toDoubleArray();
      assertArrayEquals(new double[] {0, 1.5, -2.5}, f, 1e-8);
    }
  }

  /**
   * The C-SVM dual optimum by enumeration: every assignment of each alpha to 0, C or free;
   * for a free set F the KKT equalities (y_i f(x_i) = 1 on F, y^T alpha = 0) are a linear
   * system in alpha_F and b; an assignment whose solution is in the box and satisfies the
   * inequalities on the bounds is optimal (the problem is convex). Returns [alpha..., b].
   */
  static double[] bruteForce(double[][] k, double[] y, double c) {
    int n = y.length;
    int[] status = new int[n];                 // 0: alpha = 0, 1: alpha = C, 2: free
    double[] best = null;
    double bestObjective = Double.POSITIVE_INFINITY;
    for (int code = 0; code < Math.pow(3, n); code++) {
      int r = code;
      int free = 0;
      for (int i = 0; i < n; i++) {
        status[i] = r % 3;
        r /= 3;
        free += status[i] == 2 ? 1 : 0;
      }
      if (free == 0) {
        continue;
      }
      int[] f = new int[free];
      for (int i = 0, p = 0; i < n; i++) {
        if (status[i] == 2) {
          f[p++] = i;
        }
      }
      double[][] a = new double[free + 1][free + 2];
      for (int p = 0; p < free; p++) {
        int i = f[p];
        double rhs = 1;
        for (int j = 0; j < n; j++) {
          if (status[j] == 1) {
            rhs -= c * y[i] * y[j] * k[i][j];
          }
        }
        for (int q = 0; q < free; q++) {
          a[p][q] = y[i] * y[f[q]] * k[i][f[q]];
        }
        a[p][free] = y[i];
        a[p][free + 1] = rhs;
      }
      double rhs = 0;
      for (int j = 0; j < n; j++) {
        if (status[j] == 1) {
          rhs -= c * y[j];
        }
      }
      for (int q = 0; q < free; q++) {
        a[free][q] = y[f[q]];
      }
      a[free][free + 1] = rhs;
      double[] sol = gauss(a);
      if (sol == null) {
        continue;
      }
      double[] alpha = new double[n];
      boolean ok = true;
      for (int i = 0; i < n; i++) {
        alpha[i] = status[i] == 1 ? c : 0;
      }
      for (int p = 0; p < free; p++) {
        alpha[f[p]] = sol[p];
        ok &= sol[p] > 1e-12 && sol[p] < c - 1e-12;
      }
      double b = sol[free];
      for (int i = 0; i < n && ok; i++) {
        double fi = b;
        for (int j = 0; j < n; j++) {
          fi += alpha[j] * y[j] * k[i][j];
        }
        double yf = y[i] * fi;
        ok = status[i] == 0 ? yf >= 1 - 1e-9 : status[i] == 1 ? yf <= 1 + 1e-9 : true;
      }
      if (ok) {
        double objective = 0;
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            objective += 0.5 * alpha[i] * alpha[j] * y[i] * y[j] * k[i][j];
          }
          objective -= alpha[i];
        }
        if (objective < bestObjective) {
          bestObjective = objective;
          best = Arrays.copyOf(alpha, n + 1);
          best[n] = b;
        }
      }
    }
    return best;
  }

  /** Solves the augmented system [A | b] by Gaussian elimination with partial pivoting; null if singular. */
  private static double[] gauss(double[][] a) {
    int m = a.length;
    for (int col = 0; col < m; col++) {
      int pivot = col;
      for (int r = col + 1; r < m; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      if (Math.abs(a[pivot][col]) < 1e-12) {
        return null;
      }
      double[] t = a[col];
      a[col] = a[pivot];
      a[pivot] = t;
      for (int r = 0; r < m; r++) {
        if (r != col) {
          double factor = a[r][col] / a[col][col];
          for (int q = col; q <= m; q++) {
            a[r][q] -= factor * a[col][q];
          }
        }
      }
    }
    double[] x = new double[m];
    for (int r = 0; r < m; r++) {
      x[r] = a[r][m] / a[r][r];
    }
    return x;
  }

  @Test
  void smoMatchesTheBruteForceOptimum() {
    int n = 9;
    Random rng = new Random(5);
    double[] xs = new double[2 * n];
    long[] labels = new long[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
      y[i] = labels[i] == 1 ? 1 : -1;
      xs[2 * i] = rng.nextGaussian() + 0.5 * y[i];
      xs[2 * i + 1] = rng.nextGaussian();
    }
    double gamma = 0.8;
    double c = 1.5;
    double[][] k = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double dx = xs[2 * i] - xs[2 * j];
        double dy = xs[2 * i + 1] - xs[2 * j + 1];
        k[i][j] = Math.exp(-gamma * (dx * dx + dy * dy));
      }
    }
    double[] exact = bruteForce(k, y, c);
    assertTrue(exact != null, "the brute force found no KKT point with a free alpha");
    double[] query = new double[2 * 25];
    for (int i = 0; i < query.length; i++) {
      query[i] = 2 * rng.nextGaussian();
    }
    try (Scope s = Scope.open();
        KernelSVM svm = KernelSVM.builder(Kernel.rbf(gamma)).c(c).tol(1e-10).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2);
      svm.fit(x, Tensor.fromArray(labels, n));
      double[] alpha = trainingAlphas(svm, n);
      for (int i = 0; i < n; i++) {
        assertEquals(exact[i], alpha[i], 1e-7, "alpha " + i);
      }
      assertEquals(exact[n], svm.intercept()[0], 1e-7, "b");
      double[] f = svm.decisionFunction(Tensor.fromArray(query, 25, 2)).toDoubleArray();
      for (int q = 0; q < 25; q++) {
        double want = exact[n];
        for (int i = 0; i < n; i++) {
          double dx = query[2 * q] - xs[2 * i];
          double dy = query[2 * q + 1] - xs[2 * i + 1];
          want += exact[i] * y[i] * Math.exp(-gamma * (dx * dx + dy * dy));
        }
        assertEquals(want, f[q], 1e-7, "decision value at query " + q);
      }
      double objective = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          objective += 0.5 * exact[i] * exact[j] * y[i] * y[j] * k[i][j];
        }
        objective -= exact[i];
      }
      assertEquals(objective, svm.fitReport().dualObjective()[0], 1e-9);
    }
  }

  @Test
  void refittingOnTheSupportVectorsAloneGivesTheSameFunction() {
    int n = 120;
    long[] labels = new long[n];
    double[] xs = blobs(n, 1.2, 7, labels);
    try (Scope s = Scope.open();
        KernelSVM full = KernelSVM.builder(Kernel.polynomial(2, 0.5, 1)).c(0.5).tol(1e-8).build();
        KernelSVM reduced = KernelSVM.builder(Kernel.polynomial(2, 0.5, 1)).c(0.5).tol(1e-8).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2);
      Tensor y = Tensor.fromArray(labels, n);
      full.fit(x, y);
      int[] sv = full.supportIndices();
      assertTrue(sv.length < n, "some rows are not support vectors");
      Tensor index = Tensor.fromArray(Arrays.stream(sv).asLongStream().toArray(), sv.length);
      reduced.fit(x.indexSelect(0, index), y.indexSelect(0, index));
      // Rows with alpha = 0 do not enter f: dropping them leaves the optimum unchanged.
      Tensor grid = Tensor.randn(new Generator(1), 50, 2).to(DType.FLOAT64).mul(2);
      assertArrayEquals(full.decisionFunction(grid).toDoubleArray(), reduced.decisionFunction(grid).toDoubleArray(),
          1e-5);
    }
  }

  @Test
  void tinyCacheAndSingleRowBlocksGiveTheSameSolution() {
    int n = 150;
    long[] labels = new long[n];
    double[] xs = blobs(n, 0.8, 3, labels);
    try (Scope s = Scope.open();
        KernelSVM roomy = KernelSVM.builder(Kernel.rbf(1)).tol(1e-8).build();
        KernelSVM tight = KernelSVM.builder(Kernel.rbf(1)).tol(1e-8).blockRows(1).cacheMegabytes(0).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2);
      Tensor y = Tensor.fromArray(labels, n);
      roomy.fit(x, y);
      tight.fit(x, y);
      // The roomy cache computes each row at most once; a two-row cache recomputes.
      assertTrue(roomy.fitReport().kernelRowsComputed() <= n);
      assertTrue(tight.fitReport().kernelRowsComputed() > n, "rows " + tight.fitReport().kernelRowsComputed());
      Tensor grid = Tensor.randn(new Generator(2), 40, 2).to(DType.FLOAT64);
      assertArrayEquals(roomy.decisionFunction(grid).toDoubleArray(), tight.decisionFunction(grid).toDoubleArray(),
          1e-6);
    }
  }

  @Test
  void iterationLimitIsReportedNotHidden() {
    int n = 100;
    long[] labels = new long[n];
    double[] xs = blobs(n, 0.5, 12, labels);
    try (Scope s = Scope.open();
        KernelSVM capped = KernelSVM.builder(Kernel.rbf(1)).tol(1e-8).maxIterations(5).build();
        KernelSVM full = KernelSVM.builder(Kernel.rbf(1)).tol(1e-8).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2);
      Tensor y = Tensor.fromArray(labels, n);
      capped.fit(x, y);
      full.fit(x, y);
      assertFalse(capped.fitReport().allConverged());
      assertEquals(5, capped.fitReport().iterations()[0]);
      assertTrue(capped.fitReport().gap()[0] >= 1e-8);
      assertTrue(full.fitReport().allConverged());
      assertTrue(full.fitReport().iterations()[0] > 5);
      // Five pair updates move at most ten alphas; the full solve's objective is lower.
      assertTrue(capped.numSupportVectors() <= 10);
      assertTrue(full.fitReport().dualObjective()[0] < capped.fitReport().dualObjective()[0]);
    }
  }

  @Test
  void labelEncodingsGiveTheSameMachineAndPredictTheirOwnLabels() {
    int n = 60;
    long[] labels = new long[n];
    double[] xs = blobs(n, 1.5, 9, labels);
    double[] signed = Arrays.stream(labels).mapToDouble(l -> l == 1 ? 1 : -1).toArray();
    try (Scope s = Scope.open();
        KernelSVM a = KernelSVM.builder(Kernel.rbf(0.5)).build();
        KernelSVM b = KernelSVM.builder(Kernel.rbf(0.5)).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2);
      a.fit(x, Tensor.fromArray(labels, n));                 // {0, 1}: 1 is +1
      b.fit(x, Tensor.fromArray(signed, n));                 // {-1, +1} as float
      assertArrayEquals(a.decisionFunction(x).toDoubleArray(), b.decisionFunction(x).toDoubleArray(), 1e-12);
      assertArrayEquals(new long[] {0, 1}, a.classes());
      assertArrayEquals(new long[] {-1, 1}, b.classes());
      long[] pa = a.predict(x).toLongArray();
      long[] pb = b.predict(x).toLongArray();
      double[] f = a.decisionFunction(x).toDoubleArray();
      for (int i = 0; i < n; i++) {
        assertEquals(f[i] > 0 ? 1 : 0, pa[i]);
        assertEquals(f[i] > 0 ? 1 : -1, pb[i]);
      }
      assertEquals(a.accuracy(x, Tensor.fromArray(labels, n)), b.accuracy(x, Tensor.fromArray(signed, n)));
      assertTrue(a.accuracy(x, Tensor.fromArray(labels, n)) > 0.85);
    }
  }

  @Test
  void oneVsRestSeparatesThreeBlobsWithArbitraryLabels() {
    Random rng = new Random(4);
    long[] classValues = {2, 5, 7};
    double[][] centres = {{0, 3}, {3, -2}, {-3, -2}};
    int n = 150;
    double[] xs = new double[2 * n];
    long[] ys = new long[n];
    for (int i = 0; i < n; i++) {
      int k = i % 3;
      ys[i] = classValues[k];
      xs[2 * i] = centres[k][0] + rng.nextGaussian();
      xs[2 * i + 1] = centres[k][1] + rng.nextGaussian();
    }
    try (Scope s = Scope.open(); KernelSVM svm = KernelSVM.builder(Kernel.rbf(0.5)).c(1).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2).to(DType.FLOAT32);
      Tensor y = Tensor.fromArray(ys, n);
      svm.fit(x, y);
      assertArrayEquals(classValues, svm.classes());
      assertArrayEquals(new long[] {n, 3}, svm.decisionFunction(x).shape());
      assertEquals(3, svm.fitReport().iterations().length);
      assertTrue(svm.accuracy(x, y) > 0.95, "train accuracy " + svm.accuracy(x, y));
      // Class centres are predicted as their own class; argmax of the three machines.
      Tensor centresT = Tensor.fromArray(new double[] {0, 3, 3, -2, -3, -2}, 3, 2).to(DType.FLOAT32);
      assertArrayEquals(classValues, svm.predict(centresT).toLongArray());
    }
  }

  @Test
  void badInputGivesClearErrors() {
    try (Scope s = Scope.open(); KernelSVM svm = KernelSVM.builder(Kernel.rbf(1)).build()) {
      Tensor x = Tensor.randn(new Generator(0), 10, 3);
      Tensor y = Tensor.fromArray(new long[] {0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 10);
      IllegalStateException notFitted = assertThrows(IllegalStateException.class, () -> svm.predict(x));
      assertTrue(notFitted.getMessage().contains("not fitted"), notFitted.getMessage());

      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> svm.fit(x, Tensor.fromArray(new long[] {0, 1, 0}, 3)));
      assertMessage(e, "KernelSVM.fit", "[10, 3]", "[3]");
      e = assertThrows(IllegalArgumentException.class, () -> svm.fit(x, Tensor.zeros(DType.INT64, 10)));
      assertMessage(e, "KernelSVM.fit", "single class");
      Tensor xNan = x.mul(1.0);
      xNan.narrow(0, 4, 1).narrow(1, 2, 1).fill_(Double.NaN);
      e = assertThrows(IllegalArgumentException.class, () -> svm.fit(xNan, y));
      assertMessage(e, "KernelSVM.fit", "non-finite", "[4, 2]");
      Tensor xInf = x.mul(1.0);
      xInf.narrow(0, 0, 1).fill_(Double.POSITIVE_INFINITY);
      assertThrows(IllegalArgumentException.class, () -> svm.fit(xInf, y));
      Tensor yNan = y.to(DType.FLOAT64);
      yNan.narrow(0, 3, 1).fill_(Double.NaN);
      e = assertThrows(IllegalArgumentException.class, () -> svm.fit(x, yNan));
      assertMessage(e, "KernelSVM.fit", "non-finite label", "[3]");
      Tensor yFrac = y.to(DType.FLOAT64).add(0.5);
      assertMessage(assertThrows(IllegalArgumentException.class, () -> svm.fit(x, yFrac)), "integer");
      assertMessage(assertThrows(IllegalArgumentException.class, () -> svm.fit(x.reshape(30), y)), "[30]");
      assertMessage(assertThrows(IllegalArgumentException.class,
          () -> svm.fit(x, Tensor.zeros(DType.INT64, 10, 2))), "[10, 2]");

      assertMessage(assertThrows(IllegalArgumentException.class, () -> KernelSVM.builder(Kernel.linear()).c(0)), "C");
      assertThrows(IllegalArgumentException.class, () -> KernelSVM.builder(Kernel.linear()).c(-1));
      assertThrows(IllegalArgumentException.class, () -> KernelSVM.builder(Kernel.linear()).c(Double.NaN));
      assertThrows(IllegalArgumentException.class, () -> KernelSVM.builder(Kernel.linear()).tol(0));
      assertThrows(IllegalArgumentException.class, () -> KernelSVM.builder(Kernel.linear()).blockRows(0));
      assertThrows(IllegalArgumentException.class, () -> KernelSVM.builder(null));
      assertMessage(assertThrows(IllegalArgumentException.class, () -> Kernel.rbf(0)), "gamma");

      svm.fit(x, y);
      e = assertThrows(IllegalArgumentException.class, () -> svm.predict(Tensor.zeros(4, 5)));
      assertMessage(e, "KernelSVM.predict", "[4, 5]", "5 features", "fitted on 3");
      e = assertThrows(IllegalArgumentException.class, () -> svm.decisionFunction(xNan));
      assertMessage(e, "KernelSVM.decisionFunction", "non-finite");
      e = assertThrows(IllegalArgumentException.class, () -> svm.accuracy(x, Tensor.zeros(DType.INT64, 4)));
      assertMessage(e, "KernelSVM.accuracy", "[10, 3]", "[4]");
      // A failed refit leaves no half-fitted model behind.
      assertThrows(IllegalArgumentException.class, () -> svm.fit(xNan, y));
      assertTrue(svm.isFitted());
      svm.close();
      assertFalse(svm.isFitted());
      assertMessage(assertThrows(IllegalStateException.class, () -> svm.predict(x)), "closed");
    }
  }

  @Test
  void fitPredictCloseReturnsNativeMemoryToBaseline() {
    long before = Tensor.liveNativeBytes();
    Tensor x = Tensor.randn(new Generator(8), 200, 4);
    Tensor y;
    try (Scope s = Scope.open()) {
      y = s.keep(x.narrow(1, 0, 1).reshape(200).gt(0).to(DType.INT64));
    }
    long withData = Tensor.liveNativeBytes();
    for (int round = 0; round < 3; round++) {
      KernelSVM svm = KernelSVM.builder(Kernel.rbf(0.3)).blockRows(32).build();
      svm.fit(x, y);
      svm.fit(x, y);                               // a refit frees the first fit's tensors
      svm.predict(x).close();
      svm.decisionFunction(x).close();
      svm.accuracy(x, y);
      svm.close();
      assertEquals(withData, Tensor.liveNativeBytes(), "round " + round);
    }
    x.close();
    y.close();
    assertTrue(Tensor.liveNativeBytes() <= before);
  }
}
