package dev.fathom.tensor;

import dev.fathom.internal.nativ.CnnKernels;
import dev.fathom.internal.nativ.BatchNormPlan;
import dev.fathom.internal.nativ.Conv2dPlan;
import dev.fathom.internal.nativ.NativeTensor;
import dev.fathom.internal.nativ.Pool2dPlan;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import java.util.List;

/**
 * CNN operations on NCHW tensors and whole-sequence recurrent layers (names as
 * torch.nn.functional), each a native kernel with its backward next to it:
 * float32 runs on oneDNN, float64 on the reference kernels (gradient checks).
 * Layers in dev.fathom.nn wrap these.
 *
 * <pre>{@code
 * Tensor y = Functional.conv2d(x, weight, bias, 1, 1);        // stride 1, padding 1
 * Tensor p = Functional.maxPool2d(y.relu(), 2, 2, 0);
 * }</pre>
 */
public final class Functional {
  private Functional() {}

  private static Slots desc(Slots s, int slot, Tensor t) {
    return s.set(slot, t.address(), t.dtype.code, t.shape, t.strides);
  }

  /**
   * Activations stay in oneDNN's nChw16c layout between layers when the
   * kernels want it (see Storage): -Dfathom.blockedLayouts=false or
   * FATHOM_BLOCKED_LAYOUTS=0 keeps every activation NCHW (for comparisons).
   */
  private static volatile boolean blockedLayouts = !"false".equals(System.getProperty("fathom.blockedLayouts",
      "0".equals(System.getenv("FATHOM_BLOCKED_LAYOUTS")) ? "false" : "true"));

  /**
   * This CPU's rule set: convolutions keep activations with fewer channels, or
   * batches of fewer images, NCHW (a floor of 0: never blocked).
   */
  private static final class BlockedFloor {
    static final long CHANNELS = floor("rules.blocked_min_channels", 16);
    static final long BATCH = floor("rules.blocked_min_batch", 1);

    private static long floor(String key, long fallback) {
      String v = dev.fathom.Fathom.runtimeInfo().get(key);
      long c = v.isBlank() ? fallback : Long.parseLong(v.trim());
      return c <= 0 ? Long.MAX_VALUE : c;
    }
  }

  /** Tests compare both paths in one process. */
  static void setBlockedLayouts(boolean on) {
    blockedLayouts = on;
  }

  /**
   * x in the layout activations keep inside a run of layers: an nChw16c copy of
   * a float32 (N, C, H, W) tensor with C a multiple of 16, at least this CPU's
   * floors (`fathom info`: rules.blocked_min_channels and blocked_min_batch),
   * and H*W > 1 (when blocked layouts are on), else x itself. For benchmarks and tests that start
   * in the middle of a network; ops accept either layout.
   */
  public static Tensor inRunLayout(Tensor x) {
    x.ensureOpen("inRunLayout");
    long[] sh = x.shape;
    if (!blockedLayouts || x.dtype != DType.FLOAT32 || sh.length != 4 || sh[1] % 16 != 0 || sh[2] * sh[3] == 1
        || sh[1] < BlockedFloor.CHANNELS || sh[0] < BlockedFloor.BATCH || x.isBlocked()) {
      return x;
    }
    Tensor c = x.contiguous();
    Tensor out = Ops.blockedCopy(c);
    if (c != x) {
      c.close();
    }
    return out;
  }

  /** A tensor as a native operand: its bytes as they are, nChw16c ones with that layout. */
  private static NativeTensor operand(Tensor t) {
    return t.isBlocked()
        ? new NativeTensor(t.blockedAddress(), t.dtype.code, t.shape, t.strides, CnnKernels.LAYOUT_NCHW16C)
        : new NativeTensor(t.address(), t.dtype.code, t.shape, t.strides, CnnKernels.LAYOUT_NCHW);
  }

