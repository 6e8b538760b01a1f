package dev.fathom.spark;

import dev.fathom.Fathom;
import dev.fathom.data.DataLoader;
import dev.fathom.data.TensorDataset;
import dev.fathom.io.Checkpoints;
import dev.fathom.loss.Loss;
import dev.fathom.nn.Module;
import dev.fathom.optim.Optimizer;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.EpochMetrics;
import dev.fathom.train.TrainListener;
import dev.fathom.train.Trainer;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Synchronous data-parallel training of any Fathom {@link Module} on a Spark cluster, in
 * barrier execution mode: one replica per task, all started together.
 *
 * <ul>
 *   <li>The examples are spread evenly over the replicas (example i to replica i mod N, in
 *       order), each replica trims its shard to the smallest one's size, so that every
 *       replica takes the same number of steps.
 *   <li>Every replica starts from the driver's initial weights (broadcast), builds its own
 *       loss and optimizer, and trains with the single-process {@link Trainer}: each epoch
 *       reads its shard in the order of a {@link DataLoader} with the configured seed, as
 *       a single-process run does.
 *   <li>After each backward pass the gradients are averaged over the replicas
 *       ({@link GradientAverager}, a ring all-reduce over TCP by default) before the
 *       optimizer step, so N replicas with batch B take the steps one process takes with
 *       the batch of N * B made of their batches.
 *   <li>Replica 0 writes the Trainer's checkpoint (model, optimizer, epochs, metrics) to
 *       the checkpoint folder after every epoch. When a task fails, Spark fails the whole
 *       barrier stage and starts it again; every replica of the new attempt resumes from
 *       that checkpoint exactly as a single-process run resumes.
 *   <li>Progress goes to the driver's listeners as for one process ({@link ProgressEvents}).
 * </ul>
 *
 * BatchNorm layers normalise with each replica's own batch statistics (as PyTorch's
 * DistributedDataParallel does without SyncBatchNorm), so models with BatchNorm follow
 * the single-process trajectory only approximately.
 *
 * <pre>{@code
 * SparkTrainer.Result r = SparkTrainer.builder(() -> Models.create("lenet", 10, new Generator(0)),
 *         m -> new SGD(m.parameters(), 0.1), CrossEntropyLoss::new)
 *     .inputShape(1, 28, 28).workers(2).batchSizePerWorker(128).epochs(10)
 *     .checkpointDir("/shared/runs/lenet").build()
 *     .fit(examples, new ProgressBar());
 * }</pre>
 */
