package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Optimizer and scheduler state export/import: a fresh optimizer that loads
 * another's state continues with bit-identical updates.
 */
class OptimizerStateTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static void step(Optimizer opt, List<Tensor> ps) {
    try (Scope s = Scope.open()) {
      opt.zeroGrad();
      OptimizerTesting.loss(ps).backward();
      opt.step();
    }
  }

  /** Runs 3 steps, moves the state to a fresh optimizer over copied parameters, then 4 more on both. */
  private static void continuesExactly(Function<List<Tensor>, Optimizer> make, List<String> expectedKeys) {
    List<Tensor> a = OptimizerTesting.params();
    List<Tensor> b = OptimizerTesting.params();
    try (Optimizer first = make.apply(a); Optimizer second = make.apply(b)) {
      for (int i = 0; i < 3; i++) {
        step(first, a);
      }
      try (Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        for (int i = 0; i < a.size(); i++) {
          b.get(i).copy_(a.get(i).detach());
        }
        first.setLearningRate(0.0375);   // as a scheduler would have
        Map<String, Tensor> state = first.stateDict();
        assertEquals(expectedKeys, List.copyOf(state.keySet()));
        second.loadStateDict(state);
        assertEquals(0.0375, second.learningRate());
      }
      for (int i = 0; i < 4; i++) {
        step(first, a);
        step(second, b);
      }
      // Bitwise: both take the same steps on the same shapes (determinism, not a tolerance).
      for (int i = 0; i < a.size(); i++) {
        assertArrayEquals(a.get(i).toDoubleArray(), b.get(i).toDoubleArray(), "parameter " + i);
      }
    } finally {
      OptimizerTesting.close(a);
      OptimizerTesting.close(b);
    }
  }

  @Test
  void sgdMomentumBuffersRoundTrip() {
    continuesExactly(ps -> SGD.builder(ps, 0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build(),
        List.of("lr", "state.0.momentum_buffer", "state.1.momentum_buffer"));
    continuesExactly(ps -> new SGD(ps, 0.1), List.of("lr"));
  }

  @Test
  void adamMomentsAndStepsRoundTrip() {
    List<String> keys = List.of("lr", "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
        "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq");
    continuesExactly(ps -> new Adam(ps, 0.05, 0.8, 0.9, 1e-8, 0.01), keys);
    continuesExactly(ps -> new AdamW(ps, 0.05), keys);
  }

  @Test
  void loadingClearsStateThatTheExportDidNotHave() {
    List<Tensor> ps = OptimizerTesting.params();
    try (Adam fresh = new Adam(ps, 0.1); Adam used = new Adam(ps, 0.1); Scope s = Scope.open()) {
      step(used, ps);
      assertEquals(1, used.stepCount(0));
      used.loadStateDict(fresh.stateDict());
      assertEquals(0, used.stepCount(0));
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void mismatchedStateIsRefusedWholeAndNamed() {
    List<Tensor> ps = OptimizerTesting.params();
    try (SGD sgd = SGD.builder(ps, 0.1).momentum(0.9).build(); Adam adam = new Adam(ps, 0.1);
        Scope s = Scope.open()) {
      step(sgd, ps);
      Map<String, Tensor> state = new LinkedHashMap<>(sgd.stateDict());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(state));
      assertTrue(e.getMessage().contains("unexpected 'state.0.momentum_buffer'"), e.getMessage());

      state.put("state.1.momentum_buffer", Tensor.zeros(DType.FLOAT64, 3));
      state.put("state.7.momentum_buffer", Tensor.zeros(DType.FLOAT64, 2));
      state.put("lr", Tensor.scalar(0.5, DType.FLOAT64));
      e = assertThrows(IllegalArgumentException.class, () -> sgd.loadStateDict(state));
      assertTrue(e.getMessage().contains("'state.1.momentum_buffer' is [3] float64 but parameter 1 is [2]"),
          e.getMessage());
      assertTrue(e.getMessage().contains("unexpected 'state.7.momentum_buffer'"), e.getMessage());
      assertEquals(0.1, sgd.learningRate(), "nothing changed");

      Map<String, Tensor> partial = new LinkedHashMap<>();
      step(adam, ps);
      adam.stateDict().forEach((k, v) -> {
        if (!k.equals("state.1.exp_avg_sq")) {
          partial.put(k, v);
        }
      });
      e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(partial));
      assertTrue(e.getMessage().contains("parameter 1 lacks [exp_avg_sq]"), e.getMessage());
    } finally {
      OptimizerTesting.close(ps);
    }
  }

  @Test
  void schedulersResumeTheirSchedule() {
    List<Tensor> ps = OptimizerTesting.params();
    try (SGD a = new SGD(ps, 0.2); SGD b = new SGD(ps, 0.9)) {
      CosineAnnealingLR ca = new CosineAnnealingLR(a, 10, 0.01);
      CosineAnnealingLR cb = new CosineAnnealingLR(b, 10, 0.01);
      for (int i = 0; i < 4; i++) {
        ca.step();
      }
      cb.loadStateDict(ca.stateDict());
      assertEquals(a.learningRate(), b.learningRate());
      for (int i = 0; i < 3; i++) {
        ca.step();
        cb.step();
        assertEquals(a.learningRate(), b.learningRate());
      }
      assertEquals(7, cb.lastEpoch());
      StepLR st = new StepLR(b, 2);
      assertThrows(IllegalArgumentException.class, () -> st.loadStateDict(Map.of("last_epoch", 1.5,
          "base_lr", 0.1, "last_lr", 0.1)));
      LRScheduler custom = new LRScheduler() {
        @Override
        public void step() {}

        @Override
        public double lastLearningRate() {
          return 0;
        }
      };
      assertThrows(UnsupportedOperationException.class, custom::stateDict);
    } finally {
      OptimizerTesting.close(ps);
    }
  }
}
