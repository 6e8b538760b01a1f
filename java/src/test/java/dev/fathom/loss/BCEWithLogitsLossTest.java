package dev.fathom.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** BCEWithLogitsLoss: max(x,0) - x y + log(1 + exp(-|x|)). */
class BCEWithLogitsLossTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static final double[] X = {1000, -1000, 1000, -1000, 0, 0.7, -2.5, 3};
  private static final double[] Y = {0, 1, 1, 0, 1, 0, 0.3, 1};

  /** The textbook form -[y log s + (1-y) log(1-s)], evaluated where it is safe, else the stable form. */
  private static double reference(double x, double y) {
    if (Math.abs(x) < 30) {
      double s = 1 / (1 + Math.exp(-x));
      return -(y * Math.log(s) + (1 - y) * Math.log(1 - s));
    }
    return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
  }

  @Test
  void matchesReferenceIncludingExtremeLogits() {
    double[] ref = new double[X.length];
    double total = 0;
    for (int i = 0; i < X.length; i++) {
      ref[i] = reference(X[i], Y[i]);
      total += ref[i];
    }
    assertArrayEquals(new double[] {1000, 1000, 0, 0, Math.log(2)}, Arrays.copyOf(ref, 5), 1e-12);
    for (DType type : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      try (Scope s = Scope.open()) {
        Tensor x = Tensor.fromArray(X, 8).to(type);
        Tensor y = Tensor.fromArray(Y, 8).to(type);
        double tol = type == DType.FLOAT32 ? 1e-4 : 1e-12;
        double[] none = new BCEWithLogitsLoss(Reduction.NONE).apply(x, y).toDoubleArray();
        for (int i = 0; i < none.length; i++) {
          assertEquals(ref[i], none[i], tol * (1 + ref[i]), type + " element " + i);
        }
        assertEquals(total, new BCEWithLogitsLoss(Reduction.SUM).apply(x, y).item(), tol * 2000);
        assertEquals(total / 8, new BCEWithLogitsLoss().apply(x, y).item(), tol * 250);
      }
    }
  }

  @Test
  void gradientIsSigmoidMinusTargetEverywhereIncludingZero() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.fromArray(X, 8).requiresGrad(true);
      new BCEWithLogitsLoss(Reduction.SUM).apply(x, Tensor.fromArray(Y, 8)).backward();
      double[] g = x.grad().toDoubleArray();
      for (int i = 0; i < X.length; i++) {
        assertEquals(1 / (1 + Math.exp(-X[i])) - Y[i], g[i], 1e-12, "grad[" + i + "]");
      }
      assertEquals(-0.5, g[4], 0, "x = 0, y = 1: sigmoid(0) - 1");
    }
  }

  @Test
  void shapesFollowTheElementwiseRule() {
    try (Scope s = Scope.open()) {
      Tensor out = Tensor.zeros(4, 1);
      assertArrayEquals(new long[] {4, 1},
          new BCEWithLogitsLoss(Reduction.NONE).apply(out, Tensor.ones(4)).shape());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new BCEWithLogitsLoss().apply(out, Tensor.ones(2, 2)));
      assertTrue(e.getMessage().contains("BCEWithLogitsLoss") && e.getMessage().contains("[4,1]")
          && e.getMessage().contains("[2,2]"), e.getMessage());
    }
  }

  @Test
  void gradcheck() {
    double[] y = {0, 1, 0.25, 1, 0, 0.5};
    for (Reduction r : Reduction.values()) {
      GradCheck.checkFunction("BCEWithLogitsLoss " + r,
          x -> new BCEWithLogitsLoss(r).apply(x, Tensor.fromArray(y, 2, 3)), GradCheck.uniform(11, 6, -4, 4), 2, 3);
    }
    GradCheck.checkFunction("BCEWithLogitsLoss at 0",
        x -> new BCEWithLogitsLoss().apply(x, Tensor.fromArray(y, 6)), new double[6], 6);
  }
}
