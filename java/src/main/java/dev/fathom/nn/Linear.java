package dev.fathom.nn;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;

/**
 * y = x W^T + b with W of shape [out, in] (PyTorch's layout, so state dicts
 * match). Default initialisation as PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for W and b.
 *
 * <pre>{@code
 * Linear fc = new Linear(784, 10, true, new Generator(0));
 * Tensor logits = fc.forward(x);   // x [N, 784] -> [N, 10]
 * }</pre>
 */
public class Linear extends Module {
  private final long in;
  private final long out;
  private final boolean hasBias;

  public Linear(long in, long out) {
    this(in, out, true, Generator.defaultGenerator());
  }

  public Linear(long in, long out, boolean bias, Generator gen) {
    if (in <= 0 || out <= 0) {
      throw new IllegalArgumentException("Linear: in=" + in + " and out=" + out + " must be positive");
    }
    this.in = in;
    this.out = out;
    double bound = 1 / Math.sqrt(in);
    this.hasBias = bias;
    registerParameter("weight", Tensor.uniform(gen, -bound, bound, DType.FLOAT32, out, in));
    if (bias) {
      registerParameter("bias", Tensor.uniform(gen, -bound, bound, DType.FLOAT32, out));
    }
  }

  /** [out, in]. */
  public Tensor weight() {
    return param("weight");
  }

  /** [out], or null when built without a bias. */
  public Tensor bias() {
    return hasBias ? param("bias") : null;
  }

  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() < 1 || x.size(-1) != in) {
      throw new IllegalArgumentException("Linear(" + in + "->" + out + "): input "
          + java.util.Arrays.toString(x.shape()) + " must end in " + in + " features");
    }
    Tensor y = x.matmul(weight().t());
    return hasBias ? y.add(bias()) : y;
  }

  @Override
  protected String extraRepr() {
    return "in=" + in + ", out=" + out + ", bias=" + hasBias;
  }
}
