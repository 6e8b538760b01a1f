package dev.fathom.loss;

import dev.fathom.tensor.Tensor;

/**
 * Binary cross-entropy on logits, as PyTorch's {@code BCEWithLogitsLoss}: per element
 * {@code -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] = max(x, 0) - x y + log(1 + exp(-|x|))}.
 *
 * <pre>{@code
 * Loss loss = new BCEWithLogitsLoss();
 * Tensor l = loss.apply(logits, labels01);   // same shape; targets in [0, 1]
 * }</pre>
 *
 * <p>Target shape: as {@link SquaredLoss} (same shape up to size-1 dimensions).
 */
public final class BCEWithLogitsLoss implements Loss {
  private final Reduction reduction;

  public BCEWithLogitsLoss() {
    this(Reduction.MEAN);
  }

  public BCEWithLogitsLoss(Reduction reduction) {
    this.reduction = reduction;
  }

  public Reduction reduction() {
    return reduction;
  }

  @Override
  public Tensor apply(Tensor output, Tensor target) {
    Losses.requireFloat("BCEWithLogitsLoss", "output (logits)", output);
    Tensor y = Losses.matchTarget("BCEWithLogitsLoss", output, target);
    // NOTE: softplus(x) is computed natively as max(x, 0) + log1p(exp(-|x|)), so this is the
    // stable formula above, and its backward sigmoid(x) - y is right everywhere. Composing
    // relu(x) + softplus(-|x|) from ops instead would give -y instead of 0.5 - y at x = 0
    // (the kinks of relu and abs cancel in value but not in autograd's subgradients), and
    // x = 0 is exactly where a zero-initialised logistic regression starts.
    return reduction.reduce(output.softplus().sub(output.mul(y)));
  }
}
