package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Elementwise log(1 + exp(x)). */
public class Softplus extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.softplus();
  }
}
