package dev.fathom.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.DataLoader;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Linear;
import dev.fathom.optim.SGD;
import dev.fathom.optim.StepLR;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fit loop on a separable synthetic problem: metrics, listeners, memory. */
class TrainerTest {
  /** Two Gaussian blobs per class in 4-D: linearly separable, 3 classes. */
  static TensorDataset blobs(long n, long seed) {
    Generator g = new Generator(seed);
    try (Scope s = Scope.open()) {
      Tensor labels = Tensor.uniform(g, 0, 3, DType.FLOAT32, n).to(DType.INT64);
      Tensor centers = Tensor.fromArray(new float[] {3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0}, 3, 4);
      Tensor x = centers.indexSelect(0, labels).add(Tensor.randn(g, n, 4).mul(0.5));
      return new TensorDataset(s.keep(x).unscope(), s.keep(labels).unscope());
    }
  }

  @Test
  void fitLearnsAndReportsMetricsAndKeepsMemoryFlat(@TempDir Path dir) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    List<Long> liveAfterEpoch = new ArrayList<>();
    try (TensorDataset train = blobs(2000, 1); TensorDataset test = blobs(500, 2);
        Linear net = new Linear(4, 3, true, new Generator(3));
        SGD sgd = new SGD(net.parameters(), 0.1);
        DataLoader trainLoader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(1).prefetch(1).build();
        DataLoader testLoader = DataLoader.builder(test).batchSize(100).build()) {
      Trainer trainer = Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(5)
          .scheduler(new StepLR(sgd, 2, 0.5)).clipGradNorm(10).build();
      List<EpochMetrics> history = trainer.fit(trainLoader, testLoader,
          new ProgressBar(new PrintStream(progress, true, StandardCharsets.UTF_8), false),
          new MetricsCsv(dir.resolve("m/metrics.csv")), new LoggingListener(),
          new TrainListener() {
            @Override
            public void onEpochEnd(EpochMetrics m) {
              liveAfterEpoch.add(Tensor.liveNativeBytes());
            }
          });
      assertEquals(5, history.size());
      EpochMetrics last = history.get(4);
      assertTrue(last.testAcc() > 0.95, "separable blobs: " + last);
      assertTrue(last.trainLoss() < history.get(0).trainLoss());
      assertEquals(2000, last.trainExamples());
      assertEquals(0.025, sgd.learningRate(), 1e-12, "StepLR halved twice in 5 epochs");
      assertEquals(liveAfterEpoch.get(1), liveAfterEpoch.get(4), "no native growth across epochs");
      Evaluation e = trainer.evaluate(testLoader);
      assertEquals(500, e.examples());
      assertEquals(last.testAcc(), e.accuracy(), 1e-12);
      List<String> csv = Files.readAllLines(dir.resolve("m/metrics.csv"));
      assertEquals(MetricsCsv.HEADER, csv.get(0));
      assertEquals(6, csv.size());
      assertTrue(csv.get(5).startsWith("5,"), csv.get(5));
      String text = progress.toString(StandardCharsets.UTF_8);
      assertTrue(text.contains("epoch 5/5 [====================] 32/32"), text);
      assertTrue(text.contains("ex/s ETA"), text);
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void earlyStoppingAndCheckpointHook() {
    List<Integer> saved = new ArrayList<>();
    try (TensorDataset train = blobs(300, 4);
        Linear net = new Linear(4, 3, true, new Generator(5));
        SGD sgd = new SGD(net.parameters(), 0.0);  // lr 0: the loss never improves
        DataLoader loader = DataLoader.builder(train).batchSize(100).build()) {
      EarlyStopping stop = new EarlyStopping("train_loss", 2);
      List<EpochMetrics> h = Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(20).build()
          .fit(loader, null, stop, new CheckpointListener(2, m -> saved.add(m.epoch())));
      assertEquals(3, h.size(), "best at epoch 1, two epochs without improvement");
      assertEquals(List.of(2, 3), saved, "every 2 epochs, plus the last");
      assertTrue(Double.isNaN(h.get(0).testAcc()));
    }
  }

  @Test
  void badConfigurationIsRefused() {
    try (Linear net = new Linear(2, 2); SGD sgd = new SGD(net.parameters(), 0.1)) {
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(0));
      org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> new EarlyStopping("val_loss", 2));
    }
  }
}
