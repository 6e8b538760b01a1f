package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Softmax along a dimension (default the last), overflow-safe. For training use CrossEntropyLoss on logits. */
public class Softmax extends Module {
  private final int dim;

  public Softmax() {
    this(-1);
  }

  public Softmax(int dim) {
    this.dim = dim;
  }

  /** The dimension normalised over (negative counts from the end). */
  public int dim() {
    return dim;
  }

  @Override
  public Tensor forward(Tensor x) {
    return x.softmax(dim);
  }
}
