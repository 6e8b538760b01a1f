package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** log(softmax(x)) along a dimension (default the last), as x - logsumexp(x). */
public class LogSoftmax extends Module {
  private final int dim;

  public LogSoftmax() {
    this(-1);
  }

  public LogSoftmax(int dim) {
    this.dim = dim;
  }

  /** The dimension normalised over (negative counts from the end). */
  public int dim() {
    return dim;
  }

  @Override
  public Tensor forward(Tensor x) {
    return x.logSoftmax(dim);
  }
}
