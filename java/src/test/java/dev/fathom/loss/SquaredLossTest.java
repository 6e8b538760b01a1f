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

/** SquaredLoss ((y_hat - y)^2 / 2) and MSELoss ((y_hat - y)^2). */
class SquaredLossTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static final float[] OUT = {1f, 2f, 3f, -1f};
  private static final float[] TARGET = {1.5f, 2f, 0f, 1f};

  /** Plain-Java per-element squared loss with the notes' 1/2. */
  private static double[] reference(float[] out, float[] target, double scale) {
    double[] l = new double[out.length];
    for (int i = 0; i < out.length; i++) {
      double d = (double) out[i] - target[i];
      l[i] = scale * d * d;
    }
    return l;
  }

  @Test
  void squaredLossMatchesReferenceForEveryReduction() {
    double[] ref = reference(OUT, TARGET, 0.5);  // 0.125, 0, 4.5, 2
    assertArrayEquals(new double[] {0.125, 0, 4.5, 2}, ref, 0);
    try (Scope s = Scope.open()) {
      Tensor out = Tensor.fromArray(OUT, 4, 1);
      Tensor y = Tensor.fromArray(TARGET, 4);
      assertEquals(6.625 / 4, new SquaredLoss().apply(out, y).item(), 1e-7);
      assertEquals(6.625, new SquaredLoss(Reduction.SUM).apply(out, y).item(), 1e-6);
      Tensor none = new SquaredLoss(Reduction.NONE).apply(out, y);
      assertArrayEquals(new long[] {4, 1}, none.shape());
      assertArrayEquals(ref, none.toDoubleArray(), 1e-7);
      assertEquals(0, new SquaredLoss().apply(out, out).item());
    }
  }

  @Test
  void mseLossHasNoHalf() {
    double[] ref = reference(OUT, TARGET, 1.0);
    try (Scope s = Scope.open()) {
      Tensor out = Tensor.fromArray(OUT, 4);
      Tensor y = Tensor.fromArray(TARGET, 4);
      assertEquals(13.25 / 4, new MSELoss().apply(out, y).item(), 1e-6);
      assertEquals(13.25, new MSELoss(Reduction.SUM).apply(out, y).item(), 1e-6);
      assertArrayEquals(ref, new MSELoss(Reduction.NONE).apply(out, y).toDoubleArray(), 1e-7);
      assertEquals(2 * new SquaredLoss().apply(out, y).item(), new MSELoss().apply(out, y).item(), 1e-6);
    }
  }

  @Test
  void halfMakesTheGradientTheResidual() {
    // d/dy_hat of mean((y_hat - y)^2 / 2) = (y_hat - y) / N: no factor 2 (the notes' update).
    try (Scope s = Scope.open()) {
      Tensor out = Tensor.fromArray(new double[] {1, 2, 3, -1}, 4, 1).requiresGrad(true);
      Tensor y = Tensor.fromArray(new double[] {1.5, 2, 0, 1}, 4);
      new SquaredLoss().apply(out, y).backward();
      assertArrayEquals(new double[] {-0.5 / 4, 0, 3.0 / 4, -2.0 / 4}, out.grad().toDoubleArray(), 1e-15);
    }
  }

  @Test
  void targetIsReshapedOnlyAcrossSizeOneDimensions() {
    try (Scope s = Scope.open()) {
      Tensor col = Tensor.fromArray(OUT, 4, 1);
      Tensor flat = Tensor.fromArray(TARGET, 4);
      double expected = new SquaredLoss().apply(col, col.reshape(4).add(0.0)).item();
      assertEquals(0, expected);
      // [4] output with [4,1] target and the reverse both pair element i with element i.
      assertEquals(new SquaredLoss().apply(col, flat).item(),
          new SquaredLoss().apply(Tensor.fromArray(OUT, 4), Tensor.fromArray(TARGET, 4, 1)).item(), 0);
      assertArrayEquals(new long[] {4},
          new SquaredLoss(Reduction.NONE).apply(Tensor.fromArray(OUT, 4), Tensor.fromArray(TARGET, 4, 1)).shape());
    }
  }

  @Test
  void shapeMismatchNamesTheLossAndBothShapes() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.zeros(2, 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new SquaredLoss().apply(a, Tensor.zeros(3, 2)));
      assertTrue(e.getMessage().contains("SquaredLoss") && e.getMessage().contains("[2,3]")
          && e.getMessage().contains("[3,2]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new MSELoss().apply(a, Tensor.zeros(5)));
      assertTrue(e.getMessage().contains("MSELoss") && e.getMessage().contains("[5]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> new SquaredLoss().apply(Tensor.zeros(DType.INT64, 3), Tensor.zeros(3)));
      assertTrue(e.getMessage().contains("floating point"), e.getMessage());
    }
  }

  @Test
  void gradcheck() {
    double[] y = GradCheck.uniform(2, 6, -2, 2);
    for (Reduction r : Reduction.values()) {
      GradCheck.checkFunction("SquaredLoss " + r,
          x -> new SquaredLoss(r).apply(x, Tensor.fromArray(y, 2, 3)), GradCheck.uniform(1, 6, -2, 2), 2, 3);
      GradCheck.checkFunction("MSELoss " + r,
          x -> new MSELoss(r).apply(x, Tensor.fromArray(y, 6)), GradCheck.uniform(3, 6, -2, 2), 6, 1);
    }
  }
}
