package dev.fathom.nn;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;

/**
 * Inverted dropout: in training mode each element is zeroed with probability p
 * and the survivors are scaled by 1/(1-p), so eval mode is the identity.
 *
 * <pre>{@code
 * Module net = new Sequential(new Linear(784, 256), new ReLU(), new Dropout(0.5, gen), new Linear(256, 10));
 * net.eval();   // dropout off
 * }</pre>
 */
public class Dropout extends Module {
  private final double p;
  private final Generator gen;

  public Dropout(double p) {
    this(p, Generator.defaultGenerator());
  }

  public Dropout(double p, Generator gen) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("Dropout: p=" + p + " must be in [0, 1)");
    }
    this.p = p;
    this.gen = gen;
  }

  public double p() {
    return p;
  }

  @Override
  public Tensor forward(Tensor x) {
    if (!isTraining() || p == 0) {
      return x;
    }
    Tensor keep = Tensor.bernoulli(gen, 1 - p, x.dtype() == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32, x.shape());
    return x.mul(keep.mul(1 / (1 - p)));
  }

  @Override
  protected String extraRepr() {
    return "p=" + p;
  }
}
