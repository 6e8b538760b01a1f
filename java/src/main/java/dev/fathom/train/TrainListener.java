package dev.fathom.train;

import java.util.List;

/**
 * Callbacks from {@link Trainer#fit}. All methods run on the training thread.
 *
 * <pre>{@code
 * trainer.fit(train, test, new MetricsCsv(out.resolve("metrics.csv")), new EarlyStopping("test_loss", 3));
 * }</pre>
 */
public interface TrainListener {
  default void onFitStart(int epochs, long batchesPerEpoch) {}

  /**
   * Right after {@link #onFitStart} when the trainer resumed from a checkpoint:
   * the epochs completed before it (e.g. to rewrite their rows or plot them).
   */
  default void onFitResumed(List<EpochMetrics> earlierEpochs) {}

  default void onEpochStart(int epoch) {}

  /** After each optimizer step; `loss` is that batch's mean loss. */
  default void onBatchEnd(int epoch, long batch, long batches, double loss, long examplesSoFar) {}

  default void onEpochEnd(EpochMetrics metrics) {}

  /** Asked after every epoch; true ends training early. */
  default boolean shouldStop() {
    return false;
  }

  default void onFitEnd(List<EpochMetrics> history) {}
}
