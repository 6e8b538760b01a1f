package dev.fathom.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.io.Checkpoints;
import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.ModelSpec;
import dev.fathom.zoo.Models;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Many threads, one loaded model: results identical to serial calls, memory back to baseline. */
class PredictorTest {
  private static final int THREADS = 16;
  private static final int CALLS = 1000;

  /** A zoo model with trained-looking batch-norm statistics (a few train-mode passes), saved with its spec. */
  private static Path saveModel(Path dir, String name, long seed) {
    return saveModel(dir, ModelSpec.of(name), seed);
  }

  private static Path saveModel(Path dir, ModelSpec spec, long seed) {
    Path file = dir.resolve(spec.name() + spec.inputSize() + ".safetensors");
    try (Module m = spec.create(new Generator(seed)); Scope s = Scope.open()) {
      for (int i = 0; i < 3; i++) {
        try (GradMode.Guard g = GradMode.disable()) {
          m.forward(Tensor.rand(new Generator(seed + i), 16, 1, spec.inputSize(), spec.inputSize()));
        }
      }
      Checkpoints.save(m, spec.toMetadata(), file);
    }
    return file;
  }

  private static float[][] examples(int n) {
    return examples(n, 784);
  }

  private static float[][] examples(int n, int size) {
    float[][] xs = new float[n][];
    try (Scope s = Scope.open()) {
      for (int i = 0; i < n; i++) {
        xs[i] = Tensor.rand(new Generator(100 + i), size).toFloatArray();
      }
    }
    return xs;
  }

