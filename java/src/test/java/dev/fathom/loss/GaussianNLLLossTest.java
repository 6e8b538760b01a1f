package dev.fathom.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GaussianNLLLoss: 0.5 (log var + (y - mu)^2 / var) [+ 0.5 log 2 pi], var clamped to eps. */
class GaussianNLLLossTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static final double[] MU = {0, 1, -2, 0.5};
  private static final double[] Y = {0.5, 1, 1, -0.5};
  private static final double[] VAR = {1, 0.25, 4, 0};

  private static double reference(double mu, double y, double var, double eps, boolean full) {
    double v = Math.max(var, eps);
    return 0.5 * (Math.log(v) + (y - mu) * (y - mu) / v) + (full ? 0.5 * Math.log(2 * Math.PI) : 0);
  }

  @Test
  void matchesReferenceForEveryReductionAndFull() {
    for (boolean full : new boolean[] {false, true}) {
      double[] ref = new double[4];
      double total = 0;
      for (int i = 0; i < 4; i++) {
        ref[i] = reference(MU[i], Y[i], VAR[i], 1e-6, full);
        total += ref[i];
      }
      try (Scope s = Scope.open()) {
        Tensor mu = Tensor.fromArray(MU, 4);
        Tensor y = Tensor.fromArray(Y, 4);
        Tensor var = Tensor.fromArray(VAR, 4);
        assertArrayEquals(ref, new GaussianNLLLoss(full, 1e-6, Reduction.NONE).apply(mu, y, var).toDoubleArray(), 1e-9);
        assertEquals(total, new GaussianNLLLoss(full, 1e-6, Reduction.SUM).apply(mu, y, var).item(), 1e-9);
        assertEquals(total / 4, new GaussianNLLLoss(full, 1e-6, Reduction.MEAN).apply(mu, y, var).item(), 1e-9);
      }
    }
    // var = 0 is clamped to eps = 1e-6: 0.5 (log 1e-6 + 1 / 1e-6).
    assertEquals(0.5 * (Math.log(1e-6) + 1e6), reference(0.5, -0.5, 0, 1e-6, false), 1e-6);
  }

  @Test
  void clampedVarianceStillGetsAGradient() {
    try (Scope s = Scope.open()) {
      Tensor var = Tensor.fromArray(new double[] {0, 1e-8, 2}, 3).requiresGrad(true);
      Tensor mu = Tensor.zeros(3).to(DType.FLOAT64);
      Tensor y = Tensor.fromArray(new double[] {1e-2, 1e-3, 1}, 3);
      new GaussianNLLLoss(false, 1e-6, Reduction.SUM).apply(mu, y, var).backward();
      double[] g = var.grad().toDoubleArray();
      // d/dvar 0.5 (log v + d^2 / v) = 0.5 (1/v - d^2/v^2), evaluated at v = max(var, eps).
      double[] v = {1e-6, 1e-6, 2};
      double[] d2 = {1e-4, 1e-6, 1};   // element 0: -4.95e7; element 1: exactly 0
      for (int i = 0; i < 3; i++) {
        double expected = 0.5 * (1 / v[i] - d2[i] / (v[i] * v[i]));
        assertEquals(expected, g[i], 1e-9 * Math.abs(expected) + 1e-12, "grad[" + i + "]");
      }
    }
  }

  @Test
  void varianceShapesAndTwoInputForm() {
    try (Scope s = Scope.open()) {
      Tensor mu = Tensor.fromArray(new double[] {0, 1, 2, 3, 4, 5}, 2, 3);
      Tensor y = Tensor.fromArray(new double[] {1, 1, 1, 1, 1, 1}, 2, 3);
      Tensor perRow = Tensor.fromArray(new double[] {0.5, 2}, 2);
      Tensor expanded = Tensor.fromArray(new double[] {0.5, 0.5, 0.5, 2, 2, 2}, 2, 3);
      GaussianNLLLoss nll = new GaussianNLLLoss(false, 1e-6, Reduction.NONE);
      double[] ref = nll.apply(mu, y, expanded).toDoubleArray();
      assertArrayEquals(ref, nll.apply(mu, y, perRow).toDoubleArray(), 1e-15);
      assertArrayEquals(ref, nll.apply(mu, y, perRow.reshape(2, 1)).toDoubleArray(), 1e-15);
      // Two-input form: output [..., 2] = (mean, var).
      Tensor packed = Tensor.stack(List.of(mu, expanded), 2);
      assertArrayEquals(new long[] {2, 3, 2}, packed.shape());
      assertArrayEquals(ref, nll.apply(packed, y).toDoubleArray(), 1e-15);

      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> nll.apply(mu, y, Tensor.ones(3).to(DType.FLOAT64)));
      assertTrue(e.getMessage().contains("GaussianNLLLoss") && e.getMessage().contains("[2,3]")
          && e.getMessage().contains("[3]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> nll.apply(mu, Tensor.ones(3, 2), expanded));
      assertTrue(e.getMessage().contains("[2,3]") && e.getMessage().contains("[3,2]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> nll.apply(mu, y));
      assertTrue(e.getMessage().contains("[..., 2]"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> nll.apply(mu, y, expanded.sub(1.0)));
      assertTrue(e.getMessage().contains("negative"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new GaussianNLLLoss(false, 0, Reduction.MEAN));
    }
  }

  @Test
  void gradcheck() {
    double[] y = GradCheck.uniform(21, 6, -2, 2);
    double[] var = GradCheck.uniform(22, 6, 0.3, 2);
    double[] mu = GradCheck.uniform(23, 6, -2, 2);
    for (Reduction r : Reduction.values()) {
      GaussianNLLLoss nll = new GaussianNLLLoss(true, 1e-6, r);
      GradCheck.checkFunction("GaussianNLLLoss d/dmean " + r,
          x -> nll.apply(x, Tensor.fromArray(y, 2, 3), Tensor.fromArray(var, 2, 3)), mu, 2, 3);
      GradCheck.checkFunction("GaussianNLLLoss d/dvar " + r,
          v -> nll.apply(Tensor.fromArray(mu, 2, 3), Tensor.fromArray(y, 2, 3), v), var, 2, 3);
    }
    double[] packed = new double[12];
    for (int i = 0; i < 6; i++) {
      packed[2 * i] = mu[i];
      packed[2 * i + 1] = var[i];
    }
    GradCheck.checkFunction("GaussianNLLLoss two-input form",
        x -> new GaussianNLLLoss().apply(x, Tensor.fromArray(y, 2, 3)), packed, 2, 3, 2);
  }
}
