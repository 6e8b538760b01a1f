package dev.fathom.optim;

/**
 * Multiplies the learning rate by {@code gamma} every {@code stepSize} epochs, as
 * PyTorch's {@code StepLR}: {@code lr(epoch) = baseLr * gamma^floor(epoch / stepSize)},
 * where baseLr is the optimizer's rate when the scheduler is created.
 *
 * <pre>{@code
 * StepLR sched = new StepLR(opt, 30, 0.1);   // 0.1 for epochs 0-29, 0.01 for 30-59, ...
 * }</pre>
 */
public final class StepLR extends EpochScheduler {
  private final int stepSize;
  private final double gamma;

  /** gamma = 0.1 (PyTorch's default). */
  public StepLR(Optimizer optimizer, int stepSize) {
    this(optimizer, stepSize, 0.1);
  }

  public StepLR(Optimizer optimizer, int stepSize, double gamma) {
    super(optimizer);
    if (stepSize <= 0) {
      throw new IllegalArgumentException("StepLR: stepSize=" + stepSize + " must be positive");
    }
    Optimizer.require(gamma >= 0 && Double.isFinite(gamma), "StepLR", "gamma", gamma, ">= 0");
    this.stepSize = stepSize;
    this.gamma = gamma;
    start();
  }

  @Override
  double rateAt(int epoch, double baseLr) {
    return baseLr * Math.pow(gamma, epoch / stepSize);
  }
}
