package dev.fathom.optim;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;

/**
 * Gradient clipping by global norm, the notes' {@code g <- min(theta / ||g||, 1) g} with g
 * all gradients concatenated, as PyTorch's {@code clip_grad_norm_}.
 *
 * <pre>{@code
 * loss.backward();
 * double norm = ClipGrad.clipGradNorm(model.parameters(), 1.0);   // before opt.step()
 * opt.step();
 * }</pre>
 */
public final class ClipGrad {
  private ClipGrad() {}

  /**
   * Scales every gradient in place by {@code min(maxNorm / (norm + 1e-6), 1)}, where norm is
   * the L2 norm of all gradients together (parameters without a gradient are skipped).
   * Gradients already within the bound are left untouched. Returns the norm before clipping
   * (infinite or NaN if a gradient is; the gradients are then scaled by 0 or NaN, as in PyTorch).
   */
  public static double clipGradNorm(List<Tensor> params, double maxNorm) {
    if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
      throw new IllegalArgumentException("clipGradNorm: maxNorm=" + maxNorm + " must be finite and >= 0");
    }
    double sumSquares = 0;
    try (GradMode.Guard g = GradMode.disable(); Scope scope = Scope.open()) {
      for (Tensor p : params) {
        Tensor grad = p.grad();
        if (grad != null) {
          double n = grad.norm().item();   // per-parameter norm in its dtype, combined in double
          sumSquares += n * n;
        }
      }
      double total = Math.sqrt(sumSquares);
      double coef = maxNorm / (total + 1e-6);
      if (coef < 1 || Double.isNaN(coef)) {
        for (Tensor p : params) {
          if (p.grad() != null) {
            p.grad().mul_(coef);
          }
        }
      }
      return total;
    }
  }
}
