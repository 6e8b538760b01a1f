package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** x for x > 0, slope * x otherwise (fixed slope; see {@link PReLU} for a learned one). */
public class LeakyReLU extends Module {
  private final double slope;

  public LeakyReLU() {
    this(0.01);
  }

  public LeakyReLU(double slope) {
    this.slope = slope;
  }

  public double slope() {
    return slope;
  }

  @Override
  public Tensor forward(Tensor x) {
    return x.leakyRelu(slope);
  }

  @Override
  protected String extraRepr() {
    return "slope=" + slope;
  }
}
