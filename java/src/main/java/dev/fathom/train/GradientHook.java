package dev.fathom.train;

import dev.fathom.tensor.Tensor;
import java.util.List;

/**
 * Sees every parameter's gradient after backward and before clipping and the optimizer
 * step, and may rewrite them in place. Data-parallel training plugs in here: each replica
 * replaces its local gradients with the average over all replicas, so that every replica
 * takes the same step (dev.fathom.spark does so over Spark tasks).
 */
@FunctionalInterface
public interface GradientHook {
  /** `parameters` are the optimizer's, in its order; a parameter without a gradient has grad() null. */
  void beforeStep(List<Tensor> parameters);
}
