package dev.fathom.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.io.Checkpoints;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.Generator;
import dev.fathom.train.EpochMetrics;
import dev.fathom.train.Trainer;
import dev.fathom.zoo.ModelSpec;
import dev.fathom.zoo.Models;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real standalone cluster in the test JVM (local-cluster: a master, two workers, and
 * one executor JVM per worker with 1 core and 1 GB), on all of Fashion-MNIST.
 */
class SparkClusterTest {
  private static final Logger LOG = LoggerFactory.getLogger(SparkClusterTest.class);
  static final int EPOCHS = 2;
  static final int BATCH = 64;
  @TempDir
  static Path tmp;
  static SparkSession spark;
  static TensorDataset train;
  static TensorDataset test;

  @BeforeAll
  static void start() throws Exception {
    spark = LocalCluster.start("local-cluster[2,1,1024]", tmp);
    train = FashionMnist.load(FashionMnist.Split.TRAIN);
    test = FashionMnist.load(FashionMnist.Split.TEST);
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
    train.close();
    test.close();
  }

  static Module mlp() {
    return Models.mlp(10, 0, new Generator(1));
  }

  @Test
  void twoExecutorsReachTheSingleProcessAccuracyAndScoreADataFrame() throws Exception {
    Dataset<Row> frame = Frames.cachedParquet(spark, train, tmp.resolve("train.parquet"));
    SparkTrainer.Result r = SparkTrainer.builder(SparkClusterTest::mlp, m -> new SGD(m.parameters(), 0.1),
            CrossEntropyLoss::new)
        .inputShape(1, 28, 28).workers(2).batchSizePerWorker(BATCH).epochs(EPOCHS).seed(5)
        .checkpointDir(tmp.resolve("run").toString()).build()
        .fit(frame, "features", "label", test);
    EpochMetrics last = r.history().get(EPOCHS - 1);

    // The same model, optimizer and effective batch in this process.
    double single;
    try (Module model = mlp(); SGD opt = new SGD(model.parameters(), 0.1);
         DataLoader loader = DataLoader.builder(train).batchSize(2 * BATCH).shuffle(true).seed(5).dropLast(true).build();
         DataLoader testLoader = DataLoader.builder(test).batchSize(256).build()) {
      List<EpochMetrics> h = Trainer.builder(model, new CrossEntropyLoss(), opt).epochs(EPOCHS).build()
          .fit(loader, testLoader);
      single = h.get(EPOCHS - 1).testAcc();
    }
    LOG.info("test accuracy after {} epochs: 2 executors {}, one process {}; {} steps/s, all-reduce {} ms/step"
        + " of {} floats", EPOCHS, last.testAcc(), single, String.format("%.1f", r.stepsPerSecond()),
        String.format("%.2f", r.allReduceMillisPerStep()), r.parameters());
    assertTrue(last.testAcc() > 0.80, "test accuracy " + last.testAcc());
    assertTrue(last.testAcc() >= single - 0.015, "2 executors reach the single-process accuracy " + single
        + ": " + last.testAcc());

    // Distributed inference with the trained weights, against a Predictor in this JVM.
    Path modelFile = tmp.resolve("model.safetensors");
    try (Module trained = mlp()) {
      r.loadInto(trained);
      Checkpoints.save(trained, ModelSpec.of("mlp").toMetadata(), modelFile);
    }
    Dataset<Row> testFrame = Frames.cachedParquet(spark, test, tmp.resolve("test.parquet")).limit(2000);
    SparkInference inference = SparkInference.fromModelFile(spark, modelFile).batchSize(128);
    List<Row> scored = inference.score(testFrame, "features").collectAsList();
    assertEquals(2000, scored.size());
    int agree = 0;
    int correct = 0;
    try (Predictor local = Predictor.builder(modelFile).build()) {
      for (Row row : scored) {
        float[] x = Frames.floats(row, row.fieldIndex("features"), "test");
        int predicted = row.getInt(row.fieldIndex(SparkInference.PREDICTION));
        if (predicted == local.classify(x, 1).label()) {
          agree++;
        }
        if (predicted == row.getInt(row.fieldIndex("label"))) {
          correct++;
        }
        List<Object> p = row.getList(row.fieldIndex(SparkInference.PROBABILITIES));
        assertEquals(10, p.size());
      }
    }
    inference.release();
    assertEquals(2000, agree, "every executor prediction equals the local one");
    assertTrue(correct > 1600, correct + " of 2000 correct");
  }

  @Test
  void aKilledExecutorIsReplacedAndTrainingResumesFromTheCheckpoint() throws Exception {
    TensorDataset small;
    try (dev.fathom.tensor.Scope s = dev.fathom.tensor.Scope.open()) {
      small = new TensorDataset(train.features().narrow(0, 0, 3200).contiguous(),
          train.labels().narrow(0, 0, 3200).contiguous());
    }
    try (small) {
      // Rows in a fixed order (a round-robin repartition would deal them differently when a
      // lost executor's partitions are recomputed, and the resumed shards would differ).
      Dataset<Row> frame = Frames.fromDataset(spark, small);
      SparkTrainer.Result clean = trainer(tmp.resolve("clean"), null).fit(frame, "features", "label", null);
      // The executor of replica 1 exits abruptly in epoch 2 of the first attempt, as a crashed
      // or preempted machine would: its worker starts a new executor and Spark reruns the stage.
      SparkTrainer.Result killed = trainer(tmp.resolve("killed"), (attempt, rank, epoch, batch) -> {
        if (attempt == 0 && rank == 1 && epoch == 2 && batch == 10) {
          Runtime.getRuntime().halt(137);
        }
      }).fit(frame, "features", "label", null);
      assertTrue(killed.stageAttempts() >= 2, "attempts: " + killed.stageAttempts());
      org.junit.jupiter.api.Assertions.assertArrayEquals(clean.stepLosses(), killed.stepLosses());
      org.junit.jupiter.api.Assertions.assertArrayEquals(clean.weights(), killed.weights());
    }
  }

  private static SparkTrainer trainer(Path dir, SparkTrainer.FaultInjector faults) {
    return SparkTrainer.builder(SparkClusterTest::mlp, m -> new SGD(m.parameters(), 0.1), CrossEntropyLoss::new)
        .inputShape(1, 28, 28).workers(2).batchSizePerWorker(BATCH).epochs(3).seed(9)
        .checkpointDir(dir.toString()).faultInjector(faults).build();
  }
}
