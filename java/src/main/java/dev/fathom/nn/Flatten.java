package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Flattens all dimensions from startDim (default 1: keep the batch dimension). */
public class Flatten extends Module {
  private final int startDim;

  public Flatten() {
    this(1);
  }

  public Flatten(int startDim) {
    this.startDim = startDim;
  }

  public int startDim() {
    return startDim;
  }

  @Override
  public Tensor forward(Tensor x) {
    return x.flatten(startDim);
  }
}
