package dev.fathom.loss;

import dev.fathom.tensor.Tensor;

/**
 * How a loss combines its per-element (or per-example) values, as PyTorch's
 * {@code reduction=} argument. MEAN divides by the number of those values,
 * so with MEAN a learning rate means the same thing for every batch size.
 */
public enum Reduction {
  /** Average over every per-element value: a 0-d tensor. */
  MEAN,
  /** Sum of every per-element value: a 0-d tensor. */
  SUM,
  /** No reduction: one value per element (per example for class-index losses). */
  NONE;

  /** Applies this reduction to unreduced losses (differentiable). */
  public Tensor reduce(Tensor losses) {
    switch (this) {
      case MEAN:
        return losses.mean();
      case SUM:
        return losses.sum();
      default:
        return losses;
    }
  }
}
