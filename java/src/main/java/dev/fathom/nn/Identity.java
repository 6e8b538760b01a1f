package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Returns its input (a placeholder, e.g. for an optional layer). */
public class Identity extends Module {
  @Override
  public Tensor forward(Tensor x) {
    return x;
  }
}
