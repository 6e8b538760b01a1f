package dev.fathom.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fathom.data.Batch;
import dev.fathom.data.DataLoader;
import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.loss.Loss;
import dev.fathom.nn.Module;
import dev.fathom.optim.ClipGrad;
import dev.fathom.optim.LRScheduler;
import dev.fathom.optim.Optimizer;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The fit loop: for each epoch, one pass of minibatch updates over the training
 * loader (forward, loss, backward, optional gradient clipping, optimizer step),
 * then evaluation on the test loader, then listeners. Every step runs in its own
 * Scope, so native memory does not grow with the number of steps.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder(model, new CrossEntropyLoss(), new SGD(model.parameters(), 0.1))
 *     .epochs(10).build();
 * List<EpochMetrics> history = trainer.fit(trainLoader, testLoader, new ProgressBar(), new MetricsCsv(path));
 * }</pre>
 *
 * A model that carries state from one batch to the next (a recurrent language model) plugs
 * its forward pass in through {@link Builder#carriedState}; batches that are not a DataLoader's
 * go through {@link #fit(IntFunction, TrainListener...)} ({@code text.LanguageModelTrainer} does both).
 *
 * <p>Accuracy is reported when the model outputs [N, C] scores and targets are
 * int64 class indices [N] or one-hot [N, C]; otherwise it is NaN.
 *
 * <p>Checkpoints and resuming: {@link #saveCheckpoint} writes, in one atomic
 * safetensors file, the model's state dict ({@code model.*}), the optimizer's
 * state ({@code optimizer.*}), and in the header metadata the epochs done, their
 * metrics, the scheduler's position, the state of the generators given to
 * {@link Builder#generators} (e.g. the one dropout draws from) and the train
 * loader's shuffle seed. {@link #loadCheckpoint} restores all of it into freshly
 * built objects of the same configuration, and the next {@link #fit} continues
 * with the following epoch exactly as an uninterrupted run would (same losses,
 * bit for bit, on the same thread count): epoch e always reads the train loader's
 * epoch e - 1 shuffle order.
 *
 * <pre>{@code
 * Trainer t = Trainer.builder(model, loss, opt).epochs(10).generators(gen)
 *     .checkpoint(Path.of("runs/lenet/checkpoint.safetensors")).build();   // saved after every epoch
 * t.loadCheckpoint(Path.of("runs/lenet/checkpoint.safetensors"));         // in a later process: resume
 * t.fit(trainLoader, testLoader, new ProgressBar());
 * }</pre>
 */
public final class Trainer {
  /** Metadata key of the checkpoint's JSON record (epochs, metrics, RNG and scheduler state). */
  public static final String CHECKPOINT_KEY = "fathom.checkpoint";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Module model;
  private final Loss loss;
  private final Optimizer optimizer;
  private final int epochs;
  private final LRScheduler scheduler;
  private final double clipNorm;
  private final CarriedState<?> carriedState;
  private final List<Generator> generators;
  private final Path checkpointFile;
  private final Map<String, String> checkpointMetadata;
  private final GradientHook gradientHook;
  private final List<EpochMetrics> history = new ArrayList<>();
  private long resumedLoaderSeed;
  private boolean resumedShuffled;
  private long lastLoaderSeed;
  private boolean lastShuffled;

  private Trainer(Builder b) {
    this.model = b.model;
    this.loss = b.loss;
    this.optimizer = b.optimizer;
    this.epochs = b.epochs;
    this.scheduler = b.scheduler;
    this.clipNorm = b.clipNorm;
    this.carriedState = b.carriedState != null ? b.carriedState : stateless(b.model);
    this.generators = List.copyOf(b.generators);
    this.checkpointFile = b.checkpointFile;
    this.checkpointMetadata = Map.copyOf(b.checkpointMetadata);
    this.gradientHook = b.gradientHook;
  }

  public static Builder builder(Module model, Loss loss, Optimizer optimizer) {
    return new Builder(model, loss, optimizer);
  }

  /**
   * Trains from the epoch after {@link #completedEpochs()} up to the configured
   * number (or until a listener stops it); test may be null. Returns the metrics of
   * every epoch done so far, restored ones included.
   */
  public List<EpochMetrics> fit(DataLoader train, DataLoader test, TrainListener... listeners) {
    if (!history.isEmpty() && resumedShuffled && (!train.isShuffled() || train.seed() != resumedLoaderSeed)) {
      throw new IllegalArgumentException("Trainer.fit: the checkpoint was trained with a train loader shuffled by seed "
          + resumedLoaderSeed + " but this one " + (train.isShuffled() ? "uses seed " + train.seed()
          : "does not shuffle") + "; resuming would not continue the same data order");
    }
    lastLoaderSeed = train.seed();
    lastShuffled = train.isShuffled();
    long batches = train.numBatches();
    return fitEpochs(batches, test, listeners, (epoch, acc, ls) -> {
      // Epoch e reads the loader's epoch e - 1 order, wherever this trainer started.
      try (DataLoader.BatchIterator it = train.iterator(epoch - 1)) {
        trainEpoch(carriedState, epoch, it, batches, acc, ls);
      }
    });
  }

  /** One epoch's batches and how many there are, for {@link #fit(IntFunction, TrainListener...)}. */
  public record EpochBatches(long size, Iterable<Batch> batches) {}

  /**
   * As {@link #fit(DataLoader, DataLoader, TrainListener...)} for batches that do not come from a
   * DataLoader (e.g. a {@code text.SequenceSampler}'s): `train` gives the batches of epoch e
   * (counted from 1), made as they are iterated and closed by the trainer. Listeners get each
   * epoch's own batch count in onBatchEnd and the first epoch's in onFitStart. Nothing is
   * evaluated (test metrics are NaN), and checkpoints record no train loader.
   */
  public List<EpochMetrics> fit(IntFunction<EpochBatches> train, TrainListener... listeners) {
    int first = history.size() + 1;
    EpochBatches firstEpoch = first <= epochs ? train.apply(first) : null;
    return fitEpochs(firstEpoch == null ? 0 : firstEpoch.size(), null, listeners, (epoch, acc, ls) -> {
      EpochBatches b = epoch == first ? firstEpoch : train.apply(epoch);
      trainEpoch(carriedState, epoch, b.batches().iterator(), b.size(), acc, ls);
    });
  }

  /** Trains one epoch's batches into `acc`. */
  private interface EpochRun {
    void train(int epoch, Accumulator acc, List<TrainListener> listeners);
  }

  private List<EpochMetrics> fitEpochs(long batches, DataLoader test, TrainListener[] listeners, EpochRun run) {
    List<TrainListener> ls = Arrays.asList(listeners);
    ls.forEach(l -> l.onFitStart(epochs, batches));
    if (!history.isEmpty()) {
      List<EpochMetrics> earlier = List.copyOf(history);
      ls.forEach(l -> l.onFitResumed(earlier));
    }
    for (int epoch = history.size() + 1; epoch <= epochs; epoch++) {
      final int e = epoch;
      ls.forEach(l -> l.onEpochStart(e));
      long start = System.nanoTime();
      model.train();
      Accumulator acc = new Accumulator();
      run.train(epoch, acc, ls);
      if (scheduler != null) {
        scheduler.step();
      }
      Evaluation testEval = test == null ? new Evaluation(Double.NaN, Double.NaN, 0) : evaluate(test);
      double seconds = (System.nanoTime() - start) / 1e9;
      EpochMetrics m = new EpochMetrics(epoch, acc.meanLoss(), acc.accuracy(), testEval.loss(),
          testEval.accuracy(), seconds, acc.examples);
      history.add(m);
      if (checkpointFile != null) {
        saveCheckpoint(checkpointFile);
      }
      ls.forEach(x -> x.onEpochEnd(m));
      if (ls.stream().anyMatch(TrainListener::shouldStop)) {
        break;
      }
    }
    List<EpochMetrics> all = List.copyOf(history);
    ls.forEach(l -> l.onFitEnd(all));
    return all;
  }

  /**
   * The minibatch updates of one epoch: forward (from the carried state), loss, backward,
   * optional clipping, step; the carried state starts at null and is released at the end.
   */
  private <S> void trainEpoch(CarriedState<S> carried, int epoch, Iterator<Batch> it, long batches,
      Accumulator acc, List<TrainListener> ls) {
    S state = null;
    long batch = 0;
    try {
      while (it.hasNext()) {
        try (Batch b = it.next(); Scope step = Scope.open()) {
          CarriedState.Forward<S> f = carried.forward(b, state);
          Tensor l = loss.apply(f.output(), f.target());
          optimizer.zeroGrad();
          l.backward();
          if (gradientHook != null) {
            gradientHook.beforeStep(optimizer.parameters());
          }
          if (clipNorm > 0) {
            ClipGrad.clipGradNorm(optimizer.parameters(), clipNorm);
          }
          optimizer.step();
          S next = carried.carry(f.state());
          if (state != null) {
            carried.release(state);
          }
          state = next;
          double batchLoss = acc.add(l, f.output(), f.target(), f.examples());
          long n = ++batch;
          long seen = acc.examples;
          ls.forEach(x -> x.onBatchEnd(epoch, n, batches, batchLoss, seen));
        }
      }
    } finally {
      if (state != null) {
        carried.release(state);
      }
    }
  }

  /** The plain forward pass: model(x) against y, nothing carried. */
  private static CarriedState<Void> stateless(Module model) {
    return new CarriedState<>() {
      @Override
      public Forward<Void> forward(Batch batch, Void state) {
        return new Forward<>(model.forward(batch.x()), batch.y(), null, batch.size());
      }

      @Override
      public Void carry(Void after) {
        return null;
      }

      @Override
      public void release(Void state) {}
    };
  }

  /** Epochs trained so far (restored ones included); the next {@link #fit} starts after them. */
  public int completedEpochs() {
    return history.size();
  }

  /** Metrics of every epoch trained so far, restored ones included. */
  public List<EpochMetrics> history() {
    return Collections.unmodifiableList(history);
  }

  /**
   * Writes the training state after {@link #completedEpochs()} epochs to `file`
   * atomically (see the class comment), with {@link Builder#checkpointMetadata} in
   * the header too (e.g. the command line that built the model, to rebuild it).
   */
  public void saveCheckpoint(Path file) {
    Map<String, String> meta = new LinkedHashMap<>(checkpointMetadata);
    ObjectNode record = JSON.createObjectNode();
    record.put("version", 1);
    record.put("epoch", history.size());
    record.put("optimizer", optimizer.getClass().getSimpleName());
    if (scheduler != null) {
      ObjectNode sched = record.putObject("scheduler");
      sched.put("type", scheduler.getClass().getSimpleName());
      scheduler.stateDict().forEach(sched::put);
    }
    ArrayNode gens = record.putArray("generators");
    for (Generator g : generators) {
      gens.addArray().add(g.seed()).add(g.offset());
    }
    record.putObject("train_loader").put("seed", lastLoaderSeed).put("shuffle", lastShuffled);
    ArrayNode hist = record.putArray("history");
    for (EpochMetrics m : history) {
      hist.addObject().put("epoch", m.epoch()).put("train_loss", m.trainLoss()).put("train_acc", m.trainAcc())
          .put("test_loss", m.testLoss()).put("test_acc", m.testAcc()).put("seconds", m.seconds())
          .put("train_examples", m.trainExamples());
    }
    meta.put(CHECKPOINT_KEY, record.toString());
    try (Scope s = Scope.open()) {
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      model.stateDict().forEach((k, v) -> tensors.put("model." + k, v));
      optimizer.stateDict().forEach((k, v) -> tensors.put("optimizer." + k, v));
      SafeTensors.save(tensors, meta, file);
    }
  }

  /**
   * Restores a checkpoint written by {@link #saveCheckpoint} into this trainer's
   * model, optimizer, scheduler and generators (built as for the saved run). The
   * file, its record and the optimizer and scheduler kinds are checked before
   * anything changes; a model or optimizer state that does not fit throws with the
   * differences, possibly after the model was restored (start again from fresh objects).
   */
  public void loadCheckpoint(Path file) {
    try (SafeTensors.Contents c = SafeTensors.read(file)) {
      String json = c.metadata().get(CHECKPOINT_KEY);
      if (json == null) {
        throw new IllegalArgumentException("checkpoint " + file + " has no " + CHECKPOINT_KEY
            + " metadata: it holds weights only (load them with Checkpoints.load)");
      }
      JsonNode record;
      try {
        record = JSON.readTree(json);
      } catch (IOException e) {
        throw new IllegalArgumentException("checkpoint " + file + ": invalid " + CHECKPOINT_KEY + ": " + e.getMessage());
      }
      String where = "checkpoint " + file + ": ";
      if (record.path("version").asInt() != 1) {
        throw new IllegalArgumentException(where + "unsupported version " + record.path("version"));
      }
      String savedOptimizer = record.path("optimizer").asText();
      if (!savedOptimizer.equals(optimizer.getClass().getSimpleName())) {
        throw new IllegalArgumentException(where + "saved with " + savedOptimizer + ", this trainer uses "
            + optimizer.getClass().getSimpleName());
      }
      JsonNode sched = record.path("scheduler");
      if (sched.isMissingNode() != (scheduler == null)
          || (scheduler != null && !sched.path("type").asText().equals(scheduler.getClass().getSimpleName()))) {
        throw new IllegalArgumentException(where + "saved with scheduler " + (sched.isMissingNode() ? "none"
            : sched.path("type").asText()) + ", this trainer uses "
            + (scheduler == null ? "none" : scheduler.getClass().getSimpleName()));
      }
      JsonNode gens = record.path("generators");
      if (!gens.isArray() || gens.size() != generators.size()) {
        throw new IllegalArgumentException(where + "holds " + gens.size() + " generator states, this trainer has "
            + generators.size());
      }
      List<EpochMetrics> restored = new ArrayList<>();
      for (JsonNode m : record.path("history")) {
        restored.add(new EpochMetrics(m.path("epoch").asInt(), m.path("train_loss").asDouble(),
            m.path("train_acc").asDouble(), m.path("test_loss").asDouble(), m.path("test_acc").asDouble(),
            m.path("seconds").asDouble(), m.path("train_examples").asLong()));
      }
      if (restored.size() != record.path("epoch").asInt()) {
        throw new IllegalArgumentException(where + "epoch " + record.path("epoch") + " but " + restored.size()
            + " epochs of metrics");
      }
      Map<String, Tensor> modelState = new LinkedHashMap<>();
      Map<String, Tensor> optimizerState = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
        if (e.getKey().startsWith("model.")) {
          modelState.put(e.getKey().substring(6), e.getValue());
        } else if (e.getKey().startsWith("optimizer.")) {
          optimizerState.put(e.getKey().substring(10), e.getValue());
        } else {
          throw new IllegalArgumentException(where + "unexpected tensor '" + e.getKey() + "'");
        }
      }
      Checkpoints.load(model, modelState, file.toString());
      optimizer.loadStateDict(optimizerState);
      if (scheduler != null) {
        Map<String, Double> state = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = sched.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> f = it.next();
          if (!f.getKey().equals("type")) {
            state.put(f.getKey(), f.getValue().asDouble());
          }
        }
        scheduler.loadStateDict(state);
      }
      for (int i = 0; i < generators.size(); i++) {
        generators.get(i).setState(gens.get(i).get(0).asLong(), gens.get(i).get(1).asLong());
      }
      JsonNode loader = record.path("train_loader");
      resumedLoaderSeed = loader.path("seed").asLong();
      resumedShuffled = loader.path("shuffle").asBoolean();
      lastLoaderSeed = resumedLoaderSeed;
      lastShuffled = resumedShuffled;
      history.clear();
      history.addAll(restored);
    }
  }

  /** Mean loss and accuracy in eval mode without recording a graph. */
  public Evaluation evaluate(DataLoader loader) {
    return evaluate(model, loss, loader);
  }

  public static Evaluation evaluate(Module model, Loss loss, DataLoader loader) {
    return evaluate(model, loss, loader, null);
  }

  /** As {@link #evaluate(Module, Loss, DataLoader)}, reporting each batch to `progress` (may be null) as epoch 1 of 1. */
  public static Evaluation evaluate(Module model, Loss loss, DataLoader loader, TrainListener progress) {
    boolean wasTraining = model.isTraining();
    model.eval();
    Accumulator acc = new Accumulator();
    long batches = loader.numBatches();
    if (progress != null) {
      progress.onFitStart(1, batches);
      progress.onEpochStart(1);
    }
    long batch = 0;
    try (GradMode.Guard g = GradMode.disable()) {
      for (Batch b : loader) {
        try (b; Scope s = Scope.open()) {
          Tensor out = model.forward(b.x());
          double l = acc.add(loss.apply(out, b.y()), out, b.y(), b.size());
          if (progress != null) {
            progress.onBatchEnd(1, ++batch, batches, l, acc.examples);
          }
        }
      }
    } finally {
      model.train(wasTraining);
    }
    return new Evaluation(acc.meanLoss(), acc.accuracy(), acc.examples);
  }

  /** Number of correct argmax predictions in a batch, or -1 when not a classification batch. */
  static long correct(Tensor out, Tensor target) {
    if (target == null || out.dim() != 2 || out.size(1) < 2) {
      return -1;
    }
    try (GradMode.Guard g = GradMode.disable()) {
      Tensor predicted = out.argmax(1, false);
      if (target.dtype() == DType.INT64 && target.dim() == 1) {
        return (long) predicted.eq(target).sum().item();
      }
      if (target.dtype().isFloatingPoint() && Arrays.equals(target.shape(), out.shape())) {
        return (long) predicted.eq(target.argmax(1, false)).sum().item();
      }
      return -1;
    }
  }

  private static final class Accumulator {
    double lossSum;
    long correct;
    long examples;
    boolean classification = true;

    double add(Tensor loss, Tensor out, Tensor target, long n) {
      double l = loss.item();
      lossSum += l * n;
      examples += n;
      long c = correct(out, target);
      if (c < 0) {
        classification = false;
      } else {
        correct += c;
      }
      return l;
    }

    double meanLoss() {
      return examples == 0 ? Double.NaN : lossSum / examples;
    }

    double accuracy() {
      return classification && examples > 0 ? (double) correct / examples : Double.NaN;
    }
  }

  /** Trainer configuration. */
  public static final class Builder {
    private final Module model;
    private final Loss loss;
    private final Optimizer optimizer;
    private int epochs = 1;
    private LRScheduler scheduler;
    private double clipNorm;
    private CarriedState<?> carriedState;
    private List<Generator> generators = List.of();
    private Path checkpointFile;
    private Map<String, String> checkpointMetadata = Map.of();
    private GradientHook gradientHook;

    private Builder(Module model, Loss loss, Optimizer optimizer) {
      if (model == null || loss == null || optimizer == null) {
        throw new IllegalArgumentException("Trainer: model, loss and optimizer are required");
      }
      this.model = model;
      this.loss = loss;
      this.optimizer = optimizer;
    }

    public Builder epochs(int epochs) {
      if (epochs < 1) {
        throw new IllegalArgumentException("Trainer: epochs=" + epochs + " must be >= 1");
      }
      this.epochs = epochs;
      return this;
    }

    /** Stepped once per epoch. */
    public Builder scheduler(LRScheduler scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    /** Clips the global gradient norm to theta before each step (0 = off). */
    public Builder clipGradNorm(double theta) {
      if (theta < 0) {
        throw new IllegalArgumentException("Trainer: clipGradNorm=" + theta + " must be >= 0");
      }
      this.clipNorm = theta;
      return this;
    }

    /**
     * Runs each training batch's forward pass through `state`, which carries the model's state
     * from one batch to the next within an epoch (default: model(x) against y, nothing carried).
     * Evaluation still calls the plain forward pass.
     */
    public Builder carriedState(CarriedState<?> state) {
      this.carriedState = state;
      return this;
    }

    /** Random generators whose state checkpoints save and restore (e.g. the one dropout draws from). */
    public Builder generators(Generator... generators) {
      this.generators = List.of(generators);
      return this;
    }

    /** Saves a checkpoint to `file` after every epoch (atomically; see {@link Trainer#saveCheckpoint}). */
    public Builder checkpoint(Path file) {
      this.checkpointFile = file;
      return this;
    }

    /** Extra string metadata written into every checkpoint's header (e.g. how to rebuild the model). */
    public Builder checkpointMetadata(Map<String, String> metadata) {
      this.checkpointMetadata = Map.copyOf(metadata);
      return this;
    }

    /** Called after each backward pass, before clipping and the step (e.g. to all-reduce gradients). */
    public Builder gradientHook(GradientHook hook) {
      this.gradientHook = hook;
      return this;
    }

    public Trainer build() {
      return new Trainer(this);
    }
  }
}
