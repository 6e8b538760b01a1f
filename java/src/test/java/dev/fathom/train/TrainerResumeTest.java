package dev.fathom.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.DataLoader;
import dev.fathom.data.TensorDataset;
import dev.fathom.io.SafeTensors;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.Adam;
import dev.fathom.optim.CosineAnnealingLR;
import dev.fathom.optim.LRScheduler;
import dev.fathom.optim.Optimizer;
import dev.fathom.optim.SGD;
import dev.fathom.optim.StepLR;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming continues exactly: 4 epochs in one go and 2 epochs + checkpoint +
 * freshly built objects (as in a new process) + 2 epochs give the same losses
 * and the same weights, bit for bit. The two configurations cover dropout
 * (generator state), SGD momentum, StepLR, batch norm buffers, Adam moments and
 * steps, cosine annealing and the shuffled, prefetching train loader.
 */
class TrainerResumeTest {
  @TempDir Path dir;

  /** 1x28x28 images: one fixed random pattern per class (of 10) plus noise; learnable, cheap. */
  private static TensorDataset images(long n, long seed) {
    Generator g = new Generator(seed);
    try (Scope s = Scope.open()) {
      Tensor labels = Tensor.uniform(g, 0, 10, DType.FLOAT32, n).to(DType.INT64);
      Tensor patterns = Tensor.randn(new Generator(99), 10, 784);
      Tensor x = patterns.indexSelect(0, labels).reshape(n, 1, 28, 28).add(Tensor.randn(g, n, 1, 28, 28));
      return new TensorDataset(s.keep(x).unscope(), s.keep(labels).unscope());
    }
  }

  /** Everything a run builds from its configuration, freshly, as a new process would. */
  private static final class Run implements AutoCloseable {
    final Generator gen = new Generator(11);
    final Module model;
    final Optimizer opt;
    final LRScheduler scheduler;
    final DataLoader train;
    final DataLoader test;
    final Trainer trainer;

    Run(boolean adamConfig, TensorDataset trainData, TensorDataset testData, Path checkpoint) {
      model = adamConfig ? Models.create("lenet-bn", 10, gen) : Models.mlp(10, 0.3, gen);
      if (adamConfig) {
        opt = new Adam(model.parameters(), 0.003, 0.9, 0.99, 1e-8, 1e-4);
        scheduler = new CosineAnnealingLR(opt, 4);
      } else {
        opt = SGD.builder(model.parameters(), 0.05).momentum(0.9).weightDecay(1e-4).build();
        scheduler = new StepLR(opt, 1, 0.5);
      }
      train = DataLoader.builder(trainData).batchSize(50).shuffle(true).seed(5).prefetch(1).build();
      test = DataLoader.builder(testData).batchSize(64).build();
      trainer = Trainer.builder(model, new CrossEntropyLoss(), opt).epochs(4).scheduler(scheduler)
          .generators(gen).checkpoint(checkpoint).checkpointMetadata(Map.of("fathom.model", "test"))
          .build();
    }

    Map<String, float[]> weights() {
      Map<String, float[]> out = new LinkedHashMap<>();
      model.stateDict().forEach((k, v) -> {
        try (Scope s = Scope.open()) {
          out.put(k, v.to(DType.FLOAT32).toFloatArray());
        }
      });
      return out;
    }

    @Override
    public void close() {
      train.close();
      test.close();
      opt.close();
      model.close();
    }
  }

  /** Stops a run after `epochs` epochs: the "crash". */
  private static TrainListener stopAfter(int epochs) {
    return new TrainListener() {
      private int done;

      @Override
      public void onEpochEnd(EpochMetrics m) {
        done = m.epoch();
      }

      @Override
      public boolean shouldStop() {
        return done >= epochs;
      }
    };
  }

