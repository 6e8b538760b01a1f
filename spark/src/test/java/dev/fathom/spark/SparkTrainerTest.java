package dev.fathom.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.Batch;
import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.TrainListener;
import dev.fathom.train.Trainer;
import dev.fathom.zoo.Models;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data-parallel training in local mode: two replicas in one JVM, each a barrier task. */
class SparkTrainerTest {
  static final int WORKERS = 2;
  static final int BATCH = 32;
  static SparkSession spark;
  static JavaSparkContext sc;
  static TensorDataset train;

  @BeforeAll
  static void start() {
    // local[2,4]: two task slots, and a failed task may be retried (local mode's default is no retry).
    spark = SparkSession.builder().master("local[2,4]").appName("fathom-spark-test")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
    sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    try (TensorDataset all = FashionMnist.load(FashionMnist.Split.TRAIN); Scope s = Scope.open()) {
      train = new TensorDataset(all.features().narrow(0, 0, 6400).contiguous(),
          all.labels().narrow(0, 0, 6400).contiguous());
    }
  }

  @AfterAll
  static void stop() {
    spark.stop();
    train.close();
  }

  static List<Example> examples(TensorDataset d) {
    float[] x = d.features().toFloatArray();
    long[] y = d.labels().toLongArray();
    int f = x.length / y.length;
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < y.length; i++) {
      out.add(new Example(java.util.Arrays.copyOfRange(x, i * f, (i + 1) * f), y[i]));
    }
    return out;
  }

  static Module mlp() {
    return Models.mlp(10, 0, new Generator(42));
  }

  static SparkTrainer.Builder mlpTrainer(int epochs) {
    return SparkTrainer.builder(SparkTrainerTest::mlp, m -> new SGD(m.parameters(), 0.1), CrossEntropyLoss::new)
        .inputShape(1, 28, 28).workers(WORKERS).batchSizePerWorker(BATCH).epochs(epochs).seed(3);
  }

  /** Rows i with i mod WORKERS == rank, in order: replica `rank`'s shard. */
  static TensorDataset shard(TensorDataset d, int rank) {
    long n = d.size() / WORKERS;
    long[] idx = new long[(int) n];
    for (int i = 0; i < n; i++) {
      idx[i] = (long) i * WORKERS + rank;
    }
    Batch b = d.batch(idx);
    return new TensorDataset(b.x(), b.y());   // takes over the batch's tensors
  }

  @Test
  void twoReplicasFollowTheSingleProcessTrajectory() {
    int epochs = 2;
    SparkTrainer.Result r = mlpTrainer(epochs).build()
        .fit(sc.parallelize(examples(train), 3), null);
    long steps = train.size() / WORKERS / BATCH * epochs;
    assertEquals(steps, r.stepLosses().length);
    assertEquals(steps, r.stepsPerReplica());

    // One process, batch 2 x 32: global batch k is replica 0's batch k then replica 1's.
    List<Double> reference = new ArrayList<>();
    try (Module model = mlp(); SGD opt = new SGD(model.parameters(), 0.1);
         TensorDataset s0 = shard(train, 0); TensorDataset s1 = shard(train, 1);
         DataLoader order = DataLoader.builder(s0).batchSize(BATCH).shuffle(true).seed(3).dropLast(true).build()) {
      Trainer t = Trainer.builder(model, new CrossEntropyLoss(), opt).epochs(epochs).build();
      t.fit(epoch -> new Trainer.EpochBatches(order.numBatches(), () -> new java.util.Iterator<>() {
        final long[] perm = order.order(epoch - 1);
        long k;

        @Override
        public boolean hasNext() {
          return k < order.numBatches();
        }

        @Override
        public Batch next() {
          long[] idx = java.util.Arrays.copyOfRange(perm, (int) (k * BATCH), (int) ((k + 1) * BATCH));
          k++;
          try (Scope sc = Scope.open(); Batch a = s0.batch(idx); Batch b = s1.batch(idx)) {
            return new Batch(Tensor.cat(List.of(a.x(), b.x()), 0).unscope(),
                Tensor.cat(List.of(a.y(), b.y()), 0).unscope());
          }
        }
      }), new TrainListener() {
        @Override
        public void onBatchEnd(int epoch, long batch, long batches, double loss, long examples) {
          reference.add(loss);
        }
      });
      assertEquals(steps, reference.size());
      for (int i = 0; i < steps; i++) {
        assertEquals(reference.get(i), r.stepLosses()[i], 2e-4 * Math.max(1, Math.abs(reference.get(i))),
            "step " + i + " of " + steps);
      }
      try (Module distributed = mlp(); Scope s = Scope.open()) {
        r.loadInto(distributed);
        Map<String, Tensor> a = model.stateDict();
        Map<String, Tensor> b = distributed.stateDict();
        for (String k : a.keySet()) {
          float[] x = a.get(k).toFloatArray();
          float[] y = b.get(k).toFloatArray();
          for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], y[i], 1e-3, k + "[" + i + "]");
          }
        }
      }
    }
    assertTrue(r.stepLosses()[(int) steps - 1] < 0.7 * r.stepLosses()[0], "the loss falls");
  }

  @Test
  void aFailedTaskIsRetriedAndResumesExactlyFromTheCheckpoint(@TempDir Path dir) {
    List<Example> rows = examples(train).subList(0, 3200);   // 50 steps per epoch
    SparkTrainer.Result clean = mlpTrainer(3).checkpointDir(dir.resolve("clean").toString()).build()
        .fit(sc.parallelize(rows, 2), null);
    SparkTrainer.Result retried = mlpTrainer(3).checkpointDir(dir.resolve("retried").toString())
        .faultInjector((attempt, rank, epoch, batch) -> {
          if (attempt == 0 && rank == 1 && epoch == 2 && batch == 20) {
            throw new IllegalStateException("injected failure in replica 1, epoch 2, batch 20");
          }
        }).build().fit(sc.parallelize(rows, 2), null);
    assertEquals(1, clean.stageAttempts());
    assertEquals(2, retried.stageAttempts(), "the barrier stage ran again after the failure");
    assertTrue(Files.exists(dir.resolve("retried/checkpoint.safetensors")));
    // Epoch 2 restarted from the epoch-1 checkpoint: the same steps, bit for bit.
    assertArrayEquals(clean.stepLosses(), retried.stepLosses());
    assertArrayEquals(clean.weights(), retried.weights());
    assertEquals(3, retried.history().size());
  }

  @Test
  void inputThatDoesNotFitIsRefusedOnTheDriverWithTheShapes() {
    JavaRDD<Example> rows = sc.parallelize(List.of(new Example(new float[10], 0), new Example(new float[10], 1)));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> mlpTrainer(1).build().fit(rows, null));
    assertTrue(e.getMessage().contains("10 features") && e.getMessage().contains("[1, 28, 28]"), e.getMessage());
    IllegalArgumentException empty = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> mlpTrainer(1).build().fit(sc.parallelize(List.<Example>of()), null));
    assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> SparkTrainer.builder(SparkTrainerTest::mlp, m -> new SGD(m.parameters(), 0.1), CrossEntropyLoss::new)
            .inputShape(1, 0, 28));
  }
}
