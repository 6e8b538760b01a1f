package dev.fathom.loss;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * Stable softmax helpers and the shape rules every loss in this package shares.
 * Not a loss itself: see {@link Loss} and its implementations.
 *
 * <pre>{@code
 * Tensor logp = Losses.logSoftmax(logits, 1);   // logits [N, C]: rows of log-probabilities
 * Tensor p = Losses.softmax(logits, 1);         // rows sum to 1, no overflow at logits of 1000
 * }</pre>
 */
public final class Losses {
  private Losses() {}

  /** log softmax(x) along dim = x - logsumexp(x, dim), stable for any finite logits ({@link Tensor#logSoftmax}). */
  public static Tensor logSoftmax(Tensor x, int dim) {
    requireFloat("logSoftmax", "input", x);
    return x.logSoftmax(dim);
  }

  /** softmax(x) along dim = exp(logSoftmax(x, dim)): never overflows, rows sum to 1. */
  public static Tensor softmax(Tensor x, int dim) {
    requireFloat("softmax", "input", x);
    return x.softmax(dim);
  }

  // ---------------------------------------------------------------- shared checks

  /** "[2,3]", as the tensor ops print shapes. */
  static String shape(Tensor t) {
    return Arrays.toString(t.shape()).replace(" ", "");
  }

  static String shapes(Tensor output, Tensor target) {
    return "output " + shape(output) + " and target " + shape(target);
  }

  static void requireFloat(String loss, String what, Tensor t) {
    if (!t.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException(loss + ": " + what + " must be floating point, got "
          + t.dtype() + " " + shape(t));
    }
  }

  /**
   * The target viewed in the output's shape, for elementwise losses. Equal shapes pass; shapes
   * that differ only by size-1 dimensions ([N] against [N,1], the notes'
   * {@code y.view(y_hat.size())}) are reshaped. Anything else is an error, even with equal
   * element counts: [2,3] against [3,2] would silently pair the wrong elements.
   */
  static Tensor matchTarget(String loss, Tensor output, Tensor target) {
    long[] o = output.shape();
    long[] t = target.shape();
    if (Arrays.equals(o, t)) {
      return target;
    }
    if (Arrays.equals(withoutOnes(o), withoutOnes(t))) {
      return target.reshape(o);
    }
    throw new IllegalArgumentException(loss + ": " + shapes(output, target)
        + " must have the same shape (up to size-1 dimensions)");
  }

  private static long[] withoutOnes(long[] shape) {
    return Arrays.stream(shape).filter(v -> v != 1).toArray();
  }

  /**
   * Checks int32/int64 class indices [N] for logits [N, C] and returns them as int64 [N, 1]
   * (the index shape gather needs). Every label must be in [0, C).
   */
  static Tensor classIndices(String loss, Tensor output, Tensor target) {
    if (target.dtype() != DType.INT64 && target.dtype() != DType.INT32) {
      throw new IllegalArgumentException(loss + ": class-index target must be int64 (or int32), got "
          + target.dtype() + " " + shape(target));
    }
    if (output.dim() != 2 || target.dim() != 1 || target.size(0) != output.size(0)) {
      throw new IllegalArgumentException(loss + ": " + shapes(output, target)
          + " do not match: class indices need output [N, C] and target [N]");
    }
    long classes = output.size(1);
    long[] labels;
    try (GradMode.Guard g = GradMode.disable()) {
      labels = target.toLongArray();
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException(loss + ": target[" + i + "] = " + labels[i]
            + " is not a class index in [0, " + classes + ") for output " + shape(output));
      }
    }
    return target.to(DType.INT64).reshape(target.size(0), 1);
  }
}
