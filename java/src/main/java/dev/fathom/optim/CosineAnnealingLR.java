package dev.fathom.optim;

/**
 * Cosine annealing from the optimizer's rate down to {@code etaMin} over {@code tMax} epochs,
 * as PyTorch's {@code CosineAnnealingLR} (no restarts):
 * {@code lr(epoch) = etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2}.
 * Past tMax the cosine continues, rising back to baseLr at 2 tMax, as PyTorch's does.
 *
 * <pre>{@code
 * CosineAnnealingLR sched = new CosineAnnealingLR(opt, epochs, 0);
 * }</pre>
 */
public final class CosineAnnealingLR extends EpochScheduler {
  private final int tMax;
  private final double etaMin;

  /** etaMin = 0 (PyTorch's default). */
  public CosineAnnealingLR(Optimizer optimizer, int tMax) {
    this(optimizer, tMax, 0);
  }

  public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
    super(optimizer);
    if (tMax <= 0) {
      throw new IllegalArgumentException("CosineAnnealingLR: tMax=" + tMax + " must be positive");
    }
    Optimizer.require(etaMin >= 0 && Double.isFinite(etaMin), "CosineAnnealingLR", "etaMin", etaMin, ">= 0");
    this.tMax = tMax;
    this.etaMin = etaMin;
    start();
  }

  @Override
  double rateAt(int epoch, double baseLr) {
    return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
  }
}