  private void resumesExactly(boolean adamConfig) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    try (TensorDataset trainData = images(300, 1); TensorDataset testData = images(100, 2)) {
      List<EpochMetrics> full;
      Map<String, float[]> fullWeights;
      try (Run r = new Run(adamConfig, trainData, testData, dir.resolve("full.safetensors"))) {
        full = r.trainer.fit(r.train, r.test);
        fullWeights = r.weights();
      }
      Path ckpt = dir.resolve("resume.safetensors");
      try (Run r = new Run(adamConfig, trainData, testData, ckpt)) {
        assertEquals(2, r.trainer.fit(r.train, r.test, stopAfter(2)).size());
      }
      List<EpochMetrics> resumed;
      Map<String, float[]> resumedWeights;
      List<String> events = new ArrayList<>();
      try (Run r = new Run(adamConfig, trainData, testData, ckpt)) {
        r.trainer.loadCheckpoint(ckpt);
        assertEquals(2, r.trainer.completedEpochs());
        resumed = r.trainer.fit(r.train, r.test, new TrainListener() {
          @Override
          public void onFitResumed(List<EpochMetrics> earlier) {
            events.add("resumed after " + earlier.size());
          }

          @Override
          public void onEpochStart(int epoch) {
            events.add("epoch " + epoch);
          }
        });
        resumedWeights = r.weights();
      }
      assertEquals(List.of("resumed after 2", "epoch 3", "epoch 4"), events);
      assertEquals(4, resumed.size());
      for (int e = 0; e < 4; e++) {
        EpochMetrics a = full.get(e);
        EpochMetrics b = resumed.get(e);
        assertEquals(a.trainLoss(), b.trainLoss(), "train loss, epoch " + (e + 1));
        assertEquals(a.trainAcc(), b.trainAcc(), "train accuracy, epoch " + (e + 1));
        assertEquals(a.testLoss(), b.testLoss(), "test loss, epoch " + (e + 1));
        assertEquals(a.testAcc(), b.testAcc(), "test accuracy, epoch " + (e + 1));
      }
      assertTrue(full.get(3).trainLoss() < full.get(0).trainLoss(), "it learns: " + full);
      assertEquals(fullWeights.keySet(), resumedWeights.keySet());
      fullWeights.forEach((k, v) -> assertArrayEquals(v, resumedWeights.get(k), k));
      Map<String, String> meta = SafeTensors.readMetadata(ckpt);
      assertEquals("test", meta.get("fathom.model"));
      assertTrue(meta.get(Trainer.CHECKPOINT_KEY).contains("\"epoch\":4"), meta.toString());
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void mlpWithDropoutSgdMomentumAndStepLrResumesExactly() throws Exception {
    resumesExactly(false);
  }

  @Test
  void lenetBatchNormAdamAndCosineResumesExactly() throws Exception {
    resumesExactly(true);
  }

  @Test
  void aSaveThatFailsMidwayLeavesThePreviousCheckpoint() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path ckpt = dir.resolve("crash.safetensors");
    try (TensorDataset trainData = images(60, 5); TensorDataset testData = images(20, 6)) {
      byte[] before;
      try (Run r = new Run(false, trainData, testData, ckpt)) {
        r.trainer.fit(r.train, null, stopAfter(1));
        before = Files.readAllBytes(ckpt);
        // A parameter that cannot be read makes the writer throw after it has written part of the file.
        r.model.namedParameters().get("4.weight").close();
        assertThrows(IllegalStateException.class, () -> r.trainer.saveCheckpoint(ckpt));
      }
      assertArrayEquals(before, Files.readAllBytes(ckpt), "the previous checkpoint is untouched");
      try (java.util.stream.Stream<Path> files = Files.list(dir)) {
        assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary file left");
      }
      try (Run r = new Run(false, trainData, testData, ckpt)) {
        r.trainer.loadCheckpoint(ckpt);
        assertEquals(1, r.trainer.completedEpochs());
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void aCheckpointForAnotherSetupIsRefused() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path ckpt = dir.resolve("c.safetensors");
    try (TensorDataset trainData = images(60, 3); TensorDataset testData = images(20, 4)) {
      try (Run r = new Run(false, trainData, testData, ckpt)) {
        r.trainer.fit(r.train, null, stopAfter(1));
      }
      try (Run r = new Run(true, trainData, testData, ckpt)) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> r.trainer.loadCheckpoint(ckpt));
        assertTrue(e.getMessage().contains("saved with SGD, this trainer uses Adam"), e.getMessage());
      }
      try (Run r = new Run(false, trainData, testData, ckpt);
          DataLoader other = DataLoader.builder(trainData).batchSize(50).shuffle(true).seed(6).build()) {
        r.trainer.loadCheckpoint(ckpt);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> r.trainer.fit(other, null));
        assertTrue(e.getMessage().contains("shuffled by seed 5 but this one uses seed 6"), e.getMessage());
      }
      Path weightsOnly = dir.resolve("w.safetensors");
      try (Run r = new Run(false, trainData, testData, ckpt)) {
        dev.fathom.io.Checkpoints.save(r.model, weightsOnly);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> r.trainer.loadCheckpoint(weightsOnly));
        assertTrue(e.getMessage().contains("weights only"), e.getMessage());
      }
      assertTrue(Files.size(ckpt) > 0);
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
