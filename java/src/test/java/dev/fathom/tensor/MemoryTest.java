package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Long runs must not grow native memory. */
class MemoryTest {
  @Test
  void hundredThousandOpsInScopesLeaveNoNativeBytes() {
    long baseline = Tensor.liveNativeBytes();
    Tensor w = Tensor.randn(new Generator(1), 16, 8).requiresGrad(true);
    Tensor x = Tensor.randn(new Generator(2), 4, 16);
    int ops = 0;
    while (ops < 100_000) {
      try (Scope step = Scope.open()) {
        Tensor loss = x.matmul(w).relu().sub(0.5).square().mean();
        loss.backward();
        try (GradMode.Guard g = GradMode.disable()) {
          w.addScaled_(w.grad(), -0.01);
        }
        w.zeroGrad();
        ops += 6;
      }
    }
    w.close();
    x.close();
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
