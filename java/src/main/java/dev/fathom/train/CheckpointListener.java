package dev.fathom.train;

import java.util.function.Consumer;

/**
 * Calls a save hook every `everyEpochs` epochs and after the last one, e.g.
 * to write the model's state dict.
 *
 * <pre>{@code
 * new CheckpointListener(1, m -> Checkpoints.save(model, out.resolve("epoch-" + m.epoch() + ".safetensors")))
 * }</pre>
 */
public final class CheckpointListener implements TrainListener {
  private final int everyEpochs;
  private final Consumer<EpochMetrics> save;
  private EpochMetrics last;
  private boolean savedLast;

  public CheckpointListener(int everyEpochs, Consumer<EpochMetrics> save) {
    if (everyEpochs < 1) {
      throw new IllegalArgumentException("CheckpointListener: everyEpochs=" + everyEpochs + " must be >= 1");
    }
    this.everyEpochs = everyEpochs;
    this.save = save;
  }

  @Override
  public void onEpochEnd(EpochMetrics m) {
    last = m;
    savedLast = m.epoch() % everyEpochs == 0;
    if (savedLast) {
      save.accept(m);
    }
  }

  @Override
  public void onFitEnd(java.util.List<EpochMetrics> history) {
    if (last != null && !savedLast) {
      save.accept(last);
    }
  }
}
