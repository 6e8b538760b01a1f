package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_batch_norm_choice;
import dev.fathom.bindings.fathom_batch_norm_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * A native batch-normalization plan (fathom_batch_norm_plan_*): one geometry,
 * mode and dtype, validated once, with its backend. Obtained from
 * {@link CnnKernels#batchNormPlan} and closed after use; thread-safe.
 * Activations share one layout (their descriptors say which); nullable
 * operands are as fathom.h says.
 */
public final class BatchNormPlan extends PlanCache.Plan {
  /** (n, c, s) with s = H*W (1 for dense inputs), eps, momentum, training, backend, dtype code. */
  public record Geometry(long n, long c, long s, double eps, double momentum, boolean training, int backend,
      int dtype) {}

  private final Geometry geometry;
  private final long handle;
  private final int backend;

  BatchNormPlan(Geometry g) {
    this.geometry = g;
    try (fathom_batch_norm_params p = new fathom_batch_norm_params();
        fathom_batch_norm_choice c = new fathom_batch_norm_choice()) {
      p.n(g.n()).c(g.c()).s(g.s()).eps(g.eps()).momentum(g.momentum()).training(g.training() ? 1 : 0)
          .backend(g.backend()).reserved(0);
      handle = open(h -> fathom.fathom_batch_norm_plan_create(p, g.dtype(), h),
          id -> fathom.fathom_batch_norm_plan_info(id, c), fathom::fathom_batch_norm_plan_destroy);
      backend = c.backend();
    }
  }

  public Geometry geometry() {
    return geometry;
  }

  /** The backend that runs (AUTO resolved): CnnKernels.BACKEND_*. */
  public int backend() {
    return backend;
  }

  /** dst and the statistics; gamma, beta, running and save vectors nullable as fathom.h says. */
  public void forward(NativeTensor src, NativeTensor gamma, NativeTensor beta, NativeTensor runningMean,
      NativeTensor runningVar, NativeTensor saveMean, NativeTensor saveInvstd, NativeTensor dst) {
    Slots s = TensorKernels.slots();
    NativeTensor[] ops = {src, gamma, beta, runningMean, runningVar, saveMean, saveInvstd, dst};
    Kernels.check(fathom.fathom_batch_norm_forward(handle, at(s, ops, 0), at(s, ops, 1), at(s, ops, 2),
        at(s, ops, 3), at(s, ops, 4), at(s, ops, 5), at(s, ops, 6), at(s, ops, 7)));
  }

  /** diffSrc, diffGamma and diffBeta (nullable) from the forward's saved statistics. */
  public void backward(NativeTensor src, NativeTensor diffDst, NativeTensor gamma, NativeTensor saveMean,
      NativeTensor saveInvstd, NativeTensor diffSrc, NativeTensor diffGamma, NativeTensor diffBeta) {
    Slots s = TensorKernels.slots();
    NativeTensor[] ops = {src, diffDst, gamma, saveMean, saveInvstd, diffSrc, diffGamma, diffBeta};
    Kernels.check(fathom.fathom_batch_norm_backward(handle, at(s, ops, 0), at(s, ops, 1), at(s, ops, 2),
        at(s, ops, 3), at(s, ops, 4), at(s, ops, 5), at(s, ops, 6), at(s, ops, 7)));
  }

  private static dev.fathom.bindings.fathom_tensor_desc at(Slots s, NativeTensor[] ops, int i) {
    if (ops[i] == null) {
      return null;
    }
    s.set(i, ops[i]);
    return s.get(i);
  }

  @Override
  protected void destroy() {
    Kernels.check(fathom.fathom_batch_norm_plan_destroy(handle));
  }

  @Override
  public String toString() {
    return "batch_norm plan " + handle + " " + geometry;
  }
}