  /**
   * A fresh output in `layout` (nChw16c only where blocked layouts are on):
   * its address is taken as is and the tensor marked blocked before the call.
   */
  private static NativeTensor output(Tensor t, int layout) {
    if (layout == CnnKernels.LAYOUT_NCHW16C && blockedLayouts && t.dtype == DType.FLOAT32) {
      t.markBlocked();
      return new NativeTensor(t.blockedAddress(), t.dtype.code, t.shape, t.strides, CnnKernels.LAYOUT_NCHW16C);
    }
    return new NativeTensor(t.blockedAddress(), t.dtype.code, t.shape, t.strides, CnnKernels.LAYOUT_NCHW);
  }

  private static void require4d(String op, String what, Tensor t) {
    t.ensureOpen(op);
    if (t.shape.length != 4) {
      throw new IllegalArgumentException(op + ": " + what + " must be (N, C, H, W), got " + Shapes.str(t.shape));
    }
    if (!t.dtype.isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": " + what + " must be float32 or float64, got " + t.dtype);
    }
  }

  /** Square kernel helpers. */
  public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int stride, int padding) {
    return conv2d(input, weight, bias, stride, stride, padding, padding, 1, 1, 1);
  }

  /**
   * input (N, C, H, W), weight (K, C/groups, KH, KW), bias (K) or null ->
   * (N, K, OH, OW), OH = (H + 2 ph - dh (KH - 1) - 1) / sh + 1.
   */
  public static Tensor conv2d(Tensor input, Tensor weight, Tensor bias, int sh, int sw, int ph, int pw,
      int dh, int dw, int groups) {
    return conv2d(input, weight, bias, sh, sw, ph, pw, dh, dw, groups, false);
  }

  /** Convolution with a fused ReLU (one oneDNN primitive); inference only: no gradient. */
  public static Tensor conv2dRelu(Tensor input, Tensor weight, Tensor bias, int sh, int sw, int ph, int pw,
      int dh, int dw, int groups) {
    if (Autograd.needed(input, weight, bias)) {
      return conv2d(input, weight, bias, sh, sw, ph, pw, dh, dw, groups, false).relu();
    }
    return conv2d(input, weight, bias, sh, sw, ph, pw, dh, dw, groups, true);
  }

  private static Tensor conv2d(Tensor input0, Tensor weight0, Tensor bias0, int sh, int sw, int ph, int pw,
      int dh, int dw, int groups, boolean relu) {
    require4d("conv2d", "input", input0);
    require4d("conv2d", "weight", weight0);
    DType type = DType.promote(input0.dtype, weight0.dtype);
    Tensor x = input0.to(type).contiguous();
    Tensor w = weight0.to(type).contiguous();
    Tensor b = bias0 == null ? null : bias0.to(type).contiguous();
    long[] xs = x.shape;
    long[] ws = w.shape;
    // Shapes against each other (channels, groups, bias) are the plan's checks, natively.
    Conv2dPlan.Geometry g = new Conv2dPlan.Geometry(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], sh, sw,
        ph, pw, dh, dw, groups, b != null, relu, CnnKernels.BACKEND_AUTO, type.code);
    Tensor out;
    try (Conv2dPlan plan = CnnKernels.conv2dPlan(g)) {
      out = Tensor.empty(type, plan.outputShape());
      try {
        plan.forward(operand(x), operand(w), b == null ? null : operand(b),
            output(out, plan.dstLayout(Conv2dPlan.FORWARD)));
      } catch (RuntimeException e) {
        out.close();
        throw e;
      }
    }
    if (!relu && Autograd.needed(x, w, b)) {
      Tensor vx = x.save();
      Tensor vw = w.save();
      boolean needX = x.requiresGrad;
      boolean needW = w.requiresGrad;
      boolean needB = b != null && b.requiresGrad;
      boolean hasBias = b != null;
      // The closure keeps the geometry, not the plan: backward acquires it again.
      Autograd.record(out, OpName.CONV2D, b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b}, grad -> {
        Tensor gy = grad.contiguous();
        Tensor dx = null;
        Tensor dwt = null;
        Tensor dbt = null;
        try (Conv2dPlan plan = CnnKernels.conv2dPlan(g)) {
          if (needX) {
            dx = Tensor.empty(vx.dtype, vx.shape);
            plan.backwardData(operand(gy), operand(vw), output(dx, plan.srcLayout(Conv2dPlan.BACKWARD_DATA)));
          }
          if (needW || needB) {
            dwt = Tensor.empty(vw.dtype, vw.shape);
            dbt = hasBias ? Tensor.empty(vw.dtype, ws[0]) : null;
            plan.backwardWeights(operand(vx), operand(gy), operand(dwt), dbt == null ? null : operand(dbt));
          }
        }
        return hasBias ? new Tensor[] {dx, needW ? dwt : null, needB ? dbt : null}
            : new Tensor[] {dx, needW ? dwt : null};
      }, vx, vw);
    }
    return out;
  }

  /** Max pooling with a square window: kernel k, stride s, padding p (p <= k/2). */
  public static Tensor maxPool2d(Tensor input, int kernel, int stride, int padding) {
    return pool(OpName.MAX_POOL2D, CnnKernels.POOL_MAX, input, kernel, kernel, stride, stride, padding, padding);
  }

  public static Tensor maxPool2d(Tensor input, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool(OpName.MAX_POOL2D, CnnKernels.POOL_MAX, input, kh, kw, sh, sw, ph, pw);
  }

  /** Average pooling; countIncludePad as PyTorch (true: divide by k*k even at the border). */
  public static Tensor avgPool2d(Tensor input, int kernel, int stride, int padding, boolean countIncludePad) {
    return avgPool2d(input, kernel, kernel, stride, stride, padding, padding, countIncludePad);
  }

  public static Tensor avgPool2d(Tensor input, int kh, int kw, int sh, int sw, int ph, int pw,
      boolean countIncludePad) {
    return pool(OpName.AVG_POOL2D, countIncludePad ? CnnKernels.POOL_AVG_INCLUDE_PADDING
        : CnnKernels.POOL_AVG_EXCLUDE_PADDING, input, kh, kw, sh, sw, ph, pw);
  }

  private static Tensor pool(OpName op, int algorithm, Tensor input, int kh, int kw, int sh, int sw,
      int ph, int pw) {
    String name = op == OpName.MAX_POOL2D ? "maxPool2d" : "avgPool2d";
    require4d(name, "input", input);
    Tensor x = input.contiguous();
    long[] xs = x.shape;
    // nChw16c input is pooled as it is (oneDNN's own layout for pooling), and so is the output.
    boolean blocked = x.isBlocked();
    int layout = blocked ? CnnKernels.LAYOUT_NCHW16C : CnnKernels.LAYOUT_NCHW;
    Pool2dPlan.Geometry g = new Pool2dPlan.Geometry(xs[0], xs[1], xs[2], xs[3], kh, kw, sh, sw, ph, pw,
        algorithm, CnnKernels.BACKEND_AUTO, x.dtype.code);
    boolean grad = Autograd.needed(x);
    Tensor out;
    Tensor ws;
    try (Pool2dPlan plan = CnnKernels.pool2dPlan(g)) {
      long[] outShape = plan.outputShape();
      out = Tensor.empty(x.dtype, outShape);
      long wsBytes = grad ? plan.workspaceBytes() : 0;
      ws = wsBytes > 0 ? Tensor.empty(DType.BOOL, wsBytes) : null;
      plan.forward(operand(x), layoutOf(out, layout), ws == null ? null : operand(ws));
    }
    // With one position per image, nChw16c bytes are NCHW bytes.
    long[] outShape = out.shape;
    boolean outBlocked = blocked && outShape[2] * outShape[3] > 1;
    if (outBlocked) {
      out.markBlocked();
    }
    if (grad) {
      Tensor[] saved = ws == null ? new Tensor[0] : new Tensor[] {ws};
      Tensor workspace = ws;
      Autograd.record(out, op, new Tensor[] {x}, gOut -> {
        Tensor gy = gOut.contiguous();
        // Backward runs in the forward's layout (its workspace follows it).
        Tensor gyIn = outBlocked && !gy.isBlocked() ? Ops.blockedCopy(gy) : gy;
        try (Pool2dPlan plan = CnnKernels.pool2dPlan(g)) {
          Tensor dx = Tensor.empty(gy.dtype, xs);
          NativeTensor dy = outBlocked ? operand(gyIn)
              : new NativeTensor(gyIn.address(), gyIn.dtype.code, gyIn.shape, gyIn.strides, layout);
          plan.backward(dy, workspace == null ? null : operand(workspace), layoutOf(dx, layout));
          if (blocked) {
            dx.markBlocked();
          }
          return new Tensor[] {dx};
        } finally {
          if (gyIn != gy) {
            gyIn.close();
          }
        }
      }, saved);
    }
    return out;
  }

  /** `t`'s bytes described in `layout` as they are (an output about to be written, or plain bytes). */
  private static NativeTensor layoutOf(Tensor t, int layout) {
    return new NativeTensor(t.blockedAddress(), t.dtype.code, t.shape, t.strides, layout);
  }

  /** `t`'s bytes as (n, c, s) in `layout`. */
  private static NativeTensor flat(Tensor t, long[] flat, int layout) {
    return new NativeTensor(layout == CnnKernels.LAYOUT_NCHW16C ? t.blockedAddress() : t.address(), t.dtype.code,
        flat, Shapes.contiguousStrides(flat), layout);
  }

  /**
   * Batch normalization of (N, C) or (N, C, H, W) input per channel. Training:
   * batch statistics, and runningMean/runningVar (C) are updated in place with
   * momentum (PyTorch's convention); eval: running statistics.
   */
  public static Tensor batchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor gamma, Tensor beta,
      boolean training, double momentum, double eps) {
    input.ensureOpen("batchNorm");
    if (input.shape.length != 2 && input.shape.length != 4) {
      throw new IllegalArgumentException("batchNorm: input must be (N, C) or (N, C, H, W), got "
          + Shapes.str(input.shape));
    }
    Tensor x = input.contiguous();
    long n = x.shape[0];
    long c = x.shape[1];
    long sp = x.shape.length == 4 ? x.shape[2] * x.shape[3] : 1;
    for (Tensor v : new Tensor[] {runningMean, runningVar, gamma, beta}) {
      v.ensureOpen("batchNorm");
      if (v.shape.length != 1 || v.shape[0] != c) {
        throw new IllegalArgumentException("batchNorm: per-channel tensor " + Shapes.str(v.shape)
            + " must be [" + c + "] for input " + Shapes.str(x.shape));
      }
    }
    // nChw16c input (float32, H*W > 1) stays so: the kernels read and write it as is.
    boolean blocked = x.isBlocked() && sp > 1;
    BatchNormPlan.Geometry g = new BatchNormPlan.Geometry(n, c, sp, eps, momentum, training,
        CnnKernels.BACKEND_AUTO, x.dtype.code);
    int layout = blocked ? CnnKernels.LAYOUT_NCHW16C : CnnKernels.LAYOUT_NCHW;
    long[] flat = {n, c, sp};
    Tensor out = Tensor.empty(x.dtype, x.shape);
    Tensor saveMean = training ? Tensor.empty(x.dtype, c) : null;
    Tensor saveInvstd = training ? Tensor.empty(x.dtype, c) : null;
    try (BatchNormPlan plan = CnnKernels.batchNormPlan(g)) {
      plan.forward(flat(x, flat, layout), operand(gamma), operand(beta), operand(runningMean),
          operand(runningVar), training ? operand(saveMean) : null, training ? operand(saveInvstd) : null,
          new NativeTensor(out.blockedAddress(), out.dtype.code, flat, Shapes.contiguousStrides(flat), layout));
    } catch (RuntimeException e) {
      out.close();
      if (training) {
        saveMean.close();
        saveInvstd.close();
      }
      throw e;
    }
    if (blocked) {
      out.markBlocked();
    }
    if (Autograd.needed(x, gamma, beta)) {
      if (!training) {
        // Eval mode is an affine map per channel: y = x * a + b with constants from the running stats.
        Tensor scale = gamma.mul(runningVar.detach().add(eps).rsqrt());
        Tensor shift = beta.sub(runningMean.detach().mul(scale));
        long[] bshape = x.shape.length == 4 ? new long[] {1, c, 1, 1} : new long[] {1, c};
        out.close();
        return x.mul(scale.reshape(bshape)).add(shift.reshape(bshape));
      }
      Tensor vx = x.save();
      Tensor vGamma = gamma.save();
      long[] xs = x.shape;
      Autograd.record(out, OpName.BATCH_NORM, new Tensor[] {x, gamma, beta}, gOut -> {
        Tensor gy = gOut.contiguous();
        Tensor dx = Tensor.empty(gy.dtype, xs);
        Tensor dGamma = Tensor.empty(gy.dtype, c);
        Tensor dBeta = Tensor.empty(gy.dtype, c);
        // One layout for x, dy and dx: nChw16c only when both inputs are.
        boolean blockedBack = vx.isBlocked() && gy.isBlocked() && sp > 1;
        int backLayout = blockedBack ? CnnKernels.LAYOUT_NCHW16C : CnnKernels.LAYOUT_NCHW;
        if (blockedBack) {
          dx.markBlocked();
        }
        try (BatchNormPlan plan = CnnKernels.batchNormPlan(g)) {
          plan.backward(flat(vx, flat, backLayout), flat(gy, flat, backLayout), operand(vGamma), operand(saveMean),
              operand(saveInvstd), new NativeTensor(dx.blockedAddress(), dx.dtype.code, flat,
                  Shapes.contiguousStrides(flat), backLayout), operand(dGamma), operand(dBeta));
        }
        return new Tensor[] {dx, dGamma, dBeta};
      }, vx, vGamma, saveMean, saveInvstd);
    } else if (training) {
      saveMean.close();
      saveInvstd.close();
    }
    return out;
  }

  /** Bilinear resize of (N, C, H, W) to (N, C, height, width), as interpolate(align_corners=False). */
  public static Tensor resizeBilinear(Tensor input, long height, long width) {
    require4d("resizeBilinear", "input", input);
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException("resizeBilinear: size " + height + "x" + width + " must be positive");
    }
    Tensor x = input.contiguous();
    Tensor out = Tensor.empty(x.dtype, x.shape[0], x.shape[1], height, width);
    Slots s = TensorKernels.slots();
    desc(s, 0, x);
    desc(s, 1, out);
    CnnKernels.resizeBilinear(s, 0, 1);
    return out;
  }

  /**
   * A multi-layer, optionally bidirectional RNN, GRU or LSTM over a whole
   * sequence in one native call (torch.nn.RNN/GRU/LSTM, batch_first=False).
   * input (T, N, I); h0 and c0 (layers * D, N, H) or null for zeros, c0 for
   * LSTM only (D = 2 when bidirectional); weights: for each layer k and
   * direction (forward, then reverse) w_ih (G * H, I_k), w_hh (G * H, H),
   * b_ih (G * H), b_hh (G * H), PyTorch's state_dict order and gate rows, with
   * G = 1, 3 or 4 gates and I_k = D * H above the first layer. All of one
   * float dtype. Gradients flow to input, h0, c0 and every weight.
   *
   * <pre>{@code
   * try (RnnResult r = Functional.rnn(RnnMode.LSTM, x, null, null, weights, 1, false)) {
   *   Tensor logits = r.output().matmul(head);   // r.hn(), r.cn(): final states
   * }
   * }</pre>
   */
  public static RnnResult rnn(RnnMode mode, Tensor input, Tensor h0, Tensor c0, List<Tensor> weights, int layers,
      boolean bidirectional) {
    return RnnOp.apply(mode, input, h0, c0, weights, layers, bidirectional);
  }
}
