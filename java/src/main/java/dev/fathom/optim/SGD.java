package dev.fathom.optim;

import dev.fathom.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Minibatch stochastic gradient descent with optional momentum and L2 weight decay,
 * as PyTorch's {@code torch.optim.SGD}. Per parameter p with gradient g, each step:
 * <pre>
 *   g = g + weightDecay * p                      (the notes' penalty lambda/2 * sum w^2)
 *   v = g                        at the first step with momentum, then
 *   v = momentum * v + (1 - dampening) * g
 *   g = nesterov ? g + momentum * v : v          (when momentum != 0)
 *   p = p - lr * g
 * </pre>
 *
 * <p>Learning rate and the notes' {@code eta/|B|}: the notes' update is
 * {@code theta -= eta/|B| * sum_{i in B} grad J_i} because their loss is summed over the
 * batch. Fathom's losses average by default ({@code Reduction.MEAN}), whose gradient is
 * already {@code 1/|B| * sum}, so {@code lr} is the notes' {@code eta} directly. Both give
 * the same update:
 * <pre>{@code
 * new SGD(params, eta)             with new SquaredLoss(Reduction.MEAN)   // Fathom's default
 * new SGD(params, eta / batchSize) with new SquaredLoss(Reduction.SUM)    // the notes' sgd()
 * }</pre>
 *
 * <pre>{@code
 * SGD plain = new SGD(List.of(w, b), 0.03);
 * SGD heavy = SGD.builder(params, 0.1).momentum(0.9).nesterov(true).weightDecay(5e-4).build();
 * }</pre>
 */
public final class SGD extends Optimizer {
  private final double momentum;
  private final double dampening;
  private final double weightDecay;
  private final boolean nesterov;
  private final Tensor[] buffers;

  /** Plain SGD: {@code p -= lr * grad}. */
  public SGD(List<Tensor> params, double lr) {
    this(builder(params, lr));
  }

  private SGD(Builder b) {
    super("SGD", b.params, b.lr);
    Optimizer.require(b.momentum >= 0 && Double.isFinite(b.momentum), "SGD", "momentum", b.momentum, ">= 0");
    Optimizer.require(b.dampening >= 0 && b.dampening <= 1, "SGD", "dampening", b.dampening, "in [0, 1]");
    Optimizer.require(b.weightDecay >= 0 && Double.isFinite(b.weightDecay), "SGD", "weightDecay",
        b.weightDecay, ">= 0");
    if (b.nesterov && (b.momentum <= 0 || b.dampening != 0)) {
      throw new IllegalArgumentException("SGD: nesterov needs momentum > 0 and dampening = 0, got momentum="
          + b.momentum + " dampening=" + b.dampening);
    }
    this.momentum = b.momentum;
    this.dampening = b.dampening;
    this.weightDecay = b.weightDecay;
    this.nesterov = b.nesterov;
    this.buffers = new Tensor[b.params.size()];
  }

  public static Builder builder(List<Tensor> params, double lr) {
    return new Builder(params, lr);
  }

  public double momentum() {
    return momentum;
  }

  public double weightDecay() {
    return weightDecay;
  }

  @Override
  protected void update(int index, Tensor param, Tensor grad) {
    Tensor g = weightDecay != 0 ? grad.add(param.mul(weightDecay)) : grad;
    if (momentum != 0) {
      Tensor v = buffers[index];
      if (v == null) {
        v = buffers[index] = newStateCopy(g);
      } else {
        v.mul_(momentum).addScaled_(g, 1 - dampening);
      }
      g = nesterov ? g.add(v.mul(momentum)) : v;
    }
    param.addScaled_(g, -learningRate());
  }

  @Override
  protected Map<String, StateKind> stateNames() {
    return Map.of("momentum_buffer", StateKind.LIKE_PARAMETER);
  }

  @Override
  protected Map<String, Tensor> exportState(int index) {
    return buffers[index] == null ? Map.of() : Map.of("momentum_buffer", buffers[index]);
  }

  @Override
  protected void importState(int index, Map<String, Tensor> state) {
    Tensor v = state.get("momentum_buffer");
    if (v == null) {
      freeState(buffers[index]);
      buffers[index] = null;
    } else if (buffers[index] == null) {
      buffers[index] = newStateCopy(v);
    } else {
      buffers[index].copy_(v);
    }
  }

  /** Options for {@link SGD}; every one defaults to off (0, false). */
  public static final class Builder {
    private final List<Tensor> params;
    private final double lr;
    private double momentum;
    private double dampening;
    private double weightDecay;
    private boolean nesterov;

    private Builder(List<Tensor> params, double lr) {
      this.params = params;
      this.lr = lr;
    }

    /** The momentum factor mu in {@code v = mu * v + g}. */
    public Builder momentum(double momentum) {
      this.momentum = momentum;
      return this;
    }

    /** Scales the new gradient in the momentum buffer by {@code 1 - dampening}. */
    public Builder dampening(double dampening) {
      this.dampening = dampening;
      return this;
    }

    /** L2 penalty: adds {@code weightDecay * p} to the gradient. */
    public Builder weightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /** Nesterov momentum (needs momentum > 0 and no dampening). */
    public Builder nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    public SGD build() {
      return new SGD(this);
    }
  }
}
