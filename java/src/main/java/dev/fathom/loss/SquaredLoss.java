package dev.fathom.loss;

import dev.fathom.tensor.Tensor;

/**
 * The notes' squared loss for regression: {@code (y_hat - y)^2 / 2} per element.
 *
 * <p>NOTE the 1/2: it makes the gradient {@code y_hat - y} with no factor 2, as in the
 * notes' update rule {@code theta -= eta/|B| * sum x (y_hat - y)}. {@link MSELoss} is
 * PyTorch's {@code MSELoss} without it, so {@code MSELoss = 2 * SquaredLoss}.
 *
 * <pre>{@code
 * Loss loss = new SquaredLoss();                 // MEAN over elements
 * Tensor l = loss.apply(x.matmul(w).add(b), y);  // output [N,1], target [N] or [N,1]
 * }</pre>
 *
 * <p>Target shape: the output's, or one that differs only by size-1 dimensions
 * ([N] for output [N,1]); otherwise an IllegalArgumentException names both shapes.
 */
public final class SquaredLoss implements Loss {
  private final Reduction reduction;

  public SquaredLoss() {
    this(Reduction.MEAN);
  }

  public SquaredLoss(Reduction reduction) {
    this.reduction = reduction;
  }

  public Reduction reduction() {
    return reduction;
  }

  @Override
  public Tensor apply(Tensor output, Tensor target) {
    Losses.requireFloat("SquaredLoss", "output", output);
    Tensor y = Losses.matchTarget("SquaredLoss", output, target);
    return reduction.reduce(output.sub(y).square().mul(0.5));
  }
}
