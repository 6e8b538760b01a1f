package dev.fathom.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HingeLoss: binary max(0, 1 - y f), squared, and Crammer-Singer multi-class. */
class HingeLossTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static final double[] F = {2, 0.5, -0.3, -2, 1000, -1000};
  private static final double[] Y = {1, 1, 1, -1, -1, -1};

  /** Plain-Java Crammer-Singer: max(0, 1 + max_{j != y} f_j - f_y). */
  private static double[] crammerSinger(double[] f, long[] y, int c) {
    double[] l = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      double best = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < c; j++) {
        if (j != y[i]) {
          best = Math.max(best, 1 + f[i * c + j] - f[i * c + (int) y[i]]);
        }
      }
      l[i] = Math.max(0, best);
    }
    return l;
  }

  @Test
  void binaryAndSquaredMatchReference() {
    double[] ref = {0, 0.5, 1.3, 0, 1001, 0};
    try (Scope s = Scope.open()) {
      Tensor f = Tensor.fromArray(F, 6);
      Tensor y = Tensor.fromArray(Y, 6);
      assertArrayEquals(ref, new HingeLoss(Reduction.NONE).apply(f, y).toDoubleArray(), 1e-12);
      assertEquals(1002.8, new HingeLoss(Reduction.SUM).apply(f, y).item(), 1e-9);
      assertEquals(1002.8 / 6, new HingeLoss().apply(f, y).item(), 1e-9);
      double[] sq = new HingeLoss(Reduction.NONE, true).apply(f, y).toDoubleArray();
      assertArrayEquals(new double[] {0, 0.25, 1.69, 0, 1001 * 1001, 0}, sq, 1e-9);
      assertEquals((0.25 + 1.69 + 1001.0 * 1001) / 6, new HingeLoss(Reduction.MEAN, true).apply(f, y).item(), 1e-6);
      // float32 scores with a [N,1] output and [N] targets.
      Tensor f32 = Tensor.fromArray(F, 6, 1).to(DType.FLOAT32);
      assertArrayEquals(ref, new HingeLoss(Reduction.NONE).apply(f32, y).toDoubleArray(), 1e-5);
    }
  }

  @Test
  void zeroOneTargetsAreRejected() {
    try (Scope s = Scope.open()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new HingeLoss().apply(Tensor.zeros(3), Tensor.fromArray(new float[] {1, 0, 1}, 3)));
      assertTrue(e.getMessage().contains("HingeLoss") && e.getMessage().contains("-1 or +1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new HingeLoss().apply(Tensor.zeros(3), Tensor.ones(4)));
      assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[4]"), e.getMessage());
    }
  }

  @Test
  void crammerSingerMatchesReference() {
    double[] scores = {3, 1, 0, 1, 2, 1.5, 0, 0, 0, 1000, -1000, 0};
    long[] labels = {0, 1, 2, 1};
    double[] ref = crammerSinger(scores, labels, 3);
    assertArrayEquals(new double[] {0, 0.5, 1, 2001}, ref, 0);
    try (Scope s = Scope.open()) {
      Tensor f = Tensor.fromArray(scores, 4, 3);
      Tensor y = Tensor.fromArray(labels, 4);
      assertArrayEquals(ref, new HingeLoss(Reduction.NONE).apply(f, y).toDoubleArray(), 1e-12);
      assertEquals(2002.5 / 4, new HingeLoss().apply(f, y).item(), 1e-12);
      assertArrayEquals(new double[] {0, 0.25, 1, 2001.0 * 2001},
          new HingeLoss(Reduction.NONE, true).apply(f, y).toDoubleArray(), 1e-9);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new HingeLoss().apply(f, Tensor.fromArray(new long[] {0, 3, 1, 1}, 4)));
      assertTrue(e.getMessage().contains("HingeLoss") && e.getMessage().contains("target[1] = 3"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new HingeLoss().apply(Tensor.zeros(4), y));
    }
  }

  @Test
  void crammerSingerGradientPushesTheViolatorDownAndTheTruthUp() {
    try (Scope s = Scope.open()) {
      Tensor f = Tensor.fromArray(new double[] {1, 2, 1.5, 3, 0, 0}, 2, 3).requiresGrad(true);
      new HingeLoss(Reduction.SUM).apply(f, Tensor.fromArray(new long[] {1, 0}, 2)).backward();
      // Row 0: class 2 violates the margin (1 + 1.5 - 2 > 0); row 1 is satisfied (zero gradient).
      assertArrayEquals(new double[] {0, -1, 1, 0, 0, 0}, f.grad().toDoubleArray(), 0);
    }
  }

  @Test
  void gradcheck() {
    // Scores away from the kinks (y f = 1 for binary; ties for the multi-class max).
    double[] f = {2.5, 0.3, -0.4, -1.7, 0.8, 0.1};
    double[] y = {1, -1, 1, -1, 1, 1};
    for (Reduction r : Reduction.values()) {
      for (boolean squared : new boolean[] {false, true}) {
        GradCheck.checkFunction("HingeLoss binary " + r + " squared=" + squared,
            x -> new HingeLoss(r, squared).apply(x, Tensor.fromArray(y, 6)), f, 6);
        GradCheck.checkFunction("HingeLoss Crammer-Singer " + r + " squared=" + squared,
            x -> new HingeLoss(r, squared).apply(x, Tensor.fromArray(new long[] {0, 2, 1}, 3)),
            GradCheck.uniform(12, 12, -2, 2), 3, 4);
      }
    }
  }
}
