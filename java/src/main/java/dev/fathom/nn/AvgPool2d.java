package dev.fathom.nn;

import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Tensor;

/**
 * Average pooling over square windows; countIncludePad (PyTorch's default true)
 * divides border windows by k*k, false by the number of in-bounds elements.
 */
public class AvgPool2d extends Module {
  private final int kernel;
  private final int stride;
  private final int padding;
  private final boolean countIncludePad;

  public AvgPool2d(int kernel) {
    this(kernel, kernel, 0, true);
  }

  public AvgPool2d(int kernel, int stride, int padding, boolean countIncludePad) {
    if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) {
      throw new IllegalArgumentException("AvgPool2d: kernel=" + kernel + " stride=" + stride + " padding="
          + padding + " (padding must be at most kernel/2)");
    }
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
    this.countIncludePad = countIncludePad;
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

  public boolean countIncludePad() {
    return countIncludePad;
  }

  @Override
  public Tensor forward(Tensor x) {
    return Functional.avgPool2d(x, kernel, stride, padding, countIncludePad);
  }

  @Override
  protected String extraRepr() {
    return "kernel=" + kernel + ", stride=" + stride + ", padding=" + padding
        + ", countIncludePad=" + countIncludePad;
  }
}
