package dev.fathom.optim;

import dev.fathom.tensor.Tensor;
import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as PyTorch's
 * {@code torch.optim.AdamW}: before the {@link Adam} update (run without an L2 term),
 * {@code p = p - lr * weightDecay * p}. Unlike Adam's L2 penalty the decay does not pass
 * through the moments, so it is not rescaled by {@code 1 / sqrt(v)}.
 *
 * <pre>{@code
 * AdamW opt = new AdamW(params, 1e-3);                      // weightDecay 0.01 (PyTorch's default)
 * AdamW opt2 = new AdamW(params, 1e-3, 0.9, 0.999, 1e-8, 0.1);
 * }</pre>
 */
public final class AdamW extends Adam {
  /** lr with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weightDecay 0.01. */
  public AdamW(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 0.01);
  }

  public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps,
      double weightDecay) {
    super("AdamW", params, lr, beta1, beta2, eps, weightDecay, true);
  }
}
