package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * CNN entry points of the C ABI: the caches of convolution, pooling and
 * batch-norm plans (one per geometry and dtype), layout conversion and resize.
 */
public final class CnnKernels {
  private CnnKernels() {}

  static {
    NativeLibrary.ensureLoaded();
  }

  public static final int BACKEND_AUTO = fathom.FATHOM_CNN_AUTO;
  public static final int BACKEND_REFERENCE = fathom.FATHOM_CNN_REFERENCE;
  public static final int BACKEND_ONEDNN = fathom.FATHOM_CNN_ONEDNN;
  public static final int LAYOUT_NCHW = fathom.FATHOM_LAYOUT_NCHW;
  public static final int LAYOUT_NCHW16C = fathom.FATHOM_LAYOUT_NCHW16C;
  public static final int POOL_MAX = fathom.FATHOM_POOL_MAX;
  public static final int POOL_AVG_INCLUDE_PADDING = fathom.FATHOM_POOL_AVG_INCLUDE_PADDING;
  public static final int POOL_AVG_EXCLUDE_PADDING = fathom.FATHOM_POOL_AVG_EXCLUDE_PADDING;

  // Bounded: a process sees a few hundred shapes at most (every layer of a
  // model, times the batch sizes it serves).
  private static final PlanCache<Conv2dPlan.Geometry, Conv2dPlan> CONV2D_PLANS =
      new PlanCache<>(512, Conv2dPlan::new);

  private static final PlanCache<Pool2dPlan.Geometry, Pool2dPlan> POOL2D_PLANS =
      new PlanCache<>(512, Pool2dPlan::new);
  private static final PlanCache<BatchNormPlan.Geometry, BatchNormPlan> BATCH_NORM_PLANS =
      new PlanCache<>(512, BatchNormPlan::new);

  /** The shared plan of a convolution geometry, retained: close it after the call. */
  public static Conv2dPlan conv2dPlan(Conv2dPlan.Geometry g) {
    return CONV2D_PLANS.acquire(g);
  }

  /** The shared plan of a pooling geometry, retained: close it after the call. */
  public static Pool2dPlan pool2dPlan(Pool2dPlan.Geometry g) {
    return POOL2D_PLANS.acquire(g);
  }

  /** The shared plan of a batch-norm geometry, retained: close it after the call. */
  public static BatchNormPlan batchNormPlan(BatchNormPlan.Geometry g) {
    return BATCH_NORM_PLANS.acquire(g);
  }

  /**
   * Copies an (N, C, H, W) tensor between LAYOUT_NCHW and LAYOUT_NCHW16C: the
   * one layout boundary (slots src and dst get the layouts as their descriptors').
   */
  public static void convertLayout(Slots s, int src, int srcLayout, int dst, int dstLayout) {
    s.setLayout(src, srcLayout).setLayout(dst, dstLayout);
    Kernels.check(fathom.fathom_convert_layout(s.get(src), s.get(dst)));
  }

  public static void resizeBilinear(Slots s, int src, int dst) {
    Kernels.check(fathom.fathom_resize_bilinear(s.get(src), s.get(dst)));
  }
}
