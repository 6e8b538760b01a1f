package dev.fathom.text;

import dev.fathom.data.Batch;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.optim.Optimizer;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.CarriedState;
import dev.fathom.train.EpochMetrics;
import dev.fathom.train.MetricsCsv;
import dev.fathom.train.TrainListener;
import dev.fathom.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The language-model fit loop of the notes (d2l train_ch8): per batch, forward from the state,
 * mean cross-entropy over all N*T predictions, backward, gradient clipping by global norm, one
 * optimizer step. The state depends on the sampling method:
 * RANDOM re-initialises it to zeros for every batch (its windows are unrelated); SEQUENTIAL starts
 * each epoch from zeros and carries the final state of one batch into the next, detached from the
 * graph so that backpropagation through time stops at the batch boundary (truncated BPTT).
 * Perplexity per epoch = exp(mean cross-entropy per token). A facade over {@link Trainer}, whose
 * {@link CarriedState} hook carries the state.
 *
 * <pre>{@code
 * LanguageModelTrainer trainer = LanguageModelTrainer.builder(model, new SGD(model.parameters(), 1))
 *     .epochs(10).clipGradNorm(1).build();
 * try (MetricsCsv.Table<LanguageModelTrainer.EpochResult> csv =
 *     MetricsCsv.table(out.resolve("metrics.csv"), LanguageModelTrainer.EpochResult.CSV_COLUMNS)) {
 *   List<LanguageModelTrainer.EpochResult> history = trainer.fit(sampler, List.of(new ProgressBar()), csv);
 * }
 * }</pre>
 */
public final class LanguageModelTrainer {
  /** One epoch: mean cross-entropy per token, its exponential, wall time, tokens predicted. */
  public record EpochResult(int epoch, double trainLoss, double perplexity, double seconds, long tokens) {
    /** {@code epoch,train_loss,perplexity,seconds}, for {@link MetricsCsv#table}. */
    public static final List<MetricsCsv.Column<EpochResult>> CSV_COLUMNS = List.of(
        new MetricsCsv.Column<>("epoch", r -> Integer.toString(r.epoch())),
        new MetricsCsv.Column<>("train_loss", r -> String.format(Locale.ROOT, "%.6f", r.trainLoss())),
        new MetricsCsv.Column<>("perplexity", r -> String.format(Locale.ROOT, "%.6f", r.perplexity())),
        new MetricsCsv.Column<>("seconds", r -> String.format(Locale.ROOT, "%.3f", r.seconds())));

    public double tokensPerSecond() {
      return seconds > 0 ? tokens / seconds : 0;
    }
  }

  private final CharLanguageModel model;
  private final Optimizer optimizer;
  private final int epochs;
  private final double clipNorm;

  private LanguageModelTrainer(Builder b) {
    this.model = b.model;
    this.optimizer = b.optimizer;
    this.epochs = b.epochs;
    this.clipNorm = b.clipNorm;
  }

  public static Builder builder(CharLanguageModel model, Optimizer optimizer) {
    return new Builder(model, optimizer);
  }

  /**
   * Trains for the configured epochs. `progress` gets onFitStart, onEpochStart and onBatchEnd
   * (loss per batch, tokens as "examples"; e.g. {@link dev.fathom.train.ProgressBar}); each
   * `onEpoch` consumer gets the epoch's result.
   */
  @SafeVarargs
  public final List<EpochResult> fit(SequenceSampler sampler, List<TrainListener> progress,
      Consumer<EpochResult>... onEpoch) {
    boolean carry = sampler.method() == SequenceSampler.Method.SEQUENTIAL;
    // A fresh Trainer per call: every fit trains epochs 1..n of the sampler.
    Trainer trainer = Trainer.builder(model, new CrossEntropyLoss(), optimizer).epochs(epochs)
        .clipGradNorm(clipNorm).carriedState(new RecurrentState(model, carry)).build();
    List<EpochResult> history = new ArrayList<>();
    List<TrainListener> listeners = new ArrayList<>();
    // This trainer's listeners have only ever heard of the fit start, epoch starts and batches.
    for (TrainListener l : progress) {
      listeners.add(new TrainListener() {
        @Override
        public void onFitStart(int epochs, long batchesPerEpoch) {
          l.onFitStart(epochs, batchesPerEpoch);
        }

        @Override
        public void onEpochStart(int epoch) {
          l.onEpochStart(epoch);
        }

        @Override
        public void onBatchEnd(int epoch, long batch, long batches, double loss, long examplesSoFar) {
          l.onBatchEnd(epoch, batch, batches, loss, examplesSoFar);
        }
      });
    }
    listeners.add(new TrainListener() {
      @Override
      public void onEpochEnd(EpochMetrics m) {
        EpochResult r = new EpochResult(m.epoch(), m.trainLoss(), Math.exp(m.trainLoss()), m.seconds(),
            m.trainExamples());
        history.add(r);
        Arrays.stream(onEpoch).forEach(c -> c.accept(r));
      }
    });
    trainer.fit(e -> {
      SequenceSampler.Epoch batches = sampler.epoch(e);
      return new Trainer.EpochBatches(batches.size(), batches);
    }, listeners.toArray(TrainListener[]::new));
    return history;
  }

  /**
   * The model's forward pass from the carried state, cross-entropy over all N*T predictions;
   * SEQUENTIAL carries the final state detached (truncated BPTT), RANDOM starts every batch from zeros.
   */
  private record RecurrentState(CharLanguageModel model, boolean carry)
      implements CarriedState<CharLanguageModel.State> {
    @Override
    public Forward<CharLanguageModel.State> forward(Batch b, CharLanguageModel.State state) {
      CharLanguageModel.Output out = model.forward(b.x(), state);
      // Logits rows are time-major (t*N + n): targets (N, T) -> (T, N) -> flat.
      Tensor target = b.y().t().reshape(-1);
      return new Forward<>(out.logits(), target, out.state(), target.numel());
    }

    @Override
    public CharLanguageModel.State carry(CharLanguageModel.State after) {
      return carry ? after.detach() : null;
    }

    @Override
    public void release(CharLanguageModel.State state) {
      state.close();
    }
  }

  /** Trainer configuration; defaults: 1 epoch, clipping to global norm 1 (d2l, train_charlm.py). */
  public static final class Builder {
    private final CharLanguageModel model;
    private final Optimizer optimizer;
    private int epochs = 1;
    private double clipNorm = 1;

    private Builder(CharLanguageModel model, Optimizer optimizer) {
      if (model == null || optimizer == null) {
        throw new IllegalArgumentException("LanguageModelTrainer: model and optimizer are required");
      }
      this.model = model;
      this.optimizer = optimizer;
    }

    public Builder epochs(int epochs) {
      if (epochs < 1) {
        throw new IllegalArgumentException("LanguageModelTrainer: epochs=" + epochs + " must be >= 1");
      }
      this.epochs = epochs;
      return this;
    }

    /** Clips the global gradient norm to theta before each step (0 = off). */
    public Builder clipGradNorm(double theta) {
      if (!(theta >= 0) || Double.isInfinite(theta)) {
        throw new IllegalArgumentException("LanguageModelTrainer: clipGradNorm=" + theta + " must be >= 0");
      }
      this.clipNorm = theta;
      return this;
    }

    public LanguageModelTrainer build() {
      return new LanguageModelTrainer(this);
    }
  }
}