public final class SparkTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(SparkTrainer.class);

  /** Builds the model; called once on the driver (for the initial weights) and once per replica. */
  @FunctionalInterface
  public interface ModelFactory extends Serializable {
    Module create();
  }

  /** Builds a replica's optimizer over its model. */
  @FunctionalInterface
  public interface OptimizerFactory extends Serializable {
    Optimizer create(Module model);
  }

  @FunctionalInterface
  public interface LossFactory extends Serializable {
    Loss create();
  }

  /** Called on every replica after each batch; a test throws from it to fail a task. */
  @FunctionalInterface
  interface FaultInjector extends Serializable {
    void afterBatch(int stageAttempt, int rank, int epoch, long batch);
  }

  /** How gradients travel between replicas. */
  public enum Transport {
    /** Ring all-reduce over TCP between the executors (the default). */
    RING,
    /** BarrierTaskContext.allGather through the driver: no executor-to-executor connections. */
    BARRIER_ALL_GATHER
  }

  /** What a replica hands back: its timings, and the final weights from replica 0. */
  record ReplicaResult(int rank, int stageAttempt, byte[] weights, long steps, double trainSeconds,
      double allReduceSeconds, long allReduceCalls, int parameters, long bytesSent) implements Serializable {}

  /** The finished run. */
  public record Result(byte[] weights, List<EpochMetrics> history, double[] stepLosses, int workers,
      long stepsPerReplica, double trainSeconds, double allReduceSeconds, int parameters, long bytesSentPerReplica,
      int stageAttempts) {
    /** Mean time of one all-reduce, in milliseconds (replica 0's). */
    public double allReduceMillisPerStep() {
      return stepsPerReplica == 0 ? 0 : allReduceSeconds * 1e3 / stepsPerReplica;
    }

    /** Training steps per second over the training phase of the last attempt. */
    public double stepsPerSecond() {
      return trainSeconds == 0 ? 0 : stepsPerReplica / trainSeconds;
    }

    /** Loads the trained weights into `model` (built as the factory builds it). */
    public void loadInto(Module model) {
      withTemporaryFile(weights, f -> Checkpoints.load(model, f));
    }
  }

  record Config(ModelFactory model, OptimizerFactory optimizer, LossFactory loss, long[] inputShape, int workers,
      int batchSize, int epochs, long seed, boolean shuffle, String checkpointDir, Transport transport,
      int threadsPerWorker, int testBatchSize, FaultInjector faults) implements Serializable {}

  private final Config config;

  private SparkTrainer(Config config) {
    this.config = config;
  }

  public static Builder builder(ModelFactory model, OptimizerFactory optimizer, LossFactory loss) {
    return new Builder(model, optimizer, loss);
  }

  /**
   * Trains on a DataFrame with a features column (array of float or double, or an ML
   * vector's array) and an integer label column.
   */
  public Result fit(Dataset<Row> frame, String featuresColumn, String labelColumn, TensorDataset test,
      TrainListener... listeners) {
    JavaRDD<Example> examples = frame.select(featuresColumn, labelColumn).toJavaRDD()
        .map(row -> new Example(Frames.floats(row, 0, "SparkTrainer"), ((Number) row.get(1)).longValue()));
    return fit(examples, test, listeners);
  }

  /** Trains on `train`; `test` (may be null) is evaluated by replica 0 after every epoch. */
  public Result fit(JavaRDD<Example> train, TensorDataset test, TrainListener... listeners) {
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(train.context());
    int n = config.workers;
    validate(train, test);
    byte[] initial;
    try (Module model = config.model.create()) {
      initial = weightsOf(model);
    }
    Broadcast<byte[]> weights = sc.broadcast(initial);
    Broadcast<TestSet> testSet = test == null ? null : sc.broadcast(TestSet.of(test));
    String host = sc.getConf().get("spark.driver.host", "127.0.0.1");
    List<TrainListener> ls = Arrays.asList(listeners);
    long start = System.nanoTime();
    try (ProgressEvents.Server progress = new ProgressEvents.Server(host, n, ls)) {
      JavaPairRDD<Long, Example> indexed = train.zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1()));
      JavaRDD<Example> balanced = indexed.repartitionAndSortWithinPartitions(new ModuloPartitioner(n)).values();
      ClassTag<ReplicaResult> tag = ClassTag$.MODULE$.apply(ReplicaResult.class);
      List<ReplicaResult> results = new ArrayList<>(
          balanced.rdd().barrier().mapPartitions(new Replica(config, weights, testSet, progress.address()), false, tag)
              // A shuffle after the barrier stage makes it a ShuffleMapStage, which Spark
              // retries as a whole when a task fails; a failed barrier ResultStage aborts the job.
              .toJavaRDD().repartition(1).collect());
      progress.drain(10_000);
      results.sort((a, b) -> Integer.compare(a.rank(), b.rank()));
      ReplicaResult first = results.get(0);
      List<EpochMetrics> history = progress.history();
      ls.forEach(l -> l.onFitEnd(history));
      LOG.info("SparkTrainer: {} replicas, {} steps each, {} s in {} stage attempt(s), all-reduce {} ms/step",
          n, first.steps(), String.format("%.1f", (System.nanoTime() - start) / 1e9), first.stageAttempt() + 1,
          String.format("%.2f", first.steps() == 0 ? 0 : first.allReduceSeconds() * 1e3 / first.allReduceCalls()));
      return new Result(first.weights(), history, progress.stepLosses(), n, first.steps(), first.trainSeconds(),
          first.allReduceSeconds(), first.parameters(), first.bytesSent(), first.stageAttempt() + 1);
    } finally {
      weights.destroy();
      if (testSet != null) {
        testSet.destroy();
      }
    }
  }

  /** Refuses, on the driver, input that every replica would fail on after the stage started. */
  private void validate(JavaRDD<Example> train, TensorDataset test) {
    long features = Arrays.stream(config.inputShape).reduce(1, Math::multiplyExact);
    List<Example> first = train.take(1);
    if (first.isEmpty()) {
      throw new IllegalArgumentException("SparkTrainer.fit: the training data is empty");
    }
    if (first.get(0).features().length != features) {
      throw new IllegalArgumentException("SparkTrainer.fit: examples have " + first.get(0).features().length
          + " features but the input shape " + Arrays.toString(config.inputShape) + " needs " + features);
    }
    if (test != null && (test.labels() == null
        || test.features().numel() / Math.max(1, test.size()) != features)) {
      throw new IllegalArgumentException("SparkTrainer.fit: the test set " + test + " does not hold labelled examples"
          + " of input shape " + Arrays.toString(config.inputShape));
    }
    int slots = train.context().defaultParallelism();
    if (config.workers > slots && !train.context().master().startsWith("local-cluster")) {
      LOG.warn("SparkTrainer: {} replicas but the cluster reports {} task slots; a barrier stage needs all at once",
          config.workers, slots);
    }
  }

  /** The test set as plain arrays, for a broadcast. */
  record TestSet(float[] features, long[] featureShape, long[] labels) implements Serializable {
    static TestSet of(TensorDataset d) {
      return new TestSet(d.features().toFloatArray(), d.features().shape(), d.labels().toLongArray());
    }

    TensorDataset toDataset() {
      return new TensorDataset(Tensor.fromArray(features, featureShape), Tensor.fromArray(labels, labels.length));
    }
  }

  /** Example i goes to partition i mod N, so partitions differ in size by one at most. */
  static final class ModuloPartitioner extends Partitioner {
    private final int partitions;

    ModuloPartitioner(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (int) Math.floorMod((Long) key, (long) partitions);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ModuloPartitioner p && p.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  /** One replica: the body of a barrier task. */
  static final class Replica extends AbstractFunction1<scala.collection.Iterator<Example>,
      scala.collection.Iterator<ReplicaResult>> implements Serializable {
    private final Config config;
    private final Broadcast<byte[]> weights;
    private final Broadcast<TestSet> testSet;
    private final String progressAddress;

    Replica(Config config, Broadcast<byte[]> weights, Broadcast<TestSet> testSet, String progressAddress) {
      this.config = config;
      this.weights = weights;
      this.testSet = testSet;
      this.progressAddress = progressAddress;
    }

    @Override
    public scala.collection.Iterator<ReplicaResult> apply(scala.collection.Iterator<Example> rows) {
      BarrierTaskContext ctx = BarrierTaskContext.get();
      int rank = ctx.partitionId();
      int size = ctx.getTaskInfos().length;
      int attempt = ctx.stageAttemptNumber();
      Fathom.setNumThreads(config.threadsPerWorker);
      ReplicaResult result;
      try (TensorDataset shard = shard(CollectionConverters.asJava(rows), ctx, rank, size);
           Module model = config.model.create();
           Optimizer optimizer = createOptimizer(model);
           AllReduce allReduce = connect(ctx, rank, size);
           TensorDataset test = rank == 0 && testSet != null ? testSet.value().toDataset() : null) {
        withTemporaryFile(weights.value(), f -> Checkpoints.load(model, f));
        GradientAverager averager = new GradientAverager(allReduce);
        Path checkpoint = config.checkpointDir == null ? null : Path.of(config.checkpointDir, "checkpoint.safetensors");
        Trainer trainer = Trainer.builder(model, config.loss.create(), optimizer).epochs(config.epochs)
            .gradientHook(averager).checkpoint(rank == 0 ? checkpoint : null).build();
        if (checkpoint != null && Files.exists(checkpoint)) {
          trainer.loadCheckpoint(checkpoint);
        }
        agree(ctx, "epochs in the checkpoint", Integer.toString(trainer.completedEpochs()));
        try (DataLoader loader = DataLoader.builder(shard).batchSize(config.batchSize).shuffle(config.shuffle)
                 .seed(config.seed).dropLast(true).build();
             DataLoader testLoader = test == null ? null
                 : DataLoader.builder(test).batchSize(config.testBatchSize).build();
             ProgressEvents.Client progress = new ProgressEvents.Client(progressAddress, attempt, rank,
                 trainer.completedEpochs())) {
          if (loader.numBatches() == 0) {
            throw new IllegalArgumentException("SparkTrainer: replica " + rank + " holds " + shard.size()
                + " examples, fewer than one batch of " + config.batchSize);
          }
          TrainListener faults = new TrainListener() {
            @Override
            public void onBatchEnd(int epoch, long batch, long batches, double loss, long examples) {
              if (config.faults != null) {
                config.faults.afterBatch(attempt, rank, epoch, batch);
              }
            }
          };
          long start = System.nanoTime();
          trainer.fit(loader, testLoader, progress, faults);
          double seconds = (System.nanoTime() - start) / 1e9;
          ctx.barrier();
          result = new ReplicaResult(rank, attempt, rank == 0 ? weightsOf(model) : null, averager.calls(), seconds,
              averager.allReduceSeconds(), averager.calls(), averager.bufferSize(), allReduce.bytesSent());
        }
      }
      return CollectionConverters.asScala(List.of(result).iterator());
    }

    private Optimizer createOptimizer(Module model) {
      Optimizer o = config.optimizer.create(model);
      if (o == null) {
        throw new IllegalArgumentException("SparkTrainer: the optimizer factory returned null");
      }
      return o;
    }

    /** Reads this partition into tensors, trimmed to the smallest partition's size. */
    private TensorDataset shard(java.util.Iterator<Example> rows, BarrierTaskContext ctx, int rank, int size) {
      long[] shape = config.inputShape;
      int features = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
      FloatArray x = new FloatArray(features * 1024);
      List<Long> y = new ArrayList<>();
      while (rows.hasNext()) {
        Example e = rows.next();
        if (e.features().length != features) {
          throw new IllegalArgumentException("SparkTrainer: example " + y.size() + " of replica " + rank + " has "
              + e.features().length + " features, the input shape " + Arrays.toString(shape) + " needs " + features);
        }
        x.add(e.features());
        y.add(e.label());
      }
      long smallest = Long.MAX_VALUE;
      for (String s : ctx.allGather(Integer.toString(y.size()))) {
        smallest = Math.min(smallest, Long.parseLong(s));
      }
      int rowsKept = (int) smallest;
      long[] full = new long[shape.length + 1];
      full[0] = rowsKept;
      System.arraycopy(shape, 0, full, 1, shape.length);
      long[] labels = new long[rowsKept];
      for (int i = 0; i < rowsKept; i++) {
        labels[i] = y.get(i);
      }
      try (Scope s = Scope.open()) {
        return new TensorDataset(Tensor.fromArray(x.prefix(rowsKept * features), full),
            Tensor.fromArray(labels, rowsKept));
      }
    }

    private AllReduce connect(BarrierTaskContext ctx, int rank, int size) {
      if (config.transport == Transport.BARRIER_ALL_GATHER) {
        return new GatherAllReduce(ctx);
      }
      String executorAddress = ctx.getTaskInfos()[rank].address();
      String host = executorAddress.contains(":") ? executorAddress.substring(0, executorAddress.lastIndexOf(':'))
          : executorAddress;
      try (ServerSocket listener = new ServerSocket()) {
        listener.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
        String mine = listener.getInetAddress().getHostAddress() + ":" + listener.getLocalPort();
        List<InetSocketAddress> all = new ArrayList<>();
        for (String a : ctx.allGather(mine)) {
          int colon = a.lastIndexOf(':');
          all.add(new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1))));
        }
        return RingAllReduce.connect(rank, listener, all, RingAllReduce.DEFAULT_TIMEOUT_MS);
      } catch (IOException e) {
        throw new UncheckedIOException("SparkTrainer: replica " + rank + " cannot listen on " + host, e);
      }
    }

    /** Fails the attempt unless every replica reports the same value (e.g. the epochs it resumes from). */
    private static void agree(BarrierTaskContext ctx, String what, String mine) {
      String[] all = ctx.allGather(mine);
      for (String a : all) {
        if (!a.equals(mine)) {
          throw new IllegalStateException("SparkTrainer: the replicas disagree on the " + what + ": "
              + Arrays.toString(all));
        }
      }
    }
  }

  /** A growable float array, so that a shard is read without boxing every pixel. */
  private static final class FloatArray {
    private float[] data;
    private int size;

    FloatArray(int capacity) {
      data = new float[Math.max(capacity, 16)];
    }

    void add(float[] values) {
      if (size + values.length > data.length) {
        data = Arrays.copyOf(data, Math.max(data.length * 2, size + values.length));
      }
      System.arraycopy(values, 0, data, size, values.length);
      size += values.length;
    }

    float[] prefix(int n) {
      return n == data.length ? data : Arrays.copyOf(data, n);
    }
  }

  static byte[] weightsOf(Module model) {
    try {
      Path f = Files.createTempFile("fathom-spark-", ".safetensors");
      try {
        Checkpoints.save(model, f);
        return Files.readAllBytes(f);
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("SparkTrainer: cannot serialise the weights", e);
    }
  }

  static void withTemporaryFile(byte[] bytes, java.util.function.Consumer<Path> use) {
    try {
      Path f = Files.createTempFile("fathom-spark-", ".safetensors");
      try {
        Files.write(f, bytes);
        use.accept(f);
      } finally {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("SparkTrainer: cannot stage the weights", e);
    }
  }

  /** Configuration of a {@link SparkTrainer}. */
  public static final class Builder {
    private final ModelFactory model;
    private final OptimizerFactory optimizer;
    private final LossFactory loss;
    private long[] inputShape;
    private int workers = 2;
    private int batchSize = 64;
    private int epochs = 1;
    private long seed = 0;
    private boolean shuffle = true;
    private String checkpointDir;
    private Transport transport = Transport.RING;
    private int threadsPerWorker = 1;
    private int testBatchSize = 256;
    private FaultInjector faults;

    private Builder(ModelFactory model, OptimizerFactory optimizer, LossFactory loss) {
      if (model == null || optimizer == null || loss == null) {
        throw new IllegalArgumentException("SparkTrainer: model, optimizer and loss factories are required");
      }
      this.model = model;
      this.optimizer = optimizer;
      this.loss = loss;
    }

    /** Shape of one example, e.g. (1, 28, 28) for a CNN or (784) for an MLP. */
    public Builder inputShape(long... shape) {
      if (shape.length == 0 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
        throw new IllegalArgumentException("SparkTrainer: input shape " + Arrays.toString(shape)
            + " must have positive dimensions");
      }
      this.inputShape = shape.clone();
      return this;
    }

    /** Replicas, one barrier task each; the cluster must have this many task slots free at once. */
    public Builder workers(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("SparkTrainer: workers=" + n + " must be >= 1");
      }
      this.workers = n;
      return this;
    }

    /** Batch size of each replica; the effective batch is workers times this. */
    public Builder batchSizePerWorker(int b) {
      if (b < 1) {
        throw new IllegalArgumentException("SparkTrainer: batchSizePerWorker=" + b + " must be >= 1");
      }
      this.batchSize = b;
      return this;
    }

    public Builder epochs(int e) {
      if (e < 1) {
        throw new IllegalArgumentException("SparkTrainer: epochs=" + e + " must be >= 1");
      }
      this.epochs = e;
      return this;
    }

    /** Seed of every replica's shuffle order (the DataLoader's seed). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    public Builder shuffle(boolean shuffle) {
      this.shuffle = shuffle;
      return this;
    }

    /**
     * Folder for the checkpoint that a retried stage resumes from; it must be visible at
     * the same path to every executor (a shared mount on a real cluster). Null: no
     * checkpoints, a retried stage starts over.
     */
    public Builder checkpointDir(String dir) {
      this.checkpointDir = dir;
      return this;
    }

    public Builder transport(Transport t) {
      this.transport = t;
      return this;
    }

    /** Intra-op threads of each replica (Fathom.setNumThreads in its executor); match the task's cores. */
    public Builder threadsPerWorker(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("SparkTrainer: threadsPerWorker=" + n + " must be >= 1");
      }
      this.threadsPerWorker = n;
      return this;
    }

    Builder faultInjector(FaultInjector f) {
      this.faults = f;
      return this;
    }

    public SparkTrainer build() {
      if (inputShape == null) {
        throw new IllegalArgumentException("SparkTrainer: inputShape(...) is required");
      }
      return new SparkTrainer(new Config(model, optimizer, loss, inputShape, workers, batchSize, epochs, seed,
          shuffle, checkpointDir, transport, threadsPerWorker, testBatchSize, faults));
    }
  }
}
