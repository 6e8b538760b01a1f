package dev.fathom.nn;

import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Tensor;

/** Max pooling over square windows (stride defaults to the window size). */
public class MaxPool2d extends Module {
  private final int kernel;
  private final int stride;
  private final int padding;

  public MaxPool2d(int kernel) {
    this(kernel, kernel, 0);
  }

  public MaxPool2d(int kernel, int stride) {
    this(kernel, stride, 0);
  }

  public MaxPool2d(int kernel, int stride, int padding) {
    if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) {
      throw new IllegalArgumentException("MaxPool2d: kernel=" + kernel + " stride=" + stride + " padding="
          + padding + " (padding must be at most kernel/2)");
    }
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
  }

  /** Side of the square window. */
  public int kernelSize() {
    return kernel;
  }

  public int stride() {
    return stride;
  }

  /** Padding on each side of H and W. */
  public int padding() {
    return padding;
  }

  @Override
  public Tensor forward(Tensor x) {
    return Functional.maxPool2d(x, kernel, stride, padding);
  }

  @Override
  protected String extraRepr() {
    return "kernel=" + kernel + ", stride=" + stride + ", padding=" + padding;
  }
}
