package dev.fathom.svm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.Synthetic;
import dev.fathom.data.TensorDataset;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The kernel trick on data no line separates: on concentric circles the linear SVM stays
 * at chance and the RBF SVM is near perfect; on two moons the RBF SVM beats the line.
 */
class NonlinearDataTest {
  private static double[] accuracies(TensorDataset train, TensorDataset test, double gamma) {
    try (LinearSVM linear = LinearSVM.builder().lambda(1e-3).epochs(20).batchSize(32).build();
        KernelSVM rbf = KernelSVM.builder(Kernel.rbf(gamma)).c(1).build()) {
      linear.fit(train.features(), train.labels());
      rbf.fit(train.features(), train.labels());
      return new double[] {linear.accuracy(test.features(), test.labels()),
          rbf.accuracy(test.features(), test.labels()), rbf.numSupportVectors()};
    }
  }

  @Test
  void circles() {
    long before = Tensor.liveNativeBytes();
    Generator gen = new Generator(0);
    try (TensorDataset train = Synthetic.circles(300, 0.08, 0.5, gen);
        TensorDataset test = Synthetic.circles(300, 0.08, 0.5, gen)) {
      double[] acc = accuracies(train, test, 1);
      assertTrue(Math.abs(acc[0] - 0.5) < 0.1, "linear SVM on circles: " + acc[0]);
      assertTrue(acc[1] > 0.95, "RBF SVM on circles: " + acc[1]);
      assertTrue(acc[2] < 300, "support vectors " + acc[2]);
    }
    assertEquals(before, Tensor.liveNativeBytes());
  }

  @Test
  void moons() {
    long before = Tensor.liveNativeBytes();
    Generator gen = new Generator(1);
    try (TensorDataset train = Synthetic.moons(300, 0.15, gen);
        TensorDataset test = Synthetic.moons(300, 0.15, gen)) {
      double[] acc = accuracies(train, test, 2);
      // A line gets most of two moons right (about 0.85) but not the interleaved tips.
      assertTrue(acc[0] < 0.92, "linear SVM on moons: " + acc[0]);
      assertTrue(acc[1] > 0.95, "RBF SVM on moons: " + acc[1]);
      assertTrue(acc[1] > acc[0] + 0.05, "RBF " + acc[1] + " vs linear " + acc[0]);
    }
    assertEquals(before, Tensor.liveNativeBytes());
  }
}
