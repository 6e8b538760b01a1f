package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_batch_norm_params;
import dev.fathom.bindings.fathom_pool2d_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * CNN entry points of the C ABI (convolution, pooling, batch norm, resize).
 * Parameter structs are per thread and refilled per call; operands go through
 * the descriptor slots of {@link TensorKernels}. A slot index of -1 passes null.
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

  private static final ThreadLocal<fathom_pool2d_params> POOL = ThreadLocal.withInitial(fathom_pool2d_params::new);
  private static final ThreadLocal<fathom_batch_norm_params> BN =
      ThreadLocal.withInitial(fathom_batch_norm_params::new);

  // Bounded: a process sees a few hundred shapes at most (every layer of a
  // model, times the batch sizes it serves).
  private static final PlanCache<Conv2dPlan.Geometry, Conv2dPlan> CONV2D_PLANS =
      new PlanCache<>(512, Conv2dPlan::new);

  /** The shared plan of a convolution geometry, retained: close it after the call. */
  public static Conv2dPlan conv2dPlan(Conv2dPlan.Geometry g) {
    return CONV2D_PLANS.acquire(g);
  }

  /**
   * Copies an (N, C, H, W) tensor between LAYOUT_NCHW and LAYOUT_NCHW16C: the
   * one layout boundary (slots src and dst get the layouts as their descriptors').
   */
  public static void convertLayout(Slots s, int src, int srcLayout, int dst, int dstLayout) {
    s.setLayout(src, srcLayout).setLayout(dst, dstLayout);
    Kernels.check(fathom.fathom_convert_layout(s.get(src), s.get(dst)));
  }

  /** Pooling geometry; the layout is the descriptors' (backward takes the forward's). */
  public record Pool(long n, long c, long h, long w, long kh, long kw, long sh, long sw, long ph, long pw,
      int algorithm, int backend) {}

  private static fathom_pool2d_params pool(Pool g) {
    fathom_pool2d_params p = POOL.get();
    p.n(g.n()).c(g.c()).h(g.h()).w(g.w()).kh(g.kh()).kw(g.kw()).sh(g.sh()).sw(g.sw()).ph(g.ph())
        .pw(g.pw()).algorithm(g.algorithm()).backend(g.backend()).reserved(0);
    return p;
  }

  public static long[] poolOutputShape(Pool g) {
    long[] out = new long[4];
    Kernels.check(fathom.fathom_pool2d_output_shape(pool(g), out));
    return out;
  }

  public static long poolWorkspaceBytes(Pool g, int dtype) {
    long[] out = new long[1];
    Kernels.check(fathom.fathom_pool2d_workspace_bytes(pool(g), dtype, out));
    return out[0];
  }

  public static void poolForward(Pool g, Slots s, int src, int dst, int workspace) {
    Kernels.check(fathom.fathom_pool2d_forward(pool(g), s.get(src), s.get(dst), s.get(workspace)));
  }

  public static void poolBackward(Pool g, Slots s, int diffDst, int workspace, int diffSrc) {
    Kernels.check(fathom.fathom_pool2d_backward(pool(g), s.get(diffDst), s.get(workspace), s.get(diffSrc)));
  }

  /** Batch-norm geometry: (n, c, s) with s = H*W (1 for dense inputs); the layout is the descriptors'. */
  public record Norm(long n, long c, long s, double eps, double momentum, boolean training, int backend) {}

  private static fathom_batch_norm_params norm(Norm g) {
    fathom_batch_norm_params p = BN.get();
    p.n(g.n()).c(g.c()).s(g.s()).eps(g.eps()).momentum(g.momentum()).training(g.training() ? 1 : 0)
        .backend(g.backend()).reserved(0);
    return p;
  }

  public static void batchNormForward(Norm g, Slots s, int src, int gamma, int beta, int runningMean,
      int runningVar, int saveMean, int saveInvstd, int dst) {
    Kernels.check(fathom.fathom_batch_norm_forward(norm(g), s.get(src), s.get(gamma), s.get(beta),
        s.get(runningMean), s.get(runningVar), s.get(saveMean), s.get(saveInvstd), s.get(dst)));
  }

  public static void batchNormBackward(Norm g, Slots s, int src, int diffDst, int gamma, int saveMean,
      int saveInvstd, int diffSrc, int diffGamma, int diffBeta) {
    Kernels.check(fathom.fathom_batch_norm_backward(norm(g), s.get(src), s.get(diffDst), s.get(gamma),
        s.get(saveMean), s.get(saveInvstd), s.get(diffSrc), s.get(diffGamma), s.get(diffBeta)));
  }

  public static void resizeBilinear(Slots s, int src, int dst) {
    Kernels.check(fathom.fathom_resize_bilinear(s.get(src), s.get(dst)));
  }
}
