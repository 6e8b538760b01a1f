package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The tensor example of docs/guide.md (Tensors and autograd), its step repeated on one fixed
 * batch, so that it stays true.
 */
class ReadmeExampleTest {
  @Test
  void readmeExampleRunsAndLearns() {
    long baseline = Tensor.liveNativeBytes();
    Generator gen = new Generator(42);
    Tensor w = Tensor.normal(gen, 0, 0.01, DType.FLOAT32, 784, 10).requiresGrad(true);
    double first = 0;
    double last = 0;
    Tensor x0 = Tensor.rand(new Generator(7), 64, 784);
    Tensor l0;
    try (Scope s = Scope.open()) {  // the float draw is a temporary; only the labels are kept
      l0 = s.keep(Tensor.uniform(new Generator(8), 0, 10, DType.FLOAT32, 64).to(DType.INT64));
    }
    for (int i = 0; i < 20; i++) {
      try (Scope step = Scope.open()) {
        Tensor x = x0;
        Tensor labels = l0;
        Tensor y = Tensor.oneHot(labels, 10);
        Tensor logits = x.matmul(w);
        Tensor loss = logits.logsumexp(1, true).sub(logits).mul(y).sum(1, false).mean();
        loss.backward();
        try (GradMode.Guard g = GradMode.disable()) {
          w.addScaled_(w.grad(), -0.1);
        }
        w.zeroGrad();
        if (i == 0) {
          first = loss.item();
        }
        last = loss.item();
      }
    }
    assertEquals(Math.log(10), first, 0.1, "initial cross-entropy of 10 classes");
    assertTrue(last < first * 0.8, "the same batch is fitted: " + first + " -> " + last);
    w.close();
    x0.close();
    l0.close();
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
