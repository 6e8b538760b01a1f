package dev.fathom.loss;

import dev.fathom.tensor.Tensor;

/**
 * PyTorch's mean squared error: {@code (output - target)^2} per element, without the
 * 1/2 of {@link SquaredLoss} (so its gradient is {@code 2 (output - target)}).
 *
 * <pre>{@code
 * Tensor l = new MSELoss().apply(prediction, target);   // mean over all elements
 * }</pre>
 *
 * <p>Target shape: as {@link SquaredLoss}.
 */
public final class MSELoss implements Loss {
  private final Reduction reduction;

  public MSELoss() {
    this(Reduction.MEAN);
  }

  public MSELoss(Reduction reduction) {
    this.reduction = reduction;
  }

  public Reduction reduction() {
    return reduction;
  }

  @Override
  public Tensor apply(Tensor output, Tensor target) {
    Losses.requireFloat("MSELoss", "output", output);
    Tensor y = Losses.matchTarget("MSELoss", output, target);
    return reduction.reduce(output.sub(y).square());
  }
}
