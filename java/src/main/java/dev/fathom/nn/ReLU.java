package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Elementwise max(x, 0). */
public class ReLU extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.relu();
  }
}
