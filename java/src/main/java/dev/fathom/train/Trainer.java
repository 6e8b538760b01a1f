package dev.fathom.train;

import dev.fathom.data.Batch;
import dev.fathom.data.DataLoader;
import dev.fathom.loss.Loss;
import dev.fathom.nn.Module;
import dev.fathom.optim.ClipGrad;
import dev.fathom.optim.LRScheduler;
import dev.fathom.optim.Optimizer;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * Accuracy is reported when the model outputs [N, C] scores and targets are
 * int64 class indices [N] or one-hot [N, C]; otherwise it is NaN.
 */
public final class Trainer {
  private final Module model;
  private final Loss loss;
  private final Optimizer optimizer;
  private final int epochs;
  private final LRScheduler scheduler;
  private final double clipNorm;

  private Trainer(Builder b) {
    this.model = b.model;
    this.loss = b.loss;
    this.optimizer = b.optimizer;
    this.epochs = b.epochs;
    this.scheduler = b.scheduler;
    this.clipNorm = b.clipNorm;
  }

  public static Builder builder(Module model, Loss loss, Optimizer optimizer) {
    return new Builder(model, loss, optimizer);
  }

  /** Trains for the configured epochs (or until a listener stops it); test may be null. */
  public List<EpochMetrics> fit(DataLoader train, DataLoader test, TrainListener... listeners) {
    List<TrainListener> ls = Arrays.asList(listeners);
    List<EpochMetrics> history = new ArrayList<>();
    long batches = train.numBatches();
    ls.forEach(l -> l.onFitStart(epochs, batches));
    for (int epoch = 1; epoch <= epochs; epoch++) {
      final int e = epoch;
      ls.forEach(l -> l.onEpochStart(e));
      long start = System.nanoTime();
      model.train();
      Accumulator acc = new Accumulator();
      long batch = 0;
      for (Batch b : train) {
        try (b; Scope step = Scope.open()) {
          Tensor out = model.forward(b.x());
          Tensor l = loss.apply(out, b.y());
          optimizer.zeroGrad();
          l.backward();
          if (clipNorm > 0) {
            ClipGrad.clipGradNorm(optimizer.parameters(), clipNorm);
          }
          optimizer.step();
          double batchLoss = acc.add(l, out, b.y(), b.size());
          long n = ++batch;
          long seen = acc.examples;
          ls.forEach(x -> x.onBatchEnd(e, n, batches, batchLoss, seen));
        }
      }
      if (scheduler != null) {
        scheduler.step();
      }
      Evaluation testEval = test == null ? new Evaluation(Double.NaN, Double.NaN, 0) : evaluate(test);
      double seconds = (System.nanoTime() - start) / 1e9;
      EpochMetrics m = new EpochMetrics(epoch, acc.meanLoss(), acc.accuracy(), testEval.loss(),
          testEval.accuracy(), seconds, acc.examples);
      history.add(m);
      ls.forEach(x -> x.onEpochEnd(m));
      if (ls.stream().anyMatch(TrainListener::shouldStop)) {
        break;
      }
    }
    ls.forEach(l -> l.onFitEnd(history));
    return history;
  }

  /** Mean loss and accuracy in eval mode without recording a graph. */
  public Evaluation evaluate(DataLoader loader) {
    return evaluate(model, loss, loader);
  }

  public static Evaluation evaluate(Module model, Loss loss, DataLoader loader) {
    boolean wasTraining = model.isTraining();
    model.eval();
    Accumulator acc = new Accumulator();
    try (GradMode.Guard g = GradMode.disable()) {
      for (Batch b : loader) {
        try (b; Scope s = Scope.open()) {
          Tensor out = model.forward(b.x());
          acc.add(loss.apply(out, b.y()), out, b.y(), b.size());
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

    public Trainer build() {
      return new Trainer(this);
    }
  }
}
