package dev.fathom.nn;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;

/**
 * 2-D convolution over (N, C, H, W) input: weight (out, in/groups, k, k), bias
 * (out); output size floor((H + 2p - d(k-1) - 1)/s) + 1. Default initialisation
 * as PyTorch: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = in/groups * k * k.
 *
 * <pre>{@code
 * Conv2d conv = new Conv2d(1, 6, 5);                    // LeNet's first layer
 * Conv2d same = new Conv2d(64, 64, 3, 1, 1, true, gen); // stride 1, padding 1
 * }</pre>
 */
public class Conv2d extends Module {
  private final long in;
  private final long out;
  private final int kernel;
  private final int stride;
  private final int padding;
  private final int dilation;
  private final int groups;
  private final boolean hasBias;

  public Conv2d(long in, long out, int kernel) {
    this(in, out, kernel, 1, 0, true, Generator.defaultGenerator());
  }

  public Conv2d(long in, long out, int kernel, int stride, int padding) {
    this(in, out, kernel, stride, padding, true, Generator.defaultGenerator());
  }

  public Conv2d(long in, long out, int kernel, int stride, int padding, boolean bias, Generator gen) {
    this(in, out, kernel, stride, padding, 1, 1, bias, gen);
  }

  public Conv2d(long in, long out, int kernel, int stride, int padding, int dilation, int groups, boolean bias,
      Generator gen) {
    if (in < 1 || out < 1 || kernel < 1 || stride < 1 || padding < 0 || dilation < 1 || groups < 1
        || in % groups != 0 || out % groups != 0) {
      throw new IllegalArgumentException("Conv2d: invalid configuration in=" + in + " out=" + out + " kernel="
          + kernel + " stride=" + stride + " padding=" + padding + " dilation=" + dilation + " groups=" + groups);
    }
    this.in = in;
    this.out = out;
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    this.hasBias = bias;
    double bound = 1 / Math.sqrt((double) in / groups * kernel * kernel);
    registerParameter("weight", Tensor.uniform(gen, -bound, bound, DType.FLOAT32, out, in / groups, kernel, kernel));
    if (bias) {
      registerParameter("bias", Tensor.uniform(gen, -bound, bound, DType.FLOAT32, out));
    }
  }

  public Tensor weight() {
    return param("weight");
  }

  public Tensor bias() {
    return hasBias ? param("bias") : null;
  }

  public long outChannels() {
    return out;
  }

  public long inChannels() {
    return in;
  }

  /** Side of the square kernel. */
  public int kernelSize() {
    return kernel;
  }

  public int stride() {
    return stride;
  }

  /** Zero padding on each side of H and W. */
  public int padding() {
    return padding;
  }

  public int dilation() {
    return dilation;
  }

  public int groups() {
    return groups;
  }

  @Override
  public Tensor forward(Tensor x) {
    checkInput(x);
    return Functional.conv2d(x, weight(), bias(), stride, stride, padding, padding, dilation, dilation, groups);
  }

  /** relu(forward(x)) as one fused oneDNN primitive when no gradient is recorded (inference). */
  public Tensor forwardRelu(Tensor x) {
    checkInput(x);
    return Functional.conv2dRelu(x, weight(), bias(), stride, stride, padding, padding, dilation, dilation, groups);
  }

  private void checkInput(Tensor x) {
    if (x.dim() != 4 || x.size(1) != in) {
      throw new IllegalArgumentException("Conv2d(" + in + "->" + out + ", k=" + kernel + "): input "
          + java.util.Arrays.toString(x.shape()) + " must be (N, " + in + ", H, W)");
    }
  }

  @Override
  protected String extraRepr() {
    return "in=" + in + ", out=" + out + ", kernel=" + kernel + ", stride=" + stride + ", padding=" + padding
        + (dilation != 1 ? ", dilation=" + dilation : "") + (groups != 1 ? ", groups=" + groups : "")
        + ", bias=" + hasBias;
  }
}
