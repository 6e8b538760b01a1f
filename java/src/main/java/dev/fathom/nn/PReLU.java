package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/**
 * Parametric ReLU: max(0, x) + a * min(0, x) with a learned slope a, either one
 * for all inputs or one per channel (dimension 1), initialised to 0.25 as in PyTorch.
 *
 * <pre>{@code
 * PReLU act = new PReLU(256);   // one slope per feature of a [N, 256] input
 * }</pre>
 */
public class PReLU extends Module {
  private final long numParameters;

  public PReLU() {
    this(1);
  }

  public PReLU(long numParameters) {
    this(numParameters, 0.25);
  }

  public PReLU(long numParameters, double init) {
    if (numParameters < 1) {
      throw new IllegalArgumentException("PReLU: numParameters=" + numParameters + " must be >= 1");
    }
    this.numParameters = numParameters;
    registerParameter("weight", Tensor.full(init, numParameters));
  }

  public Tensor slope() {
    return param("weight");
  }

  public long numParameters() {
    return numParameters;
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor a = slope();
    if (numParameters > 1) {
      if (x.dim() < 2 || x.size(1) != numParameters) {
        throw new IllegalArgumentException("PReLU(" + numParameters + "): input "
            + java.util.Arrays.toString(x.shape()) + " must have " + numParameters + " channels in dim 1");
      }
      long[] shape = new long[x.dim()];
      java.util.Arrays.fill(shape, 1);
      shape[1] = numParameters;
      a = a.reshape(shape);
    }
    // relu(x) - a * relu(-x) == max(0, x) + a * min(0, x)
    return x.relu().sub(a.mul(x.neg().relu()));
  }

  @Override
  protected String extraRepr() {
    return "numParameters=" + numParameters;
  }
}