  @Test
  @Timeout(120)
  void sixteenThreadsGetTheSerialResultsAndMemoryReturnsToBaseline(@TempDir Path dir) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    float[][] xs = examples(24);
    // lenet runs conv+ReLU fused (Sequential, no graph); lenet-bn runs batch norm on running statistics.
    try (Predictor lenet = Predictor.builder(saveModel(dir, "lenet", 1)).maxConcurrency(THREADS).build();
        Predictor lenetBn = Predictor.builder(saveModel(dir, "lenet-bn", 2)).maxConcurrency(THREADS).build()) {
      Predictor[] predictors = {lenet, lenetBn};
      float[][][] expected = new float[2][xs.length][];
      for (int p = 0; p < 2; p++) {
        for (int i = 0; i < xs.length; i++) {
          expected[p][i] = predictors[p].logits(xs[i]);
        }
      }
      long loaded = Tensor.liveNativeBytes();
      AtomicInteger mismatches = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          int thread = t;
          done.add(pool.submit(() -> {
            start.await();
            for (int c = 0; c < CALLS; c++) {
              int p = (thread + c) % 2;
              int i = (thread * 7 + c) % xs.length;
              if (!java.util.Arrays.equals(expected[p][i], predictors[p].logits(xs[i]))) {
                mismatches.incrementAndGet();
              }
            }
            return null;
          }));
        }
        start.countDown();
        for (Future<?> f : done) {
          f.get(120, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(0, mismatches.get(), "calls whose logits differ from the serial ones (of " + THREADS * CALLS + ")");
      assertEquals(loaded, Tensor.liveNativeBytes(), "no native memory kept by " + THREADS * CALLS + " calls");
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  /** A model that blocks inside forward and records how many calls are inside at once. */
  private static final class Gate extends Module {
    final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger peak = new AtomicInteger();
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Tensor forward(Tensor x) {
      peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inside.decrementAndGet();
      return x.mul(2.0);
    }
  }

  @Test
  @Timeout(120)
  void maxConcurrencyBoundsTheCallsInFlight() throws Exception {
    Gate gate = new Gate();
    try (Predictor p = Predictor.builder(gate, 3).maxConcurrency(2).build()) {
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          float v = i;
          results.add(pool.submit(() -> p.logits(new float[] {v, 1, 2})));
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (gate.inside.get() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        Thread.sleep(100);
        assertEquals(2, gate.inside.get(), "two calls run, four wait");
        gate.release.countDown();
        for (int i = 0; i < 6; i++) {
          assertArrayEquals(new float[] {2 * i, 2, 4}, results.get(i).get(10, TimeUnit.SECONDS));
        }
        assertEquals(2, gate.peak.get());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Relative tolerance of a batched row against the single call: a few float ulps through a deep model. */
  private static final double BATCH_TOLERANCE = 1e-5;

  private static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    double scale = 0;
    for (float v : expected) {
      scale = Math.max(scale, Math.abs(v));
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], BATCH_TOLERANCE * Math.max(1, scale), what + " [" + i + "]");
    }
  }

  /**
   * Each kernel family a served model runs: GEMM (mlp), conv + pooling (lenet), batch
   * norm on running statistics (lenet-bn), residual additions (resnet18) and channel
   * concatenation (densenet, googlenet). Batch-invariant: bitwise equal to single calls
   * whichever kernels this CPU picks for the batch. Default: equal within tolerance.
   */
  @Test
  @Timeout(300)
  void batchedAnswersMatchSingleCallsBitwiseWhenBatchInvariantAndWithinToleranceOtherwise(@TempDir Path dir) {
    long baseline = Tensor.liveNativeBytes();
    for (String model : List.of("mlp", "lenet", "lenet-bn", "resnet18", "densenet", "googlenet")) {
      // DenseNet's four transitions need 32x32; the others run at Fashion-MNIST's 28x28.
      int side = model.equals("densenet") ? 32 : 28;
      float[][] xs = examples(5, side * side);
      Path file = saveModel(dir, new ModelSpec(model, 10, 1, side, 0), 7);
      try (Predictor invariant = Predictor.builder(file).batchInvariant(true).build();
          Predictor batched = Predictor.builder(file).build()) {
        assertTrue(invariant.batchInvariant());
        float[][] single = new float[xs.length][];
        for (int i = 0; i < xs.length; i++) {
          single[i] = invariant.logits(xs[i]);
          // Determinism: the same computation twice gives the same bits.
          assertArrayEquals(single[i], batched.logits(xs[i]), model + " single call " + i);
        }
        float[][] rows = invariant.logits(xs);
        float[][] together = batched.logits(xs);
        for (int i = 0; i < xs.length; i++) {
          assertArrayEquals(single[i], rows[i], model + " batch-invariant row " + i);
          assertClose(single[i], together[i], model + " batched row " + i);
        }
        try (Scope s = Scope.open()) {
          int size = side * side;
          float[] flat = new float[xs.length * size];
          for (int i = 0; i < xs.length; i++) {
            System.arraycopy(xs[i], 0, flat, i * size, size);
          }
          float[] out = invariant.predict(Tensor.fromArray(flat, xs.length, 1, side, side)).toFloatArray();
          for (int i = 0; i < xs.length; i++) {
            assertArrayEquals(single[i], java.util.Arrays.copyOfRange(out, i * 10, i * 10 + 10),
                model + " predict() row " + i);
          }
        }
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  @Timeout(120)
  void classifiesAndRefusesBadInput(@TempDir Path dir) {
    long baseline = Tensor.liveNativeBytes();
    Path file = saveModel(dir, "mlp", 3);
    float[] x = examples(1)[0];
    try (Predictor p = Predictor.builder(file).labels(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"))
        .build()) {
      Predictor.Classification c = p.classify(x, 3);
      float[] probs = p.probabilities(x);
      float[] logits = p.logits(x);
      int argmax = 0;
      double sum = 0;
      for (int i = 0; i < probs.length; i++) {
        sum += probs[i];
        argmax = logits[i] > logits[argmax] ? i : argmax;
      }
      assertEquals(1.0, sum, 1e-5);
      assertEquals(argmax, c.label());
      assertEquals("abcdefghij".substring(argmax, argmax + 1), c.name());
      assertEquals(3, c.top().size());
      assertTrue(c.top().get(0).probability() >= c.top().get(1).probability());
      assertEquals(probs[argmax], c.probability(), 0);
      // Tolerance, not bitwise: a batch of two may take other GEMM kernels than a batch of one.
      float[][] batch = p.logits(new float[][] {x, x});
      assertClose(logits, batch[1], "mlp batch row 1");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.logits(new float[10]));
      assertTrue(e.getMessage().contains("has 10 values, expected 784 for [1, 28, 28]"), e.getMessage());
      float[] nan = x.clone();
      nan[5] = Float.NaN;
      e = assertThrows(IllegalArgumentException.class, () -> p.logits(nan));
      assertTrue(e.getMessage().contains("value 5 is NaN"), e.getMessage());
      try (Scope s = Scope.open()) {
        e = assertThrows(IllegalArgumentException.class, () -> p.predict(Tensor.zeros(2, 784)));
        assertTrue(e.getMessage().contains("input [2, 784] must be [N, 1, 28, 28]"), e.getMessage());
      }
      p.close();
      assertThrows(IllegalStateException.class, () -> p.logits(x));
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
    // A model trained at another size takes 28x28 images and resizes them per call.
    Path dense = dir.resolve("densenet32.safetensors");
    try (Module m = Models.create("densenet", 10, new Generator(4))) {
      Checkpoints.save(m, new ModelSpec("densenet", 10, 1, 32, 0).toMetadata(), dense);
    }
    try (Predictor p = Predictor.builder(dense).build()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.logits(x));
      assertTrue(e.getMessage().contains("expected 1024"), e.getMessage());
    }
    try (Predictor p = Predictor.builder(ModelSpec.fromMetadata(dev.fathom.io.SafeTensors.readMetadata(dense)),
        dense).imageSide(28).build()) {
      assertEquals(10, p.logits(x).length);
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
