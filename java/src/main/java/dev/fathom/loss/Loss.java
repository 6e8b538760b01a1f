package dev.fathom.loss;

import dev.fathom.tensor.Tensor;

/**
 * A training criterion: compares a model's output with a target and returns a
 * differentiable loss (a 0-d tensor for {@link Reduction#MEAN}/{@link Reduction#SUM}).
 * Implementations are stateless and safe to share between threads.
 *
 * <pre>{@code
 * Loss loss = new CrossEntropyLoss();
 * Tensor l = loss.apply(model.forward(x), labels);   // labels: int64 [N]
 * l.backward();
 * }</pre>
 *
 * <p>Memory: like the tensor ops a loss is built from, its result and intermediates join
 * the current {@code Scope} (the training step's); outside a scope they are the caller's.
 * NOTE: a loss cannot free its intermediates early in a scope of its own, because the
 * views autograd saves for backward belong to the scope they were made in.
 */
public interface Loss {
  /** The loss of `output` against `target`, reduced as configured. */
  Tensor apply(Tensor output, Tensor target);
}
