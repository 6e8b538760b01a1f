package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_pool2d_choice;
import dev.fathom.bindings.fathom_pool2d_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * A native pooling plan (fathom_pool2d_plan_*): one geometry and dtype,
 * validated once, with its backend. Obtained from {@link CnnKernels#pool2dPlan}
 * and closed after use; thread-safe. src and dst share one layout (their
 * descriptors say which); backward runs in the forward's.
 */
public final class Pool2dPlan extends PlanCache.Plan {
  /** Pooling geometry: input (n, c, h, w), window, stride, padding, algorithm, backend, dtype code. */
  public record Geometry(long n, long c, long h, long w, long kh, long kw, long sh, long sw, long ph, long pw,
      int algorithm, int backend, int dtype) {}

  private final Geometry geometry;
  private final long handle;
  private final long[] outputShape;
  private final int backend;

  Pool2dPlan(Geometry g) {
    this.geometry = g;
    try (fathom_pool2d_params p = new fathom_pool2d_params(); fathom_pool2d_choice c = new fathom_pool2d_choice()) {
      p.n(g.n()).c(g.c()).h(g.h()).w(g.w()).kh(g.kh()).kw(g.kw()).sh(g.sh()).sw(g.sw()).ph(g.ph())
          .pw(g.pw()).algorithm(g.algorithm()).backend(g.backend()).reserved(0);
      handle = open(h -> fathom.fathom_pool2d_plan_create(p, g.dtype(), h), id -> fathom.fathom_pool2d_plan_info(id, c),
          fathom::fathom_pool2d_plan_destroy);
      outputShape = new long[] {c.dst_shape(0), c.dst_shape(1), c.dst_shape(2), c.dst_shape(3)};
      backend = c.backend();
    }
  }

  public Geometry geometry() {
    return geometry;
  }

  /** (N, C, OH, OW). */
  public long[] outputShape() {
    return outputShape.clone();
  }

  /** The backend that runs (AUTO resolved): CnnKernels.BACKEND_*. */
  public int backend() {
    return backend;
  }

  /** Bytes of workspace max pooling's backward needs from its forward (0 for average pooling). */
  public long workspaceBytes() {
    try (fathom_pool2d_choice c = new fathom_pool2d_choice()) {
      Kernels.check(fathom.fathom_pool2d_plan_info(handle, c));
      return c.workspace_bytes();
    }
  }

  /** dst = pool(src); workspace null in inference. */
  public void forward(NativeTensor src, NativeTensor dst, NativeTensor workspace) {
    Slots s = TensorKernels.slots();
    s.set(0, src).set(1, dst);
    if (workspace != null) {
      s.set(2, workspace);
    }
    Kernels.check(fathom.fathom_pool2d_forward(handle, s.get(0), s.get(1), workspace == null ? null : s.get(2)));
  }

  /** diffSrc from diffDst and, for max pooling, the forward's workspace. */
  public void backward(NativeTensor diffDst, NativeTensor workspace, NativeTensor diffSrc) {
    Slots s = TensorKernels.slots();
    s.set(0, diffDst).set(2, diffSrc);
    if (workspace != null) {
      s.set(1, workspace);
    }
    Kernels.check(fathom.fathom_pool2d_backward(handle, s.get(0), workspace == null ? null : s.get(1), s.get(2)));
  }

  @Override
  protected void destroy() {
    Kernels.check(fathom.fathom_pool2d_plan_destroy(handle));
  }

  @Override
  public String toString() {
    return "pool2d plan " + handle + " " + geometry;
  }
}
