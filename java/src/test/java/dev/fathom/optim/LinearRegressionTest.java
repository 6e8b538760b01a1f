package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.loss.Loss;
import dev.fathom.loss.SquaredLoss;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * End to end: the notes' linear regression. Synthetic y = X w + b + noise with w = [2, -3.4],
 * b = 4.2, 1000 examples; SquaredLoss + SGD in a hand-written shuffled minibatch loop.
 */
class LinearRegressionTest {
  @Test
  void recoversWeightsAndBias() {
    long baseline = Tensor.liveNativeBytes();
    Generator gen = new Generator(42);
    int n = 1000;
    int batchSize = 10;
    Tensor features;
    Tensor labels;
    try (Scope s = Scope.open()) {
      Tensor trueW = Tensor.fromArray(new float[] {2f, -3.4f}, 2, 1);
      features = s.keep(Tensor.randn(gen, n, 2));
      labels = s.keep(features.matmul(trueW).add(4.2).add(Tensor.normal(gen, 0, 0.01, DType.FLOAT32, n, 1)));
    }
    Tensor w = Tensor.normal(gen, 0, 0.01, DType.FLOAT32, 2, 1).requiresGrad(true);
    Tensor b = Tensor.zeros(1).requiresGrad(true);
    Loss loss = new SquaredLoss();           // mean of (y_hat - y)^2 / 2
    SplittableRandom shuffle = new SplittableRandom(7);
    try (Optimizer sgd = new SGD(List.of(w, b), 0.03)) {   // lr = eta (mean loss), batch 10
      for (int epoch = 0; epoch < 3; epoch++) {
        long[] order = permutation(n, shuffle);
        for (int start = 0; start < n; start += batchSize) {
          try (Scope step = Scope.open()) {
            Tensor idx = Tensor.fromArray(Arrays.copyOfRange(order, start, start + batchSize), batchSize);
            Tensor x = features.indexSelect(0, idx);
            Tensor y = labels.indexSelect(0, idx).reshape(batchSize);   // [B] against output [B,1]
            loss.apply(x.matmul(w).add(b), y).backward();
            sgd.step();
            sgd.zeroGrad();
          }
        }
      }
      float[] wv = w.toFloatArray();
      assertEquals(2.0, wv[0], 0.01, "w[0]");
      assertEquals(-3.4, wv[1], 0.01, "w[1]");
      assertEquals(4.2, b.item(), 0.01, "b");
      try (Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        double trainLoss = loss.apply(features.matmul(w).add(b), labels).item();
        assertTrue(trainLoss < 1e-4, "train loss " + trainLoss);   // noise: 0.01^2 / 2 = 5e-5
      }
    } finally {
      w.close();
      b.close();
      features.close();
      labels.close();
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked");
  }

  private static long[] permutation(int n, SplittableRandom rnd) {
    long[] p = new long[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      long t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
