package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/**
 * Maxout over groups of k consecutive features: [N, F] -> [N, F / k], each
 * output the maximum of its k inputs (Goodfellow et al. 2013). Put it after a
 * Linear layer with k times the wanted width.
 *
 * <pre>{@code
 * Module block = new Sequential(new Linear(784, 256 * 4), new Maxout(4));  // 256 outputs
 * }</pre>
 */
public class Maxout extends Module {
  private final int k;

  public Maxout(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("Maxout: k=" + k + " must be >= 1");
    }
    this.k = k;
  }

  @Override
  public Tensor forward(Tensor x) {
    long features = x.size(-1);
    if (features % k != 0) {
      throw new IllegalArgumentException("Maxout(" + k + "): " + features
          + " input features are not divisible by " + k);
    }
    long[] shape = x.shape();
    long[] grouped = java.util.Arrays.copyOf(shape, shape.length + 1);
    grouped[shape.length - 1] = features / k;
    grouped[shape.length] = k;
    return x.reshape(grouped).max(-1, false).values();
  }

  @Override
  protected String extraRepr() {
    return "k=" + k;
  }
}
