package dev.fathom.spark;

import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.io.Checkpoints;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.train.EpochMetrics;
import dev.fathom.train.MetricsCsv;
import dev.fathom.train.ProgressBar;
import dev.fathom.zoo.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Trains a zoo model on Fashion-MNIST with {@link SparkTrainer} and writes what
 * {@code ./fathom train} writes: a progress bar on the console, and in the output folder
 * metrics.csv, model.safetensors (weights with the model's spec) and the resumable
 * checkpoint.safetensors, plus spark.json with the run's scaling figures.
 *
 * <pre>
 *   --master URL       Spark master (default local-cluster[2,1,1024]: two executor JVMs)
 *   --model NAME       zoo model (default lenet)     --epochs E (default 10)
 *   --workers N        replicas (default 2)          --batch-size B per replica (default 128)
 *   --lr LR            (default 0.05, momentum 0.9, as ./fathom train for lenet)
 *   --transport ring|allgather (default ring)        --seed S (default 0)
 *   --data DIR         Fashion-MNIST IDX files       --out DIR (default runs/NAME-spark)
 *   --limit N          train on the first N images   --threads T per replica (default 1)
 *   --evaluate false   no test pass after each epoch (for timing the training steps alone)
 * </pre>
 *
 * Under local-cluster, $SPARK_HOME (or else the working folder) serves as the executors'
 * Spark home (an empty jars folder there), and the executors get this JVM's class path.
 */
public final class SparkTrainMain {
  private SparkTrainMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = parse(args);
    String master = o.getOrDefault("master", "local-cluster[2,1,1024]");
    String model = o.getOrDefault("model", "lenet");
    int epochs = Integer.parseInt(o.getOrDefault("epochs", "10"));
    int workers = Integer.parseInt(o.getOrDefault("workers", "2"));
    int batch = Integer.parseInt(o.getOrDefault("batch-size", "128"));
    double lr = Double.parseDouble(o.getOrDefault("lr", "0.05"));
    double momentum = Double.parseDouble(o.getOrDefault("momentum", "0.9"));
    long seed = Long.parseLong(o.getOrDefault("seed", "0"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
    long limit = Long.parseLong(o.getOrDefault("limit", "0"));
    boolean evaluate = Boolean.parseBoolean(o.getOrDefault("evaluate", "true"));
    SparkTrainer.Transport transport = switch (o.getOrDefault("transport", "ring")) {
      case "ring" -> SparkTrainer.Transport.RING;
      case "allgather" -> SparkTrainer.Transport.BARRIER_ALL_GATHER;
      default -> throw new IllegalArgumentException("spark: --transport must be ring or allgather");
    };
    Path out = Path.of(o.getOrDefault("out", "runs/" + model + "-spark")).toAbsolutePath();
    Files.createDirectories(out);
    ModelSpec spec = ModelSpec.of(model);
    System.err.printf(Locale.ROOT, "fathom spark: model=%s master=%s workers=%d batch=%dx%d lr=%s momentum=%s"
        + " epochs=%d transport=%s out=%s%n", model, master, workers, workers, batch, lr, momentum, epochs,
        transport.name().toLowerCase(Locale.ROOT), out);

    SparkSession.Builder b = SparkSession.builder().master(master).appName("fathom-" + model)
        .config("spark.ui.enabled", "false");
    if (master.startsWith("local-cluster")) {
      Path home = Path.of(System.getenv().getOrDefault("SPARK_HOME", "")).toAbsolutePath();
      Files.createDirectories(home.resolve("jars"));
      Files.createDirectories(home.resolve("launcher/target/scala-2.13"));
      b.config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
          .config("spark.driver.host", "127.0.0.1");
    }
    SparkSession spark = b.getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    Path dataDir = o.containsKey("data") ? Path.of(o.get("data")) : null;
    try (TensorDataset train = limit(load(dataDir, FashionMnist.Split.TRAIN), limit);
         TensorDataset test = load(dataDir, FashionMnist.Split.TEST);
         MetricsCsv csv = new MetricsCsv(out.resolve("metrics.csv"))) {
      Dataset<Row> frame = Frames.cachedParquet(spark, train, out.resolve("train-" + train.size() + ".parquet"));
      long start = System.nanoTime();
      SparkTrainer.Result r = SparkTrainer.builder(() -> ModelSpec.of(model).create(new Generator(seed)),
              m -> SGD.builder(m.parameters(), lr).momentum(momentum).build(), CrossEntropyLoss::new)
          .inputShape(1, 28, 28).workers(workers).batchSizePerWorker(batch).epochs(epochs).seed(seed)
          .threadsPerWorker(threads).transport(transport).checkpointDir(out.toString()).build()
          .fit(frame, "features", "label", evaluate ? test : null, new ProgressBar(), csv);
      double seconds = (System.nanoTime() - start) / 1e9;
      try (Module trained = spec.create(new Generator(seed))) {
        r.loadInto(trained);
        Checkpoints.save(trained, spec.toMetadata(), out.resolve("model.safetensors"));
      }
      EpochMetrics last = r.history().get(r.history().size() - 1);
      String json = String.format(Locale.ROOT, "{\"model\": \"%s\", \"master\": \"%s\", \"workers\": %d,"
          + " \"batch_per_worker\": %d, \"transport\": \"%s\", \"epochs\": %d, \"test_acc\": %.4f,"
          + " \"steps_per_replica\": %d, \"steps_per_second\": %.2f, \"allreduce_ms_per_step\": %.3f,"
          + " \"parameters\": %d, \"bytes_sent_per_replica\": %d, \"stage_attempts\": %d, \"seconds\": %.1f}%n",
          model, master, workers, batch, transport.name().toLowerCase(Locale.ROOT), epochs, last.testAcc(),
          r.stepsPerReplica(), r.stepsPerSecond(), r.allReduceMillisPerStep(), r.parameters(),
          r.bytesSentPerReplica(), r.stageAttempts(), seconds);
      Files.writeString(out.resolve("spark.json"), json);
      System.out.printf(Locale.ROOT, "test accuracy %.4f after %d epochs; %d replicas, %.1f steps/s, all-reduce"
          + " %.2f ms/step (%d floats); %s%n", last.testAcc(), epochs, workers, r.stepsPerSecond(),
          r.allReduceMillisPerStep(), r.parameters(), out);
    } finally {
      spark.stop();
    }
  }

  private static TensorDataset load(Path dir, FashionMnist.Split split) {
    return dir == null ? FashionMnist.load(split) : FashionMnist.load(dir, split);
  }

  private static TensorDataset limit(TensorDataset d, long n) {
    if (n <= 0 || n >= d.size()) {
      return d;
    }
    try (d; dev.fathom.tensor.Scope s = dev.fathom.tensor.Scope.open()) {
      return new TensorDataset(d.features().narrow(0, 0, n).contiguous(), d.labels().narrow(0, 0, n).contiguous());
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("spark: expected --option value pairs, got '" + args[i] + "'");
      }
      o.put(args[i].substring(2), args[++i]);
    }
    return o;
  }
}
