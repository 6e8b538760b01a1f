package dev.fathom.optim;

/**
 * Shared body of schedulers whose rate is a closed-form function of the epoch and the
 * optimizer's learning rate at construction (PyTorch's {@code base_lr}).
 *
 * <p>NOTE: each step overwrites the optimizer's rate with the closed form, PyTorch's
 * {@code _get_closed_form_lr}. PyTorch's default {@code step()} uses a chainable form that
 * gives the same sequence unless something else changes the rate in between.
 */
abstract class EpochScheduler implements LRScheduler {
  private final Optimizer optimizer;
  private final double baseLr;
  private int lastEpoch;
  private double lastLr;

  EpochScheduler(Optimizer optimizer) {
    this.optimizer = optimizer;
    this.baseLr = optimizer.learningRate();
  }

  /** Called at the end of a subclass constructor: sets epoch 0's rate. */
  final void start() {
    apply();
  }

  /** The rate at `epoch` for base rate `baseLr`. */
  abstract double rateAt(int epoch, double baseLr);

  @Override
  public final void step() {
    lastEpoch++;
    apply();
  }

  private void apply() {
    lastLr = rateAt(lastEpoch, baseLr);
    optimizer.setLearningRate(lastLr);
  }

  @Override
  public final double lastLearningRate() {
    return lastLr;
  }

  /** Epochs completed (PyTorch's {@code last_epoch}); 0 right after construction. */
  public final int lastEpoch() {
    return lastEpoch;
  }

  public final double baseLearningRate() {
    return baseLr;
  }
}
