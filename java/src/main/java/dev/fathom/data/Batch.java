package dev.fathom.data;

import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * A mini-batch: inputs {@code x} (rows along dim 0) and optional targets {@code y}.
 * It is what a {@link Dataset} returns and a {@link DataLoader} hands out; it is
 * not a view: its tensors are fresh copies of the selected rows.
 *
 * <pre>{@code
 * for (Batch b : loader) {
 *   try (b) { Tensor logits = model.forward(b.x()); ... }
 * }
 * }</pre>
 *
 * <p>Ownership: the tensors of a batch are unowned (they belong to no
 * {@link Scope}), so a batch may cross threads. Whoever receives it closes it,
 * or hands its tensors to a scope with {@link #adoptInto(Scope)}.
 */
public final class Batch implements AutoCloseable {
  private final Tensor x;
  private final Tensor y;

  /**
   * A batch of {@code x} and {@code y} (y may be null). Both must have the same
   * size along dim 0. The batch now owns both tensors.
   */
  public Batch(Tensor x, Tensor y) {
    if (x == null) {
      throw new IllegalArgumentException("Batch: x must not be null");
    }
    if (x.dim() == 0) {
      throw new IllegalArgumentException("Batch: x must have a batch dimension, got a 0-d tensor");
    }
    if (y != null && (y.dim() == 0 || y.size(0) != x.size(0))) {
      throw new IllegalArgumentException("Batch: x " + Arrays.toString(x.shape()) + " and y "
          + Arrays.toString(y.shape()) + " differ in their first dimension");
    }
    this.x = x;
    this.y = y;
  }

  /** Inputs, rows along dim 0. */
  public Tensor x() {
    return x;
  }

  /** Targets, rows along dim 0, or null for an unlabelled batch. */
  public Tensor y() {
    return y;
  }

  /** Number of rows. */
  public int size() {
    return Math.toIntExact(x.size(0));
  }

  /**
   * Gives both tensors to {@code scope}, which then closes them (the usual
   * pattern inside a training step); returns this batch.
   */
  public Batch adoptInto(Scope scope) {
    scope.adopt(x);
    if (y != null) {
      scope.adopt(y);
    }
    return this;
  }

  /** Closes x and y (idempotent). */
  @Override
  public void close() {
    x.close();
    if (y != null) {
      y.close();
    }
  }

  @Override
  public String toString() {
    return "Batch(x=" + Arrays.toString(x.shape()) + " " + x.dtype()
        + (y == null ? "" : ", y=" + Arrays.toString(y.shape()) + " " + y.dtype()) + ")";
  }
}
