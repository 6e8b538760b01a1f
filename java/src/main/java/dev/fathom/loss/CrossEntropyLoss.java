package dev.fathom.loss;

import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * Softmax cross-entropy from logits, as PyTorch's {@code CrossEntropyLoss}: per example
 * {@code -sum_c y_c log softmax(x)_c}, the notes' {@code H(y, y_hat)} with
 * {@code y_hat = softmax(x)}. Computed as {@code x - logsumexp(x)} (max subtracted first),
 * so logits of +-1000 give finite losses and gradients.
 *
 * <pre>{@code
 * Loss loss = new CrossEntropyLoss();
 * Tensor l1 = loss.apply(logits, labels);               // labels int64 [N], values in [0, C)
 * Tensor l2 = loss.apply(logits, Tensor.oneHot(labels, c)); // or float [N, C] probabilities
 * }</pre>
 *
 * <p>Output: logits [N, C]. Target: class indices (int64 or int32) [N], where a label
 * outside [0, C) is an IllegalArgumentException naming it; or floating-point
 * probabilities [N, C] (one-hot or soft; rows are not checked to sum to 1). MEAN
 * averages over the N examples, NONE returns [N].
 */
public final class CrossEntropyLoss implements Loss {
  private final Reduction reduction;

  public CrossEntropyLoss() {
    this(Reduction.MEAN);
  }

  public CrossEntropyLoss(Reduction reduction) {
    this.reduction = reduction;
  }

  public Reduction reduction() {
    return reduction;
  }

  @Override
  public Tensor apply(Tensor output, Tensor target) {
    Losses.requireFloat("CrossEntropyLoss", "output (logits)", output);
    if (output.dim() != 2) {
      throw new IllegalArgumentException("CrossEntropyLoss: " + Losses.shapes(output, target)
          + ": output must be logits [N, C]");
    }
    Tensor perExample;
    if (target.dtype().isFloatingPoint()) {
      if (!Arrays.equals(output.shape(), target.shape())) {
        throw new IllegalArgumentException("CrossEntropyLoss: " + Losses.shapes(output, target)
            + " must have the same shape for probability targets (class indices are int64 [N])");
      }
      perExample = Losses.logSoftmax(output, 1).mul(target).sum(1, false).neg();
    } else {
      Tensor index = Losses.classIndices("CrossEntropyLoss", output, target);
      perExample = Losses.logSoftmax(output, 1).gather(1, index).reshape(-1).neg();
    }
    return reduction.reduce(perExample);
  }
}
