package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_batch_norm_params;
import dev.fathom.bindings.fathom_conv2d_params;
import dev.fathom.bindings.fathom_pool2d_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
  public static final int CONV_SRC_NCHW16C = fathom.FATHOM_CONV2D_SRC_NCHW16C;
  public static final int CONV_DST_NCHW16C = fathom.FATHOM_CONV2D_DST_NCHW16C;
  public static final int CONV_FORWARD = fathom.FATHOM_CONV2D_FORWARD;
  public static final int CONV_BACKWARD_DATA = fathom.FATHOM_CONV2D_BACKWARD_DATA;
  public static final int CONV_BACKWARD_WEIGHTS = fathom.FATHOM_CONV2D_BACKWARD_WEIGHTS;
  public static final int POOL_MAX = fathom.FATHOM_POOL_MAX;
  public static final int POOL_AVG_INCLUDE_PADDING = fathom.FATHOM_POOL_AVG_INCLUDE_PADDING;
  public static final int POOL_AVG_EXCLUDE_PADDING = fathom.FATHOM_POOL_AVG_EXCLUDE_PADDING;

  private static final ThreadLocal<fathom_conv2d_params> CONV = ThreadLocal.withInitial(fathom_conv2d_params::new);
  private static final ThreadLocal<fathom_pool2d_params> POOL = ThreadLocal.withInitial(fathom_pool2d_params::new);
  private static final ThreadLocal<fathom_batch_norm_params> BN =
      ThreadLocal.withInitial(fathom_batch_norm_params::new);

  /** Convolution geometry: input (n,c,h,w), k filters of kh x kw, stride, padding, dilation, groups. */
  public record Conv(long n, long c, long h, long w, long k, long kh, long kw, long sh, long sw,
      long ph, long pw, long dh, long dw, long groups, boolean bias, boolean relu, int backend) {}

  private static fathom_conv2d_params conv(Conv g, int layouts) {
    fathom_conv2d_params p = CONV.get();
    p.n(g.n()).c(g.c()).h(g.h()).w(g.w()).k(g.k()).kh(g.kh()).kw(g.kw()).sh(g.sh()).sw(g.sw())
        .ph(g.ph()).pw(g.pw()).dh(g.dh()).dw(g.dw()).groups(g.groups()).has_bias(g.bias() ? 1 : 0)
        .post_relu(g.relu() ? 1 : 0).backend(g.backend()).layouts(layouts);
    return p;
  }

  public static long[] convOutputShape(Conv g) {
    long[] out = new long[4];
    Kernels.check(fathom.fathom_conv2d_output_shape(conv(g, 0), out));
    return out;
  }

  private record LayoutKey(Conv g, int pass) {}

  // Bounded: a process sees a few hundred shapes at most; past that it starts over.
  private static final Map<LayoutKey, Integer> NATIVE_LAYOUTS = new ConcurrentHashMap<>();

  /**
   * The CONV_*_NCHW16C bits of the activations the kernel for (g, pass) keeps
   * in nChw16c (passing them so saves reorders); cached per geometry.
   */
  public static int convNativeLayouts(Conv g, int pass) {
    LayoutKey key = new LayoutKey(g, pass);
    Integer known = NATIVE_LAYOUTS.get(key);
    if (known != null) {
      return known;
    }
    int[] out = new int[1];
    Kernels.check(fathom.fathom_conv2d_native_layouts(conv(g, 0), pass, out));
    if (NATIVE_LAYOUTS.size() > 4096) {
      NATIVE_LAYOUTS.clear();
    }
    NATIVE_LAYOUTS.put(key, out[0]);
    return out[0];
  }

  /** `layouts`: CONV_SRC_NCHW16C / CONV_DST_NCHW16C bits for the operands passed blocked. */
  public static void convForward(Conv g, int layouts, Slots s, int src, int weights, int bias, int dst) {
    Kernels.check(fathom.fathom_conv2d_forward(conv(g, layouts), s.get(src), s.get(weights), s.get(bias),
        s.get(dst)));
  }

  public static void convBackwardData(Conv g, int layouts, Slots s, int diffDst, int weights, int diffSrc) {
    Kernels.check(fathom.fathom_conv2d_backward_data(conv(g, layouts), s.get(diffDst), s.get(weights),
        s.get(diffSrc)));
  }

  public static void convBackwardWeights(Conv g, int layouts, Slots s, int src, int diffDst, int diffWeights,
      int diffBias) {
    Kernels.check(fathom.fathom_conv2d_backward_weights(conv(g, layouts), s.get(src), s.get(diffDst),
        s.get(diffWeights), s.get(diffBias)));
  }

  /** Copies an (N, C, H, W) tensor between LAYOUT_NCHW and LAYOUT_NCHW16C. */
  public static void convertLayout(Slots s, int src, int srcLayout, int dst, int dstLayout) {
    Kernels.check(fathom.fathom_convert_layout(s.get(src), srcLayout, s.get(dst), dstLayout));
  }

  /** Pooling geometry; blocked: nChw16c activations (backward takes the forward's layout). */
  public record Pool(long n, long c, long h, long w, long kh, long kw, long sh, long sw, long ph, long pw,
      int algorithm, int backend, boolean blocked) {}

  private static fathom_pool2d_params pool(Pool g) {
    fathom_pool2d_params p = POOL.get();
    p.n(g.n()).c(g.c()).h(g.h()).w(g.w()).kh(g.kh()).kw(g.kw()).sh(g.sh()).sw(g.sw()).ph(g.ph())
        .pw(g.pw()).algorithm(g.algorithm()).backend(g.backend())
        .layout(g.blocked() ? LAYOUT_NCHW16C : LAYOUT_NCHW).reserved(0);
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

  /** Batch-norm geometry: (n, c, s) with s = H*W (1 for dense inputs); blocked: nChw16c activations. */
  public record Norm(long n, long c, long s, double eps, double momentum, boolean training, int backend,
      boolean blocked) {}

  private static fathom_batch_norm_params norm(Norm g) {
    fathom_batch_norm_params p = BN.get();
    p.n(g.n()).c(g.c()).s(g.s()).eps(g.eps()).momentum(g.momentum()).training(g.training() ? 1 : 0)
        .backend(g.backend()).layout(g.blocked() ? LAYOUT_NCHW16C : LAYOUT_NCHW).reserved(0);
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
