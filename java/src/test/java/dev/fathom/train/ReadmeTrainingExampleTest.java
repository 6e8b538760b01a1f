package dev.fathom.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Dropout;
import dev.fathom.nn.Flatten;
import dev.fathom.nn.Linear;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training example of docs/guide.md (Models, training and data) as written there (one epoch instead of ten). */
class ReadmeTrainingExampleTest {
  @Test
  void readmeTrainingExampleRuns(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
    Path metrics = dir.resolve("runs/mlp/metrics.csv");
    Generator gen = new Generator(0);
    try (TensorDataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
         TensorDataset test = FashionMnist.load(FashionMnist.Split.TEST);
         Sequential net = new Sequential(new Flatten(), new Linear(784, 256, true, gen), new ReLU(),
                                         new Dropout(0.2, gen), new Linear(256, 10, true, gen));
         SGD sgd = SGD.builder(net.parameters(), 0.1).momentum(0.9).weightDecay(1e-4).build();
         DataLoader trainLoader = DataLoader.builder(train).batchSize(256).shuffle(true).seed(0).prefetch(1).build();
         DataLoader testLoader = DataLoader.builder(test).batchSize(256).build()) {
      Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(1).build()
          .fit(trainLoader, testLoader, new ProgressBar(), new MetricsCsv(metrics));
    }
    assertEquals(2, Files.readAllLines(metrics).size());
    double acc = Double.parseDouble(Files.readAllLines(metrics).get(1).split(",")[4]);
    assertTrue(acc > 0.75, "one epoch: " + acc);
  }
}
