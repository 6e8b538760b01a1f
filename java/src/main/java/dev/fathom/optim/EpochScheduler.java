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
  private double baseLr;
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

  @Override
  public final java.util.Map<String, Double> stateDict() {
    return java.util.Map.of("last_epoch", (double) lastEpoch, "base_lr", baseLr, "last_lr", lastLr);
  }

  @Override
  public final void loadStateDict(java.util.Map<String, Double> state) {
    Double epoch = state.get("last_epoch");
    Double base = state.get("base_lr");
    Double last = state.get("last_lr");
    String name = getClass().getSimpleName();
    if (epoch == null || base == null || last == null || state.size() != 3) {
      throw new IllegalArgumentException(name + ".loadStateDict: expected last_epoch, base_lr and last_lr, got "
          + state.keySet());
    }
    if (!(epoch >= 0 && epoch <= Integer.MAX_VALUE && epoch == Math.rint(epoch))) {
      throw new IllegalArgumentException(name + ".loadStateDict: last_epoch=" + epoch + " is not an epoch count");
    }
    if (!(base >= 0 && Double.isFinite(base) && last >= 0 && Double.isFinite(last))) {
      throw new IllegalArgumentException(name + ".loadStateDict: rates must be finite and >= 0, got base_lr="
          + base + " last_lr=" + last);
    }
    lastEpoch = (int) (double) epoch;
    baseLr = base;
    lastLr = last;
    optimizer.setLearningRate(lastLr);
  }
}
