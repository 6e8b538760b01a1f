package dev.fathom.svm;

import static dev.fathom.svm.SvmTesting.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The primal linear SVM: reaches the dual solver's optimum, one-vs-rest, bad input, memory. */
class LinearSVMTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  /** 0/1 labels alternating; class 1 shifted along (1, -0.5, 0.3). */
  private static double[] blobs(int n, double shift, long seed, long[] labels) {
    Random rng = new Random(seed);
    double[] dir = {1, -0.5, 0.3};
    double[] x = new double[3 * n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
      double s = labels[i] == 1 ? shift : -shift;
      for (int d = 0; d < 3; d++) {
        x[3 * i + d] = s * dir[d] + rng.nextGaussian();
      }
    }
    return x;
  }

  /** J(w, b) = mean hinge + lambda/2 ||w||^2 in plain Java. */
  private static double objective(double[] xs, long[] labels, double[] w, double b, double lambda) {
    int n = labels.length;
    double hinge = 0;
    for (int i = 0; i < n; i++) {
      double f = b;
      for (int d = 0; d < w.length; d++) {
        f += w[d] * xs[w.length * i + d];
      }
      hinge += Math.max(0, 1 - (labels[i] == 1 ? 1 : -1) * f);
    }
    double norm = 0;
    for (double v : w) {
      norm += v * v;
    }
    return hinge / n + lambda / 2 * norm;
  }

  @Test
  void primalSgdReachesTheDualOptimum() {
    int n = 200;
    long[] labels = new long[n];
    double[] xs = blobs(n, 0.7, 1, labels);
    double lambda = 0.01;
    try (Scope s = Scope.open();
        LinearSVM primal = LinearSVM.builder().lambda(lambda).epochs(60).batchSize(20).learningRate(0.05).build();
        KernelSVM dual = KernelSVM.builder(Kernel.linear()).c(1 / (lambda * n)).tol(1e-8).build()) {
      Tensor x = Tensor.fromArray(xs, n, 3);
      Tensor y = Tensor.fromArray(labels, n);
      primal.fit(x, y);
      dual.fit(x, y);
      double[] wStar = dual.supportVectors().t().matmul(dual.dualCoef()).toDoubleArray();
      double jStar = objective(xs, labels, wStar, dual.intercept()[0], lambda);
      double[] w = primal.weight().toDoubleArray();
      double j = primal.objectiveHistory().length > 0
          ? objective(xs, labels, w, primal.bias().toDoubleArray()[0], lambda) : Double.NaN;
      // The same convex problem: SGD gets within 0.1% of the exact optimum, never below it.
      assertTrue(j >= jStar - 1e-9, "primal " + j + " below the optimum " + jStar);
      assertTrue(j <= jStar * 1.001, "primal " + j + " vs optimum " + jStar);
      double cos = dot(w, wStar) / Math.sqrt(dot(w, w) * dot(wStar, wStar));
      assertTrue(cos > 0.995, "direction cosine " + cos);
      double[] fPrimal = primal.decisionFunction(x).toDoubleArray();
      double[] fDual = dual.decisionFunction(x).toDoubleArray();
      int agree = 0;
      for (int i = 0; i < n; i++) {
        agree += (fPrimal[i] > 0) == (fDual[i] > 0) ? 1 : 0;
      }
      assertTrue(agree >= n - 3, "predictions agree on " + agree + " of " + n);
      // The objective went down from its first epoch.
      double[] history = primal.objectiveHistory();
      assertTrue(history[history.length - 1] < history[0], java.util.Arrays.toString(history));
    }
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void separableDataMatchesTheHardMarginDirection() {
    // Separable in 2-D with a known max-margin hyperplane x1 + x2 = 2 (see KernelSVMTest).
    double[] xs = {2, 2, 3, 3, 2, 4, 4, 2, 0, 0, -1, 0, 0, -1, -1, -1};
    long[] ys = {1, 1, 1, 1, 0, 0, 0, 0};
    try (Scope s = Scope.open();
        LinearSVM svm = LinearSVM.builder().lambda(0.1).epochs(300).batchSize(8).learningRate(0.05).build();
        KernelSVM dual = KernelSVM.builder(Kernel.linear()).c(1 / (0.1 * 8)).tol(1e-9).build()) {
      Tensor x = Tensor.fromArray(xs, 8, 2);
      svm.fit(x, Tensor.fromArray(ys, 8));
      assertEquals(1.0, svm.accuracy(x, Tensor.fromArray(ys, 8)));
      double[] w = svm.weight().toDoubleArray();
      double b = svm.bias().toDoubleArray()[0];
      // The hard-margin solution has alpha = 0.25 <= C = 1 / (lambda N) = 1.25, so it is also
      // the optimum of this soft-margin problem: w = (0.5, 0.5), b = -1, as the dual finds.
      assertArrayEquals(new double[] {0.5, 0.5}, w, 0.005);
      assertEquals(-1, b, 0.01);
      dual.fit(x, Tensor.fromArray(ys, 8));
      Tensor grid = Tensor.randn(new Generator(4), 20, 2).to(DType.FLOAT64).mul(3);
      assertArrayEquals(dual.decisionFunction(grid).toDoubleArray(), svm.decisionFunction(grid).toDoubleArray(), 0.1);
    }
  }

  @Test
  void oneVsRestLearnsThreeClassesAsOneWeightMatrix() {
    Random rng = new Random(2);
    long[] classValues = {-3, 0, 4};
    double[][] centres = {{0, 3}, {3, -2}, {-3, -2}};
    int n = 300;
    double[] xs = new double[2 * n];
    long[] ys = new long[n];
    for (int i = 0; i < n; i++) {
      int k = i % 3;
      ys[i] = classValues[k];
      xs[2 * i] = centres[k][0] + rng.nextGaussian();
      xs[2 * i + 1] = centres[k][1] + rng.nextGaussian();
    }
    try (Scope s = Scope.open(); LinearSVM svm = LinearSVM.builder().epochs(15).learningRate(0.02).build()) {
      Tensor x = Tensor.fromArray(xs, n, 2).to(DType.FLOAT32);
      Tensor y = Tensor.fromArray(ys, n);
      svm.fit(x, y);
      assertArrayEquals(new long[] {2, 3}, svm.weight().shape());
      assertArrayEquals(classValues, svm.classes());
      assertArrayEquals(new long[] {n, 3}, svm.decisionFunction(x).shape());
      assertTrue(svm.accuracy(x, y) > 0.95, "accuracy " + svm.accuracy(x, y));
      Tensor centresT = Tensor.fromArray(new double[] {0, 3, 3, -2, -3, -2}, 3, 2).to(DType.FLOAT32);
      assertArrayEquals(classValues, svm.predict(centresT).toLongArray());
    }
  }

  @Test
  void sameSeedSameWeights() {
    int n = 100;
    long[] labels = new long[n];
    double[] xs = blobs(n, 1, 3, labels);
    try (Scope s = Scope.open();
        LinearSVM a = LinearSVM.builder().epochs(3).seed(7).build();
        LinearSVM b = LinearSVM.builder().epochs(3).seed(7).build();
        LinearSVM c = LinearSVM.builder().epochs(3).seed(8).build()) {
      Tensor x = Tensor.fromArray(xs, n, 3);
      Tensor y = Tensor.fromArray(labels, n);
      a.fit(x, y);
      b.fit(x, y);
      c.fit(x, y);
      assertArrayEquals(a.weight().toDoubleArray(), b.weight().toDoubleArray(), 0);
      assertTrue(!java.util.Arrays.equals(a.weight().toDoubleArray(), c.weight().toDoubleArray()));
    }
  }

  @Test
  void badInputGivesClearErrors() {
    try (Scope s = Scope.open(); LinearSVM svm = LinearSVM.builder().epochs(1).build()) {
      Tensor x = Tensor.randn(new Generator(0), 6, 2);
      Tensor y = Tensor.fromArray(new long[] {0, 1, 0, 1, 0, 1}, 6);
      assertMessage(assertThrows(IllegalArgumentException.class,
          () -> svm.fit(x, Tensor.fromArray(new long[] {0, 1}, 2))), "LinearSVM.fit", "[6, 2]", "[2]");
      assertMessage(assertThrows(IllegalArgumentException.class,
          () -> svm.fit(x, Tensor.fromArray(new long[] {1, 1, 1, 1, 1, 1}, 6))), "single class");
      Tensor xNan = x.mul(1.0);
      xNan.narrow(0, 5, 1).fill_(Double.NaN);
      assertMessage(assertThrows(IllegalArgumentException.class, () -> svm.fit(xNan, y)), "non-finite", "[5, 0]");
      Tensor yInf = y.to(DType.FLOAT32);
      yInf.narrow(0, 1, 1).fill_(Double.NEGATIVE_INFINITY);
      assertMessage(assertThrows(IllegalArgumentException.class, () -> svm.fit(x, yInf)), "non-finite label");
      assertThrows(IllegalArgumentException.class, () -> LinearSVM.builder().lambda(0));
      assertThrows(IllegalArgumentException.class, () -> LinearSVM.builder().lambda(-1e-3));
      assertThrows(IllegalArgumentException.class, () -> LinearSVM.builder().epochs(0));
      assertThrows(IllegalArgumentException.class, () -> LinearSVM.builder().learningRate(0));
      assertThrows(IllegalArgumentException.class, () -> LinearSVM.builder().momentum(1));
      assertMessage(assertThrows(IllegalStateException.class, () -> svm.weight()), "not fitted");
      svm.fit(x, y);
      assertMessage(assertThrows(IllegalArgumentException.class, () -> svm.predict(Tensor.zeros(3, 7))),
          "LinearSVM.predict", "[3, 7]", "fitted on 2");
      assertMessage(assertThrows(IllegalArgumentException.class, () -> svm.predict(Tensor.zeros(3))),
          "LinearSVM.predict", "[3]");
    }
  }

  @Test
  void divergingTrainingFailsLoudly() {
    int n = 100;
    long[] labels = new long[n];
    double[] xs = blobs(n, 1, 4, labels);
    // lr * lambda = 1000: each step multiplies w by about -999, so J overflows.
    try (Scope s = Scope.open();
        LinearSVM svm = LinearSVM.builder().lambda(1).learningRate(1e3).batchSize(1).epochs(5).build()) {
      Tensor x = Tensor.fromArray(xs, n, 3);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> svm.fit(x, Tensor.fromArray(labels, n)));
      assertMessage(e, "LinearSVM.fit", "objective became", "[100, 3]", "learning rate");
      assertTrue(!svm.isFitted());
    }
  }

  @Test
  void fitPredictCloseReturnsNativeMemoryToBaseline() {
    Tensor x = Tensor.randn(new Generator(8), 300, 5);
    Tensor y;
    try (Scope s = Scope.open()) {
      y = s.keep(x.narrow(1, 0, 1).reshape(300).gt(0).to(DType.INT64));
    }
    long withData = Tensor.liveNativeBytes();
    for (int round = 0; round < 2; round++) {
      LinearSVM svm = LinearSVM.builder().epochs(2).batchSize(32).build();
      svm.fit(x, y);
      svm.fit(x, y);
      svm.predict(x).close();
      svm.decisionFunction(x).close();
      svm.accuracy(x, y);
      svm.close();
      assertEquals(withData, Tensor.liveNativeBytes(), "round " + round);
    }
    // x stays usable: the model never closed the caller's data.
    assertEquals(1500, x.toDoubleArray().length);
    x.close();
    y.close();
  }
}
