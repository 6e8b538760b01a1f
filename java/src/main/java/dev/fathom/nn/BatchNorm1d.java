package dev.fathom.nn;

/** Batch normalization of (N, C) features (after a Linear layer). */
public class BatchNorm1d extends BatchNorm {
  public BatchNorm1d(long features) {
    this(features, 1e-5, 0.1);
  }

  public BatchNorm1d(long features, double eps, double momentum) {
    super(features, eps, momentum, 2);
  }
}
