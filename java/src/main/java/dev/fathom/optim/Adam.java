package dev.fathom.optim;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam with bias correction, as PyTorch's {@code torch.optim.Adam} (amsgrad off). Per
 * parameter p with gradient g, at its t-th update (t counts steps in which p had a grad):
 * <pre>
 *   g = g + weightDecay * p                      (L2 penalty, coupled: it passes through m, v)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * {@link AdamW} decouples the decay instead.
 *
 * <pre>{@code
 * Adam adam = new Adam(model.parameters(), 1e-3);                  // betas 0.9, 0.999, eps 1e-8
 * Adam tuned = new Adam(params, 3e-4, 0.9, 0.98, 1e-9, 1e-4);
 * }</pre>
 */
public class Adam extends Optimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean decoupled;
  private final Tensor[] m;
  private final Tensor[] v;
  private final long[] steps;

  /** lr with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
  public Adam(List<Tensor> params, double lr) {
    this(params, lr, 0.9, 0.999, 1e-8, 0);
  }

  public Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps,
      double weightDecay) {
    this("Adam", params, lr, beta1, beta2, eps, weightDecay, false);
  }

  Adam(String name, List<Tensor> params, double lr, double beta1, double beta2, double eps,
      double weightDecay, boolean decoupled) {
    super(name, params, lr);
    require(beta1 >= 0 && beta1 < 1, name, "beta1", beta1, "in [0, 1)");
    require(beta2 >= 0 && beta2 < 1, name, "beta2", beta2, "in [0, 1)");
    require(eps >= 0 && Double.isFinite(eps), name, "eps", eps, ">= 0");
    require(weightDecay >= 0 && Double.isFinite(weightDecay), name, "weightDecay", weightDecay, ">= 0");
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.decoupled = decoupled;
    this.m = new Tensor[params.size()];
    this.v = new Tensor[params.size()];
    this.steps = new long[params.size()];
  }

  public double beta1() {
    return beta1;
  }

  public double beta2() {
    return beta2;
  }

  public double eps() {
    return eps;
  }

  public double weightDecay() {
    return weightDecay;
  }

  /** How many updates parameter `index` has had (Adam's t). */
  public long stepCount(int index) {
    return steps[index];
  }

  @Override
  protected void update(int i, Tensor param, Tensor grad) {
    double lr = learningRate();
    long t = ++steps[i];
    if (m[i] == null) {
      m[i] = newState(param.dtype(), param.shape(), 0);
      v[i] = newState(param.dtype(), param.shape(), 0);
    }
    Tensor g = grad;
    if (weightDecay != 0) {
      if (decoupled) {
        param.mul_(1 - lr * weightDecay);
      } else {
        g = grad.add(param.mul(weightDecay));
      }
    }
    m[i].mul_(beta1).addScaled_(g, 1 - beta1);
    v[i].mul_(beta2).addScaled_(g.square(), 1 - beta2);
    double bias1 = 1 - Math.pow(beta1, t);
    double bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    Tensor denom = v[i].sqrt().div(bias2Sqrt).add(eps);
    param.addScaled_(m[i].div(denom), -lr / bias1);
  }

  @Override
  protected Map<String, StateKind> stateNames() {
    Map<String, StateKind> names = new LinkedHashMap<>();
    names.put("step", StateKind.COUNT);
    names.put("exp_avg", StateKind.LIKE_PARAMETER);
    names.put("exp_avg_sq", StateKind.LIKE_PARAMETER);
    return names;
  }

  @Override
  protected Map<String, Tensor> exportState(int i) {
    if (m[i] == null) {
      return Map.of();
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    out.put("step", Tensor.scalar(steps[i], DType.INT64));
    out.put("exp_avg", m[i]);
    out.put("exp_avg_sq", v[i]);
    return out;
  }

  @Override
  protected void importState(int i, Map<String, Tensor> state) {
    if (state.isEmpty()) {
      freeState(m[i]);
      freeState(v[i]);
      m[i] = null;
      v[i] = null;
      steps[i] = 0;
      return;
    }
    steps[i] = (long) state.get("step").item();
    if (m[i] == null) {
      m[i] = newStateCopy(state.get("exp_avg"));
      v[i] = newStateCopy(state.get("exp_avg_sq"));
    } else {
      m[i].copy_(state.get("exp_avg"));
      v[i].copy_(state.get("exp_avg_sq"));
    }
  }
}
