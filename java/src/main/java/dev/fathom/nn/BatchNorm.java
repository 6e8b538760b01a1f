package dev.fathom.nn;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Tensor;

/**
 * Batch normalization per channel (dimension 1), the shared implementation of
 * {@link BatchNorm1d} (N, C) and {@link BatchNorm2d} (N, C, H, W). Training
 * normalises with the batch statistics and updates the running ones
 * (running = (1 - momentum) running + momentum batch, unbiased variance);
 * eval mode uses the running statistics. gamma starts at 1, beta at 0.
 */
public abstract class BatchNorm extends Module {
  private final long features;
  private final double eps;
  private final double momentum;
  private final int expectedDims;

  protected BatchNorm(long features, double eps, double momentum, int expectedDims) {
    if (features < 1 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": features=" + features + " eps=" + eps
          + " momentum=" + momentum);
    }
    this.features = features;
    this.eps = eps;
    this.momentum = momentum;
    this.expectedDims = expectedDims;
    registerParameter("weight", Tensor.ones(features));
    registerParameter("bias", Tensor.zeros(features));
    registerBuffer("running_mean", Tensor.zeros(features));
    registerBuffer("running_var", Tensor.ones(features));
    registerBuffer("num_batches_tracked", Tensor.zeros(DType.INT64));
  }

  public Tensor runningMean() {
    return buffer("running_mean");
  }

  public Tensor runningVar() {
    return buffer("running_var");
  }

  public long numFeatures() {
    return features;
  }

  public double eps() {
    return eps;
  }

  public double momentum() {
    return momentum;
  }

  /** gamma, [features]. */
  public Tensor weight() {
    return param("weight");
  }

  /** beta, [features]. */
  public Tensor bias() {
    return param("bias");
  }

  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() != expectedDims || x.size(1) != features) {
      throw new IllegalArgumentException(getClass().getSimpleName() + "(" + features + "): input "
          + java.util.Arrays.toString(x.shape()) + " must have " + expectedDims + " dimensions and "
          + features + " channels");
    }
    Tensor y = Functional.batchNorm(x, runningMean(), runningVar(), param("weight"), param("bias"), isTraining(),
        momentum, eps);
    if (isTraining()) {
      Tensor count = buffer("num_batches_tracked");
      try (dev.fathom.tensor.GradMode.Guard g = dev.fathom.tensor.GradMode.disable();
          Tensor one = Tensor.scalar(1, DType.INT64);
          Tensor next = count.add(one)) {
        count.copy_(next);
      }
    }
    return y;
  }

  @Override
  protected String extraRepr() {
    return "features=" + features + ", eps=" + eps + ", momentum=" + momentum;
  }
}
