package dev.fathom.examples;

import dev.fathom.data.DataLoader;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.SquaredLoss;
import dev.fathom.nn.Init;
import dev.fathom.nn.Linear;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.EpochMetrics;
import dev.fathom.train.Trainer;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The notes' first model: y = Xw + b + noise with w = [2, -3.4], b = 4.2,
 * 1000 examples, noise N(0, 0.01); a Linear(2, 1) trained with the squared
 * loss (1/2 convention) and minibatch SGD (batch 10, lr 0.03, 3 epochs).
 */
public final class LinearRegression {
  public static final double[] TRUE_W = {2, -3.4};
  public static final double TRUE_B = 4.2;

  private LinearRegression() {}

  /** Learned [w1, w2, b]. */
  public static double[] run(long seed, PrintStream out) {
    Generator gen = new Generator(seed);
    Tensor features;
    Tensor labels;
    try (Scope s = Scope.open()) {
      features = s.keep(Tensor.randn(gen, 1000, 2));
      Tensor w = Tensor.fromArray(new float[] {(float) TRUE_W[0], (float) TRUE_W[1]}, 2, 1);
      labels = s.keep(features.matmul(w).add(TRUE_B).add(Tensor.normal(gen, 0, 0.01, DType.FLOAT32, 1000, 1)));
    }
    try (TensorDataset data = new TensorDataset(features, labels);
        Linear net = new Linear(2, 1, true, gen);
        SGD sgd = new SGD(net.parameters(), 0.03);
        DataLoader loader = DataLoader.builder(data).batchSize(10).shuffle(true).seed(seed).build()) {
      Init.normal_(net.weight(), 0, 0.01, gen);
      Init.zeros_(net.bias());
      Trainer trainer = Trainer.builder(net, new SquaredLoss(), sgd).epochs(3).build();
      List<EpochMetrics> history = trainer.fit(loader, null);
      for (EpochMetrics m : history) {
        out.printf(Locale.ROOT, "epoch %d, loss %.6f%n", m.epoch(), m.trainLoss());
      }
      float[] w = net.weight().toFloatArray();
      float b = net.bias().toFloatArray()[0];
      out.printf(Locale.ROOT, "true w [%.4f, %.4f], learned [%.4f, %.4f]; true b %.4f, learned %.4f%n",
          TRUE_W[0], TRUE_W[1], w[0], w[1], TRUE_B, b);
      out.printf(Locale.ROOT, "error in w [%.5f, %.5f], error in b %.5f%n",
          TRUE_W[0] - w[0], TRUE_W[1] - w[1], TRUE_B - b);
      return new double[] {w[0], w[1], b};
    }
  }
}
