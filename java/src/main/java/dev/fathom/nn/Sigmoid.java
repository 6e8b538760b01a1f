package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Elementwise 1 / (1 + exp(-x)). */
public class Sigmoid extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.sigmoid();
  }
}
