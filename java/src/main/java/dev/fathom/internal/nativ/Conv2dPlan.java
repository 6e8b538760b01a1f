package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_conv2d_choice;
import dev.fathom.bindings.fathom_conv2d_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * A native convolution plan (fathom_conv2d_plan_*): one geometry and dtype,
 * validated once, with the kernels and activation layouts native code chose
 * for it. Obtained from {@link CnnKernels#conv2dPlan} and closed after use;
 * thread-safe. Operands may be in either layout; the plan's preferred ones
 * ({@link #srcLayout}, {@link #dstLayout}) save reorders.
 */
public final class Conv2dPlan extends PlanCache.Plan {
  public static final int FORWARD = fathom.FATHOM_CONV2D_FORWARD;
  public static final int BACKWARD_DATA = fathom.FATHOM_CONV2D_BACKWARD_DATA;
  public static final int BACKWARD_WEIGHTS = fathom.FATHOM_CONV2D_BACKWARD_WEIGHTS;

  /**
   * Convolution geometry: input (n, c, h, w), k filters of kh x kw, stride,
   * padding, dilation, groups, bias, fused ReLU (inference), backend, dtype code.
   */
  public record Geometry(long n, long c, long h, long w, long k, long kh, long kw, long sh, long sw,
      long ph, long pw, long dh, long dw, long groups, boolean bias, boolean relu, int backend, int dtype) {}

  private final Geometry geometry;
  private final long handle;
  private final long[] outputShape;
  private final int backend;
  private final int[] srcLayout = new int[3];
  private final int[] dstLayout = new int[3];

  Conv2dPlan(Geometry g) {
    this.geometry = g;
    try (fathom_conv2d_params p = new fathom_conv2d_params(); fathom_conv2d_choice c = new fathom_conv2d_choice()) {
      p.n(g.n()).c(g.c()).h(g.h()).w(g.w()).k(g.k()).kh(g.kh()).kw(g.kw()).sh(g.sh()).sw(g.sw())
          .ph(g.ph()).pw(g.pw()).dh(g.dh()).dw(g.dw()).groups(g.groups()).has_bias(g.bias() ? 1 : 0)
          .post_relu(g.relu() ? 1 : 0).backend(g.backend()).reserved(0);
      handle = open(h -> fathom.fathom_conv2d_plan_create(p, g.dtype(), h), id -> fathom.fathom_conv2d_plan_info(id, c),
          fathom::fathom_conv2d_plan_destroy);
      outputShape = new long[] {c.dst_shape(0), c.dst_shape(1), c.dst_shape(2), c.dst_shape(3)};
      backend = c.backend();
      for (int pass = 0; pass < 3; pass++) {
        srcLayout[pass] = c.src_layout(pass);
        dstLayout[pass] = c.dst_layout(pass);
      }
    }
  }

  public Geometry geometry() {
    return geometry;
  }

  /** (N, K, OH, OW). */
  public long[] outputShape() {
    return outputShape.clone();
  }

  /** The backend that runs (AUTO resolved): CnnKernels.BACKEND_*. */
  public int backend() {
    return backend;
  }

  /** The layout of src / diff_src that `pass`'s kernel uses without a reorder. */
  public int srcLayout(int pass) {
    return srcLayout[pass];
  }

  /** The layout of dst / diff_dst that `pass`'s kernel uses without a reorder. */
  public int dstLayout(int pass) {
    return dstLayout[pass];
  }

  /** dst = conv(src, weights) + bias (bias null without one). */
  public void forward(NativeTensor src, NativeTensor weights, NativeTensor bias, NativeTensor dst) {
    Slots s = TensorKernels.slots();
    s.set(0, src).set(1, weights).set(3, dst);
    if (bias != null) {
      s.set(2, bias);
    }
    Kernels.check(fathom.fathom_conv2d_forward(handle, s.get(0), s.get(1), bias == null ? null : s.get(2),
        s.get(3)));
  }

  /** diffSrc = dL/dsrc from diffDst. */
  public void backwardData(NativeTensor diffDst, NativeTensor weights, NativeTensor diffSrc) {
    Slots s = TensorKernels.slots();
    s.set(0, diffDst).set(1, weights).set(2, diffSrc);
    Kernels.check(fathom.fathom_conv2d_backward_data(handle, s.get(0), s.get(1), s.get(2)));
  }

  /** diffWeights and diffBias (null without a bias) from src and diffDst. */
  public void backwardWeights(NativeTensor src, NativeTensor diffDst, NativeTensor diffWeights,
      NativeTensor diffBias) {
    Slots s = TensorKernels.slots();
    s.set(0, src).set(1, diffDst).set(2, diffWeights);
    if (diffBias != null) {
      s.set(3, diffBias);
    }
    Kernels.check(fathom.fathom_conv2d_backward_weights(handle, s.get(0), s.get(1), s.get(2),
        diffBias == null ? null : s.get(3)));
  }

  @Override
  protected void destroy() {
    Kernels.check(fathom.fathom_conv2d_plan_destroy(handle));
  }

  @Override
  public String toString() {
    return "conv2d plan " + handle + " " + geometry;
  }
}
