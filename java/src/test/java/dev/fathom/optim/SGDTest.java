package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.loss.Reduction;
import dev.fathom.loss.SquaredLoss;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SGD against the plain-Java formulas, weight decay, and the notes' eta/|B| convention. */
class SGDTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static void compare(String name, double lr, double momentum, double dampening, double wd,
      boolean nesterov) {
    OptimizerTesting.compare(name,
        ps -> SGD.builder(ps, lr).momentum(momentum).dampening(dampening).weightDecay(wd)
            .nesterov(nesterov).build(),
        i -> new ReferenceOptimizers.Sgd(lr, momentum, dampening, wd, nesterov),
        ReferenceOptimizers.Sgd::step, 8, 1e-14);
  }

  @Test
  void matchesReferenceFormulas() {
    compare("plain", 0.3, 0, 0, 0, false);
    compare("momentum", 0.3, 0.9, 0, 0, false);
    compare("momentum dampening", 0.3, 0.9, 0.25, 0, false);
    compare("nesterov", 0.3, 0.9, 0, 0, true);
    compare("weight decay", 0.3, 0, 0, 0.05, false);
    compare("momentum weight decay nesterov", 0.2, 0.8, 0, 0.1, true);
  }

  @Test
  void weightDecayAddsTheL2GradientWeightDecayTimesP() {
    // The notes' penalty lambda/2 * sum w^2 adds lambda * w to the gradient:
    // one step from the same point and gradient differs by exactly -lr * wd * p.
    List<Tensor> a = OptimizerTesting.params();
    List<Tensor> b = OptimizerTesting.params();
    double[] start = a.get(0).toDoubleArray();
    try (Scope s = Scope.open();
        SGD plain = new SGD(a, 0.1);
        SGD decayed = SGD.builder(b, 0.1).weightDecay(0.5).build()) {
      OptimizerTesting.loss(a).backward();
      OptimizerTesting.loss(b).backward();
      plain.step();
      decayed.step();
      double[] pa = a.get(0).toDoubleArray();
      double[] pb = b.get(0).toDoubleArray();
      for (int i = 0; i < pa.length; i++) {
        assertEquals(-0.1 * 0.5 * start[i], pb[i] - pa[i], 1e-15, "element " + i);
      }
    } finally {
      OptimizerTesting.close(a);
      OptimizerTesting.close(b);
    }
  }

  @Test
  void notesSumLossWithEtaOverBatchEqualsMeanLossWithEta() {
    // The notes: theta -= eta/|B| * sum_{i in B} x_i (y_hat_i - y_i), i.e. their sgd() on a summed
    // squared loss. Fathom: MEAN loss with lr = eta, or SUM loss with lr = eta/|B|.
    double eta = 0.03;
    int batch = 10;
    Generator gen = new Generator(3);
    Tensor x0;
    Tensor y0;
    try (Scope s = Scope.open()) {
      x0 = s.keep(Tensor.randn(gen, batch, 2).to(DType.FLOAT64));
      y0 = s.keep(Tensor.randn(gen, batch).to(DType.FLOAT64));
    }
    try (Tensor x = x0; Tensor y = y0) {
      double[] w0 = {0.3, -0.2};
      Tensor wSum = Tensor.fromArray(w0.clone(), 2, 1).requiresGrad(true);
      Tensor bSum = Tensor.fromArray(new double[] {0.1}, 1).requiresGrad(true);
      Tensor wMean = Tensor.fromArray(w0.clone(), 2, 1).requiresGrad(true);
      Tensor bMean = Tensor.fromArray(new double[] {0.1}, 1).requiresGrad(true);
      try (SGD notes = new SGD(List.of(wSum, bSum), eta / batch);
          SGD fathom = new SGD(List.of(wMean, bMean), eta)) {
        // The notes' explicit update for the first step, in plain Java.
        double[] xs = x.toDoubleArray();
        double[] ys = y.toDoubleArray();
        double[] w = w0.clone();
        double b = 0.1;
        double[] gw = new double[2];
        double gb = 0;
        for (int i = 0; i < batch; i++) {
          double r = xs[2 * i] * w[0] + xs[2 * i + 1] * w[1] + b - ys[i];
          gw[0] += xs[2 * i] * r;
          gw[1] += xs[2 * i + 1] * r;
          gb += r;
        }
        double[] expectedW = {w[0] - eta / batch * gw[0], w[1] - eta / batch * gw[1]};
        double expectedB = b - eta / batch * gb;
        for (int step = 0; step < 5; step++) {
          try (Scope s = Scope.open()) {
            new SquaredLoss(Reduction.SUM).apply(x.matmul(wSum).add(bSum), y).backward();
            new SquaredLoss(Reduction.MEAN).apply(x.matmul(wMean).add(bMean), y).backward();
            notes.step();
            fathom.step();
            notes.zeroGrad();
            fathom.zeroGrad();
          }
          if (step == 0) {
            assertArrayEquals(expectedW, wSum.toDoubleArray(), 1e-15);
            assertEquals(expectedB, bSum.item(), 1e-15);
          }
          assertArrayEquals(wSum.toDoubleArray(), wMean.toDoubleArray(), 1e-14, "w after step " + step);
          assertArrayEquals(bSum.toDoubleArray(), bMean.toDoubleArray(), 1e-14, "b after step " + step);
        }
        assertTrue(Math.abs(wMean.toDoubleArray()[0] - w0[0]) > 1e-3, "the parameters moved");
      } finally {
        wSum.close();
        bSum.close();
        wMean.close();
        bMean.close();
      }
    }
  }

  @Test
  void rejectsBadOptions() {
    List<Tensor> ps = OptimizerTesting.params();
    try {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SGD.builder(ps, 0.1).nesterov(true).build());
      assertTrue(e.getMessage().contains("nesterov"), e.getMessage());
      assertThrows(IllegalArgumentException.class,
          () -> SGD.builder(ps, 0.1).momentum(0.9).dampening(0.1).nesterov(true).build());
      e = assertThrows(IllegalArgumentException.class, () -> SGD.builder(ps, 0.1).momentum(-0.5).build());
      assertTrue(e.getMessage().contains("momentum=-0.5"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> SGD.builder(ps, 0.1).dampening(2).build());
      assertThrows(IllegalArgumentException.class, () -> SGD.builder(ps, 0.1).weightDecay(-1).build());
      assertThrows(IllegalArgumentException.class, () -> new SGD(ps, Double.NaN));
    } finally {
      OptimizerTesting.close(ps);
    }
  }
}
