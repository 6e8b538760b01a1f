package dev.fathom.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.zoo.Models;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Softmax regression and the MLP on real Fashion-MNIST with small budgets
 * (the full 10-epoch results are in docs/benchmarks.md, Fashion-MNIST accuracy): each must clearly learn.
 */
class FashionMnistTrainingTest {
  @BeforeAll
  static void needsData() {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
  }

  private static double train(Sequential net, double lr, double momentum, int epochs) {
    try (TensorDataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        TensorDataset test = FashionMnist.load(FashionMnist.Split.TEST);
        net;
        SGD sgd = SGD.builder(net.parameters(), lr).momentum(momentum).build();
        DataLoader trainLoader = DataLoader.builder(train).batchSize(256).shuffle(true).seed(0).prefetch(1).build();
        DataLoader testLoader = DataLoader.builder(test).batchSize(256).build()) {
      List<EpochMetrics> h = Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(epochs).build()
          .fit(trainLoader, testLoader);
      return h.get(h.size() - 1).testAcc();
    }
  }

  @Test
  void softmaxRegressionLearns() {
    double acc = train(Models.softmaxRegression(10, new Generator(0)), 0.1, 0, 3);
    assertTrue(acc > 0.80, "test accuracy " + acc);
  }

  @Test
  void mlpLearns() {
    double acc = train(Models.mlp(10, 0, new Generator(0)), 0.1, 0.9, 3);
    assertTrue(acc > 0.84, "test accuracy " + acc);
  }
}
