package dev.fathom.loss;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * Gaussian negative log-likelihood with a predicted variance, as PyTorch's
 * {@code GaussianNLLLoss}: per element {@code 0.5 (log(var) + (y - mu)^2 / var)}, plus
 * {@code 0.5 log(2 pi)} when {@code full}. With var = 1 this is the notes' squared loss plus
 * a constant: maximum likelihood under {@code y ~ N(f(x), 1)}.
 *
 * <pre>{@code
 * GaussianNLLLoss nll = new GaussianNLLLoss();
 * Tensor l = nll.apply(mean, target, variance);     // var: input's shape, or one fewer dim
 * Tensor l2 = nll.apply(meanAndVar, target);        // output [..., 2] = (mean, var)
 * }</pre>
 *
 * <p>The variance is clamped to at least {@code eps} for the value only: as in PyTorch the
 * clamp is not differentiated, so a tiny variance still receives a gradient. A negative
 * variance is an IllegalArgumentException. {@code var} may have the input's shape, the
 * input's shape without its last dimension, or a last dimension of 1 (one variance per row).
 */
public final class GaussianNLLLoss implements Loss {
  private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
  private final boolean full;
  private final double eps;
  private final Reduction reduction;

  /** full = false, eps = 1e-6, MEAN (PyTorch's defaults). */
  public GaussianNLLLoss() {
    this(false, 1e-6, Reduction.MEAN);
  }

  public GaussianNLLLoss(boolean full, double eps, Reduction reduction) {
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("GaussianNLLLoss: eps=" + eps + " must be positive and finite");
    }
    this.full = full;
    this.eps = eps;
    this.reduction = reduction;
  }

  public Reduction reduction() {
    return reduction;
  }

  /**
   * The two-input form for {@link Loss} callers: output [..., 2] holds the mean in
   * {@code [..., 0]} and the variance in {@code [..., 1]}; target has the shape [...].
   */
  @Override
  public Tensor apply(Tensor output, Tensor target) {
    Losses.requireFloat("GaussianNLLLoss", "output", output);
    if (output.dim() == 0 || output.size(-1) != 2) {
      throw new IllegalArgumentException("GaussianNLLLoss: " + Losses.shapes(output, target)
          + ": the two-input form needs output [..., 2] = (mean, var); or call apply(input, target, var)");
    }
    return apply(output.select(-1, 0), target, output.select(-1, 1));
  }

  /** The loss of predicted means `input` and variances `var` against `target`. */
  public Tensor apply(Tensor input, Tensor target, Tensor var) {
    Losses.requireFloat("GaussianNLLLoss", "input", input);
    Losses.requireFloat("GaussianNLLLoss", "var", var);
    Tensor y = Losses.matchTarget("GaussianNLLLoss", input, target);
    Tensor v = matchVar(input, var);
    Tensor clamped;
    try (GradMode.Guard g = GradMode.disable(); Scope scope = Scope.open()) {
      double min = v.numel() > 0 ? v.min().item() : 0;
      if (min < 0) {
        throw new IllegalArgumentException("GaussianNLLLoss: var has negative entries (min " + min + ")");
      }
      clamped = scope.keep(v.clampMin(eps));
    }
    // NOTE: v - v.detach() is exactly 0 with gradient 1, so vc has the clamped value and
    // passes gradients straight through (PyTorch clamps in place under no_grad).
    Tensor vc = v.sub(v.detach()).add(clamped);
    Tensor nll = vc.log().add(input.sub(y).square().div(vc)).mul(0.5);
    if (full) {
      nll = nll.add(HALF_LOG_2PI);
    }
    return reduction.reduce(nll);
  }

  private static Tensor matchVar(Tensor input, Tensor var) {
    long[] in = input.shape();
    long[] v = var.shape();
    if (Arrays.equals(in, v)) {
      return var;
    }
    if (in.length > 0 && Arrays.equals(Arrays.copyOf(in, in.length - 1), v)) {
      return var.unsqueeze(-1);
    }
    if (in.length > 0 && v.length == in.length && v[v.length - 1] == 1
        && Arrays.equals(Arrays.copyOf(in, in.length - 1), Arrays.copyOf(v, v.length - 1))) {
      return var;
    }
    throw new IllegalArgumentException("GaussianNLLLoss: input " + Losses.shape(input) + " and var "
        + Losses.shape(var) + " do not match: var needs the input's shape, the input's shape without"
        + " its last dimension, or a last dimension of 1");
  }
}
