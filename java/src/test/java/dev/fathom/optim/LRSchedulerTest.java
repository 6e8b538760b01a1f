package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** StepLR and CosineAnnealingLR produce PyTorch's sequences (values computed by hand). */
class LRSchedulerTest {
  private long baseline;
  private Tensor p;

  @BeforeEach
  void setUp() {
    baseline = Tensor.liveNativeBytes();
    p = Tensor.zeros(2).requiresGrad(true);
  }

  @AfterEach
  void noLeaks() {
    p.close();
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  /** lastLearningRate() and the optimizer's rate for epochs 0, 1, ... */
  private static void assertSequence(LRScheduler sched, Optimizer opt, double[] expected) {
    for (int epoch = 0; epoch < expected.length; epoch++) {
      if (epoch > 0) {
        sched.step();
      }
      assertEquals(expected[epoch], sched.lastLearningRate(), 1e-12, "epoch " + epoch);
      assertEquals(expected[epoch], opt.learningRate(), 1e-12, "optimizer rate at epoch " + epoch);
    }
  }

  @Test
  void stepLR() {
    try (SGD sgd = new SGD(List.of(p), 0.5)) {
      StepLR sched = new StepLR(sgd, 3, 0.1);
      assertEquals(0, sched.lastEpoch());
      assertSequence(sched, sgd, new double[] {0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.005, 0.005, 0.005, 0.0005});
      assertEquals(9, sched.lastEpoch());
      assertEquals(0.5, sched.baseLearningRate());
    }
    try (SGD sgd = new SGD(List.of(p), 1.0)) {
      assertSequence(new StepLR(sgd, 1, 0.5), sgd, new double[] {1, 0.5, 0.25, 0.125});
    }
  }

  @Test
  void cosineAnnealingLR() {
    try (Adam adam = new Adam(List.of(p), 1.0)) {
      // etaMin + (1 - etaMin)(1 + cos(pi e / 4)) / 2 with etaMin = 0.1; cos(pi/4) = 0.70710678...
      // Past tMax the cosine rises again (PyTorch, no restart): e = 5 equals e = 3, e = 8 is 1.
      double a = 0.1 + 0.9 * 0.8535533905932737;   // 0.8681980515339464
      double b = 0.1 + 0.9 * 0.14644660940672624;  // 0.23180194846605362
      assertSequence(new CosineAnnealingLR(adam, 4, 0.1), adam,
          new double[] {1.0, a, 0.55, b, 0.1, b, 0.55, a, 1.0});
    }
    try (SGD sgd = new SGD(List.of(p), 0.2)) {
      assertSequence(new CosineAnnealingLR(sgd, 2), sgd, new double[] {0.2, 0.1, 0.0, 0.1, 0.2});
    }
  }

  @Test
  void creatingASchedulerSetsEpochZerosRateAndStepsOverwriteManualChanges() {
    try (SGD sgd = new SGD(List.of(p), 0.4)) {
      StepLR sched = new StepLR(sgd, 2);   // gamma 0.1
      sgd.setLearningRate(123);
      sched.step();
      assertEquals(0.4, sgd.learningRate(), 1e-15);
      sched.step();
      assertEquals(0.04, sgd.learningRate(), 1e-15);
    }
  }

  @Test
  void rejectsBadArguments() {
    try (SGD sgd = new SGD(List.of(p), 0.4)) {
      assertThrows(IllegalArgumentException.class, () -> new StepLR(sgd, 0, 0.1));
      assertThrows(IllegalArgumentException.class, () -> new StepLR(sgd, 2, -1));
      assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(sgd, 0, 0));
      assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLR(sgd, 10, Double.NaN));
    }
  }
}
