package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Elementwise |x|, the absolute-value rectifier. */
public class AbsRectifier extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.abs();
  }
}
