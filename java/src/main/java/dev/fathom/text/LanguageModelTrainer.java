package dev.fathom.text;

import dev.fathom.data.Batch;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.optim.ClipGrad;
import dev.fathom.optim.Optimizer;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.TrainListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The language-model fit loop of the notes (d2l train_ch8): per batch, forward from the state,
 * mean cross-entropy over all N*T predictions, backward, gradient clipping by global norm, one
 * optimizer step. The state depends on the sampling method:
 * RANDOM re-initialises it to zeros for every batch (its windows are unrelated); SEQUENTIAL starts
 * each epoch from zeros and carries the final state of one batch into the next, detached from the
 * graph so that backpropagation through time stops at the batch boundary (truncated BPTT).
 * Perplexity per epoch = exp(mean cross-entropy per token).
 *
 * <pre>{@code
 * LanguageModelTrainer trainer = LanguageModelTrainer.builder(model, new SGD(model.parameters(), 1))
 *     .epochs(10).clipGradNorm(1).build();
 * List<LanguageModelTrainer.EpochResult> history = trainer.fit(sampler, List.of(new ProgressBar()), csv);
 * }</pre>
 */
public final class LanguageModelTrainer {
  /** One epoch: mean cross-entropy per token, its exponential, wall time, tokens predicted. */
  public record EpochResult(int epoch, double trainLoss, double perplexity, double seconds, long tokens) {
    public double tokensPerSecond() {
      return seconds > 0 ? tokens / seconds : 0;
    }
  }

  private final CharLanguageModel model;
  private final Optimizer optimizer;
  private final int epochs;
  private final double clipNorm;
  private final CrossEntropyLoss loss = new CrossEntropyLoss();

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
    List<EpochResult> history = new ArrayList<>();
    boolean carryState = sampler.method() == SequenceSampler.Method.SEQUENTIAL;
    model.train();
    for (int epoch = 1; epoch <= epochs; epoch++) {
      SequenceSampler.Epoch batches = sampler.epoch(epoch);
      final int e = epoch;
      if (epoch == 1) {
        progress.forEach(l -> l.onFitStart(epochs, batches.size()));
      }
      progress.forEach(l -> l.onEpochStart(e));
      long start = System.nanoTime();
      double lossSum = 0;
      long tokens = 0;
      long batchIndex = 0;
      CharLanguageModel.State state = null;
      try {
        for (Batch b : batches) {
          try (b; Scope step = Scope.open()) {
            CharLanguageModel.Output out = model.forward(b.x(), carryState ? state : null);
            // Logits rows are time-major (t*N + n): targets (N, T) -> (T, N) -> flat.
            Tensor target = b.y().t().reshape(-1);
            Tensor l = loss.apply(out.logits(), target);
            optimizer.zeroGrad();
            l.backward();
            if (clipNorm > 0) {
              ClipGrad.clipGradNorm(optimizer.parameters(), clipNorm);
            }
            optimizer.step();
            if (carryState) {
              CharLanguageModel.State next = out.state().detach();
              if (state != null) {
                state.close();
              }
              state = next;
            }
            double batchLoss = l.item();
            long n = target.numel();
            lossSum += batchLoss * n;
            tokens += n;
            long index = ++batchIndex;
            long seen = tokens;
            progress.forEach(x -> x.onBatchEnd(e, index, batches.size(), batchLoss, seen));
          }
        }
      } finally {
        if (state != null) {
          state.close();
        }
      }
      double meanLoss = tokens == 0 ? Double.NaN : lossSum / tokens;
      EpochResult r = new EpochResult(epoch, meanLoss, Math.exp(meanLoss), (System.nanoTime() - start) / 1e9, tokens);
      history.add(r);
      Arrays.stream(onEpoch).forEach(c -> c.accept(r));
    }
    return history;
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
