package dev.fathom.nn;

/** Batch normalization of (N, C, H, W) feature maps, per channel (after a Conv2d layer). */
public class BatchNorm2d extends BatchNorm {
  public BatchNorm2d(long channels) {
    this(channels, 1e-5, 0.1);
  }

  public BatchNorm2d(long channels, double eps, double momentum) {
    super(channels, eps, momentum, 4);
  }
}
