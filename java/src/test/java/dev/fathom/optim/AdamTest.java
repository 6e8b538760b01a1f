package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Adam (L2 weight decay) and AdamW (decoupled) against the plain-Java formulas. */
class AdamTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  @Test
  void adamMatchesReference() {
    OptimizerTesting.compare("Adam defaults", ps -> new Adam(ps, 0.05),
        i -> new ReferenceOptimizers.AdamRef(0.05, 0.9, 0.999, 1e-8, 0, false),
        ReferenceOptimizers.AdamRef::step, 8, 1e-13);
    OptimizerTesting.compare("Adam betas eps L2", ps -> new Adam(ps, 0.02, 0.8, 0.95, 1e-3, 0.1),
        i -> new ReferenceOptimizers.AdamRef(0.02, 0.8, 0.95, 1e-3, 0.1, false),
        ReferenceOptimizers.AdamRef::step, 8, 1e-13);
  }

  @Test
  void adamWMatchesReference() {
    OptimizerTesting.compare("AdamW defaults", ps -> new AdamW(ps, 0.05),
        i -> new ReferenceOptimizers.AdamRef(0.05, 0.9, 0.999, 1e-8, 0.01, true),
        ReferenceOptimizers.AdamRef::step, 8, 1e-13);
    OptimizerTesting.compare("AdamW strong decay", ps -> new AdamW(ps, 0.02, 0.8, 0.95, 1e-3, 0.5),
        i -> new ReferenceOptimizers.AdamRef(0.02, 0.8, 0.95, 1e-3, 0.5, true),
        ReferenceOptimizers.AdamRef::step, 8, 1e-13);
  }

  @Test
  void biasCorrectionMakesTheFirstStepLrTimesSign() {
    // m1 = (1-b1) g, v1 = (1-b2) g^2: corrected, m/sqrt(v) = sign(g). Uncorrected it would be ~3.16.
    List<Tensor> ps = OptimizerTesting.params();
    double[] before = ps.get(0).toDoubleArray();
    try (Scope s = Scope.open(); Adam adam = new Adam(ps, 0.01, 0.9, 0.999, 0, 0)) {
      OptimizerTesting.loss(ps).backward();
      double[] g = ps.get(0).grad().toDoubleArray();
      adam.step();
      double[] after = ps.get(0).toDoubleArray();
      for (int i = 0; i < g.length; i++) {
        assertEquals(-0.01 * Math.signum(g[i]), after[i] - before[i], 1e-15, "element " + i);
      }
      assertEquals(1, adam.stepCount(0));
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void adamWDecayIsDecoupledFromTheMoments() {
    // With a zero gradient AdamW only shrinks p by (1 - lr wd); Adam's L2 term goes through the
    // moments and moves each weight by lr on the first step.
    double lr = 0.1;
    double wd = 0.2;
    double[] start = {1.5, -0.5, 0.25};
    Tensor pw = Tensor.fromArray(start.clone(), 3).requiresGrad(true);
    Tensor pa = Tensor.fromArray(start.clone(), 3).requiresGrad(true);
    try (Scope s = Scope.open();
        AdamW adamW = new AdamW(List.of(pw), lr, 0.9, 0.999, 1e-8, wd);
        Adam adam = new Adam(List.of(pa), lr, 0.9, 0.999, 1e-8, wd)) {
      pw.mul(0.0).sum().backward();   // a zero gradient (not a missing one)
      pa.mul(0.0).sum().backward();
      adamW.step();
      adam.step();
      double[] w = pw.toDoubleArray();
      double[] a = pa.toDoubleArray();
      for (int i = 0; i < 3; i++) {
        assertEquals(start[i] * (1 - lr * wd), w[i], 1e-15, "AdamW element " + i);
        // g / (|g| + eps) = sign(g) up to eps / |g| ~ 1e-7.
        assertEquals(start[i] - lr * Math.signum(start[i]), a[i], 1e-7, "Adam+L2 element " + i);
      }
    } finally {
      pw.close();
      pa.close();
    }
  }

  @Test
  void adamWDiffersFromAdamWithL2AndEqualsItWithoutDecay() {
    List<Tensor> a = OptimizerTesting.params();
    List<Tensor> b = OptimizerTesting.params();
    List<Tensor> c = OptimizerTesting.params();
    List<Tensor> d = OptimizerTesting.params();
    try (Adam l2 = new Adam(a, 0.05, 0.9, 0.999, 1e-8, 0.1);
        AdamW decoupled = new AdamW(b, 0.05, 0.9, 0.999, 1e-8, 0.1);
        Adam plain = new Adam(c, 0.05);
        AdamW noDecay = new AdamW(d, 0.05, 0.9, 0.999, 1e-8, 0)) {
      for (int step = 0; step < 3; step++) {
        try (Scope s = Scope.open()) {
          for (List<Tensor> ps : List.of(a, b, c, d)) {
            OptimizerTesting.loss(ps).backward();
          }
          for (Optimizer o : List.of(l2, decoupled, plain, noDecay)) {
            o.step();
            o.zeroGrad();
          }
        }
      }
      double maxDiff = 0;
      double[] x = a.get(0).toDoubleArray();
      double[] y = b.get(0).toDoubleArray();
      for (int i = 0; i < x.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
      }
      assertTrue(maxDiff > 1e-3, "AdamW and Adam+L2 should differ, max difference " + maxDiff);
      assertArrayEquals(c.get(0).toDoubleArray(), d.get(0).toDoubleArray(), 0);
    } finally {
      for (List<Tensor> ps : List.of(a, b, c, d)) {
        OptimizerTesting.close(ps);
      }
    }
  }

  @Test
  void float32ParametersConverge() {
    Tensor p = Tensor.fromArray(new float[] {0, 10, -4}, 3).requiresGrad(true);
    try (Tensor target = Tensor.fromArray(new float[] {3, -2, 1}, 3); Adam adam = new Adam(List.of(p), 0.1)) {
      for (int i = 0; i < 500; i++) {
        try (Scope s = Scope.open()) {
          p.sub(target).square().sum().backward();
          adam.step();
          adam.zeroGrad();
        }
      }
      assertEquals(DType.FLOAT32, p.dtype());
      float[] v = p.toFloatArray();
      assertEquals(3, v[0], 0.05);
      assertEquals(-2, v[1], 0.05);
      assertEquals(1, v[2], 0.05);
    } finally {
      p.close();
    }
  }

  @Test
  void rejectsBadHyperparameters() {
    List<Tensor> ps = OptimizerTesting.params();
    try {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new Adam(ps, 0.1, 1.0, 0.999, 1e-8, 0));
      assertTrue(e.getMessage().contains("Adam") && e.getMessage().contains("beta1=1.0"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new Adam(ps, 0.1, 0.9, -0.1, 1e-8, 0));
      assertThrows(IllegalArgumentException.class, () -> new Adam(ps, 0.1, 0.9, 0.999, -1, 0));
      e = assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, 0.1, 0.9, 0.999, 1e-8, -0.1));
      assertTrue(e.getMessage().startsWith("AdamW"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> new Adam(ps, -1e-3));
    } finally {
      OptimizerTesting.close(ps);
    }
  }
}
