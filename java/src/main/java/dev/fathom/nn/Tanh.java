package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Elementwise tanh(x). */
public class Tanh extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x.tanh();
  }
}
