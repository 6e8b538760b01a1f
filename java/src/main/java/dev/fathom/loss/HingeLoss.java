package dev.fathom.loss;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;

/**
 * The SVM hinge loss. Two target forms:
 * <ul>
 *   <li>Binary, float targets in {-1, +1} of the output's shape: {@code max(0, 1 - y f(x))}
 *       per element (the notes' SVM: the sign of {@code w^T x + b} is the decision). With
 *       output [N, C] and targets +-1 per class this is one-vs-rest.
 *   <li>Multi-class, Crammer-Singer: output scores [N, C] and int64 class indices [N]:
 *       {@code max(0, 1 + max_{j != y} f_j(x) - f_y(x))} per example.
 * </ul>
 * {@code squared} squares each value (the squared hinge, L2-SVM). Targets that are not
 * +-1 (for example 0/1 labels) are an IllegalArgumentException.
 *
 * <pre>{@code
 * Tensor l = new HingeLoss().apply(x.matmul(w).add(b), ySigned);   // ySigned in {-1, +1}
 * Tensor l2 = new HingeLoss(Reduction.MEAN, true).apply(scores, labels); // squared, int64 labels
 * }</pre>
 */
public final class HingeLoss implements Loss {
  private final Reduction reduction;
  private final boolean squared;

  public HingeLoss() {
    this(Reduction.MEAN, false);
  }

  public HingeLoss(Reduction reduction) {
    this(reduction, false);
  }

  public HingeLoss(Reduction reduction, boolean squared) {
    this.reduction = reduction;
    this.squared = squared;
  }

  public Reduction reduction() {
    return reduction;
  }

  public boolean squared() {
    return squared;
  }

  @Override
  public Tensor apply(Tensor output, Tensor target) {
    Losses.requireFloat("HingeLoss", "output (scores)", output);
    Tensor hinge;
    if (target.dtype().isFloatingPoint()) {
      Tensor y = Losses.matchTarget("HingeLoss", output, target);
      checkSigns(y);
      hinge = output.mul(y).rsub(1).relu();
    } else {
      if (output.dim() != 2) {
        throw new IllegalArgumentException("HingeLoss: " + Losses.shapes(output, target)
            + ": class-index targets need scores [N, C]");
      }
      Tensor index = Losses.classIndices("HingeLoss", output, target);
      // max_j (f_j + 1 - [j = y]) - f_y = max(0, max_{j != y} (1 + f_j - f_y)): the j = y
      // term is exactly 0, so no separate clamp at 0 is needed.
      Tensor margin = Tensor.oneHot(index.reshape(-1), output.size(1)).to(output.dtype());
      Tensor best = output.add(1.0).sub(margin).max(1, false).values();
      hinge = best.sub(output.gather(1, index).reshape(-1));
    }
    return reduction.reduce(squared ? hinge.square() : hinge);
  }

  private static void checkSigns(Tensor y) {
    double[] v;
    try (GradMode.Guard g = GradMode.disable()) {
      v = y.toDoubleArray();
    }
    for (int i = 0; i < v.length; i++) {
      if (v[i] != 1 && v[i] != -1) {
        throw new IllegalArgumentException("HingeLoss: target element " + i + " is " + v[i]
            + "; binary targets must be -1 or +1 (use int64 class indices for multi-class)");
      }
    }
  }
}
