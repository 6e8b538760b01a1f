package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every optimizer shares: parameter checks, zeroGrad, skipping, learning rate, memory. */
class OptimizerTest {
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
  void rejectsParametersThatAreNotTrainableLeaves() {
    List<Tensor> ps = OptimizerTesting.params();
    Tensor frozen = Tensor.ones(2);
    Tensor closed = Tensor.ones(2).requiresGrad(true);
    closed.close();
    try (Scope s = Scope.open()) {
      Tensor computed = ps.get(0).mul(2.0);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new SGD(List.of(ps.get(0), computed), 0.1));
      assertTrue(e.getMessage().contains("SGD: parameter 1 [3,2]") && e.getMessage().contains("not a leaf"),
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(frozen), 0.1));
      assertTrue(e.getMessage().contains("Adam: parameter 0 [2]")
          && e.getMessage().contains("does not require grad"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(ps.get(1), ps.get(1)), 0.1));
      assertTrue(e.getMessage().contains("same tensor as parameter 0"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(), 0.1));
      assertTrue(e.getMessage().contains("empty parameter list"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new SGD(List.of(closed), 0.1));
      assertTrue(e.getMessage().contains("closed"), e.getMessage());
      List<Tensor> withNull = new ArrayList<>();
      withNull.add(null);
      assertThrows(IllegalArgumentException.class, () -> new SGD(withNull, 0.1));
      e = assertThrows(IllegalArgumentException.class, () -> new SGD(ps, -0.1));
      assertTrue(e.getMessage().contains("learning rate"), e.getMessage());
    } finally {
      OptimizerTesting.close(ps);
      frozen.close();
    }
  }

  @Test
  void zeroGradDropsGradients() {
    List<Tensor> ps = OptimizerTesting.params();
    try (Scope s = Scope.open(); SGD sgd = new SGD(ps, 0.1)) {
      OptimizerTesting.loss(ps).backward();
      assertNotNull(ps.get(0).grad());
      sgd.zeroGrad();
      assertNull(ps.get(0).grad());
      assertNull(ps.get(1).grad());
      sgd.zeroGrad();   // no gradients: nothing to do
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void stepSkipsParametersWithoutGradAndTheirState() {
    List<Tensor> ps = OptimizerTesting.params();
    Tensor w = ps.get(0);
    Tensor b = ps.get(1);
    double[] b0 = b.toDoubleArray();
    try (Adam adam = new Adam(ps, 0.1); SGD sgd = SGD.builder(ps, 0.1).momentum(0.9).build()) {
      for (Optimizer opt : List.of(adam, sgd)) {
        for (int i = 0; i < 3; i++) {
          try (Scope s = Scope.open()) {
            w.square().sum().backward();   // b is not in the graph: b.grad() stays null
            double[] before = w.toDoubleArray();
            opt.step();
            opt.zeroGrad();
            assertNotEquals(before[0], w.toDoubleArray()[0], "w moves");
            assertArrayEquals(b0, b.toDoubleArray(), 0, "b has no gradient and must not move");
          }
        }
      }
      assertEquals(3, adam.stepCount(0));
      assertEquals(0, adam.stepCount(1));
      // b's first real step starts fresh state: Adam moves it by lr * sign(g), SGD by lr * g.
      try (Scope s = Scope.open()) {
        b.sum().backward();   // gradient 1 everywhere
        adam.step();
        assertEquals(1, adam.stepCount(1));
        double[] afterAdam = b.toDoubleArray();
        for (int i = 0; i < b0.length; i++) {
          assertEquals(b0[i] - 0.1, afterAdam[i], 1e-9);
        }
        sgd.step();
        double[] afterSgd = b.toDoubleArray();
        for (int i = 0; i < b0.length; i++) {
          assertEquals(afterAdam[i] - 0.1, afterSgd[i], 1e-15, "momentum buffer starts at g");
        }
      }
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void learningRateIsReadEachStep() {
    List<Tensor> ps = OptimizerTesting.params();
    double[] w0 = ps.get(0).toDoubleArray();
    try (Scope s = Scope.open(); SGD sgd = new SGD(ps, 0.1)) {
      assertEquals(0.1, sgd.learningRate());
      sgd.setLearningRate(0);
      OptimizerTesting.loss(ps).backward();
      sgd.step();
      assertArrayEquals(w0, ps.get(0).toDoubleArray(), 0);
      sgd.setLearningRate(0.5);
      double[] g = ps.get(0).grad().toDoubleArray();
      sgd.step();
      double[] w1 = ps.get(0).toDoubleArray();
      for (int i = 0; i < w0.length; i++) {
        assertEquals(w0[i] - 0.5 * g[i], w1[i], 1e-15);
      }
      assertThrows(IllegalArgumentException.class, () -> sgd.setLearningRate(Double.POSITIVE_INFINITY));
      assertEquals(ps, sgd.parameters());
      assertThrows(UnsupportedOperationException.class, () -> sgd.parameters().clear());
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void closeFreesStateAndStepThenThrows() {
    List<Tensor> ps = OptimizerTesting.params();
    try {
      Adam adam = new Adam(ps, 0.1);
      try (Scope s = Scope.open()) {
        OptimizerTesting.loss(ps).backward();
        long beforeState = Tensor.liveNativeBytes();
        adam.step();
        // m and v for w [3,2] and b [2], float64.
        assertEquals(beforeState + 2 * (6 + 2) * 8, Tensor.liveNativeBytes());
        adam.close();
        assertEquals(beforeState, Tensor.liveNativeBytes());
        adam.close();   // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class, adam::step);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertTrue(!ps.get(0).isClosed(), "closing the optimizer leaves the parameters alone");
      }
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  private static void memoryStaysFlat(String name, Function<List<Tensor>, Optimizer> make, boolean clip) {
    List<Tensor> ps = OptimizerTesting.params();
    try (Optimizer opt = make.apply(ps)) {
      long afterFirst = 0;
      for (int i = 0; i < 1000; i++) {
        try (Scope s = Scope.open()) {
          OptimizerTesting.loss(ps).backward();
          if (clip) {
            ClipGrad.clipGradNorm(ps, 0.05);
          }
          opt.step();
          opt.zeroGrad();
        }
        if (i == 0) {
          afterFirst = Tensor.liveNativeBytes();   // parameters + optimizer state
        }
      }
      assertEquals(afterFirst, Tensor.liveNativeBytes(), name + ": native memory grew over 1000 steps");
      assertTrue(OptimizerTesting.lossValue(ps) < 0.5, name + " trains");
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void memoryStaysFlatOverThousandSteps() {
    memoryStaysFlat("SGD", ps -> SGD.builder(ps, 0.1).momentum(0.9).nesterov(true).weightDecay(1e-4).build(), false);
    memoryStaysFlat("Adam", ps -> new Adam(ps, 0.01, 0.9, 0.999, 1e-8, 1e-4), false);
    memoryStaysFlat("AdamW", ps -> new AdamW(ps, 0.01), false);
    memoryStaysFlat("SGD with clipGradNorm", ps -> new SGD(ps, 0.5), true);
  }
}
