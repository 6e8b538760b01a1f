package dev.fathom.onnx;

import dev.fathom.onnx.proto.Onnx.AttributeProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The ONNX operators, each over Fathom tensor ops (so autograd sees them). */
final class Ops {
  private Ops() {}

  static Tensor[] run(NodeProto n, int opset, Tensor[] in) {
    switch (n.getOpType()) {
      case "LSTM":
        return Recurrent.run(n, RnnMode.LSTM, in);
      case "GRU":
        return Recurrent.run(n, i(n, "linear_before_reset", 0) != 0 ? RnnMode.GRU_PYTORCH : RnnMode.GRU, in);
      case "RNN":
        return Recurrent.run(n, rnnActivation(n), in);
      default:
        break;
    }
    Tensor y = switch (n.getOpType()) {
      case "Conv" -> conv(n, in, false);
      case InferenceGraph.FUSED_CONV -> conv(n, in, true);
      case "BatchNormalization" -> batchNorm(n, in);
      case "Relu" -> req(in, 0).relu();
      case "LeakyRelu" -> req(in, 0).leakyRelu(f(n, "alpha", 0.01f));
      case "PRelu" -> prelu(in);
      case "Sigmoid" -> req(in, 0).sigmoid();
      case "Tanh" -> req(in, 0).tanh();
      case "Softmax" -> softmax(n, opset, in, false);
      case "LogSoftmax" -> softmax(n, opset, in, true);
      case "MaxPool" -> pool(n, in, true);
      case "AveragePool" -> pool(n, in, false);
      case "GlobalAveragePool" -> globalAvgPool(in);
      case "Gemm" -> gemm(n, in);
      case "MatMul" -> req(in, 0).matmul(req(in, 1));
      case "Add" -> req(in, 0).add(req(in, 1));
      case "Sub" -> req(in, 0).sub(req(in, 1));
      case "Mul" -> req(in, 0).mul(req(in, 1));
      case "Div" -> req(in, 0).div(req(in, 1));
      case "Concat" -> concat(n, in);
      case "Flatten" -> flatten(n, in);
      case "Reshape" -> reshape(n, in);
      case "Transpose" -> transpose(n, in);
      case "Squeeze" -> squeeze(n, opset, in);
      case "Unsqueeze" -> unsqueeze(n, opset, in);
      case "Dropout" -> dropout(n, in);
      case "Identity" -> req(in, 0);
      case "Clip" -> clip(in);
      case "Pad" -> pad(n, in);
      case "Shape" -> shape(n, in);
      case "Gather" -> gather(n, in);
      case "Expand" -> expand(in);
      case "Cast" -> cast(n, in);
      case "ConstantOfShape" -> constantOfShape(n, in);
      case "OneHot" -> oneHot(n, in);
      default -> throw new IllegalArgumentException("unsupported op " + n.getOpType());
    };
    return new Tensor[] {y};
  }

  // ------------------------------------------------------------------ attributes and inputs

  static Tensor req(Tensor[] in, int i) {
    if (i >= in.length || in[i] == null) {
      throw new IllegalArgumentException("input " + i + " is missing");
    }
    return in[i];
  }

  static Tensor opt(Tensor[] in, int i) {
    return i < in.length ? in[i] : null;
  }

  static AttributeProto attr(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a;
      }
    }
    return null;
  }

  static float f(NodeProto n, String name, float dflt) {
    AttributeProto a = attr(n, name);
    return a == null ? dflt : a.getF();
  }

  static long i(NodeProto n, String name, long dflt) {
    AttributeProto a = attr(n, name);
    return a == null ? dflt : a.getI();
  }

  static String s(NodeProto n, String name, String dflt) {
    AttributeProto a = attr(n, name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  static long[] ints(NodeProto n, String name, long[] dflt) {
    AttributeProto a = attr(n, name);
    if (a == null) {
      return dflt;
    }
    long[] v = new long[a.getIntsCount()];
    for (int k = 0; k < v.length; k++) {
      v[k] = a.getInts(k);
    }
    return v;
  }

  static int toInt(long v, String what) {
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(what + " " + v + " is out of range");
    }
    return (int) v;
  }

  static int axis(long axis, int rank, String what) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException(what + " " + axis + " is out of range for rank " + rank);
    }
    return (int) a;
  }

  /** The values of a (small) int64 tensor input, e.g. a shape. */
  static long[] longs(Tensor t, String what) {
    if (t.dtype() != DType.INT64 && t.dtype() != DType.INT32) {
      throw new IllegalArgumentException(what + " must be int64, got " + t.dtype());
    }
    if (t.dim() > 1) {
      throw new IllegalArgumentException(what + " must be 1-D, got " + Arrays.toString(t.shape()));
    }
    return t.toLongArray();
  }

  static double scalar(Tensor t, String what) {
    if (t.numel() != 1) {
      throw new IllegalArgumentException(what + " must be a scalar, got " + Arrays.toString(t.shape()));
    }
    return t.item();
  }

  // ------------------------------------------------------------------ ops

  static Tensor constant(NodeProto n, Path dir) {
    if (n.getAttributeCount() != 1) {
      throw new IllegalArgumentException("onnx: Constant node " + OnnxModel.describe(n)
          + " needs exactly one attribute, has " + n.getAttributeCount());
    }
    AttributeProto a = n.getAttribute(0);
    try {
      return switch (a.getName()) {
        case "value" -> Tensors.decode(a.getT(), dir);
        case "value_float" -> Tensor.fromArray(new float[] {a.getF()});
        case "value_floats" -> {
          float[] v = new float[a.getFloatsCount()];
          for (int k = 0; k < v.length; k++) {
            v[k] = a.getFloats(k);
          }
          yield Tensor.fromArray(v, v.length);
        }
        case "value_int" -> Tensor.fromArray(new long[] {a.getI()});
        case "value_ints" -> {
          long[] v = ints(n, "value_ints", new long[0]);
          yield Tensor.fromArray(v, v.length);
        }
        default -> throw new IllegalArgumentException("Constant attribute '" + a.getName() + "' is not supported");
      };
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("onnx: node " + OnnxModel.describe(n) + ": " + e.getMessage(), e);
    }
  }

  /** (top, left, bottom, right) to symmetric (ph, pw), or a clear refusal. */
  static int[] symmetricPads(NodeProto n, long[] pads) {
    checkPads(n, pads);
    if (pads[0] != pads[2] || pads[1] != pads[3]) {
      throw new IllegalArgumentException("asymmetric pads " + Arrays.toString(pads) + " are not supported");
    }
    return new int[] {toInt(pads[0], "pad"), toInt(pads[1], "pad")};
  }

  static void checkPads(NodeProto n, long[] pads) {
    String autoPad = s(n, "auto_pad", "NOTSET");
    if (!autoPad.equals("NOTSET") && !autoPad.equals("VALID")) {
      throw new IllegalArgumentException("auto_pad " + autoPad + " is not supported (use explicit pads)");
    }
    if (pads.length != 4) {
      throw new IllegalArgumentException("pads must have 4 values for 2-D, got " + Arrays.toString(pads));
    }
    for (long p : pads) {
      if (p < 0 || p > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("pads " + Arrays.toString(pads) + " must be non-negative ints");
      }
    }
  }

  static long[] pair(NodeProto n, String name, long dflt) {
    long[] v = ints(n, name, new long[] {dflt, dflt});
    if (v.length != 2) {
      throw new IllegalArgumentException(name + " must have 2 values for 2-D, got " + Arrays.toString(v));
    }
    return v;
  }

  /** Conv, with relu: InferenceGraph's FusedConv (relu(conv) as one primitive when no grad is recorded). */
  static Tensor conv(NodeProto n, Tensor[] in, boolean relu) {
    Tensor x = req(in, 0);
    Tensor w = req(in, 1);
    Tensor b = opt(in, 2);
    if (x.dim() != 4 || w.dim() != 4) {
      throw new IllegalArgumentException("only 2-D convolution ((N, C, H, W) input, 4-D weight) is supported");
    }
    long[] kernel = ints(n, "kernel_shape", null);
    if (kernel != null && (kernel.length != 2 || kernel[0] != w.size(2) || kernel[1] != w.size(3))) {
      throw new IllegalArgumentException("kernel_shape " + Arrays.toString(kernel) + " does not match the weight");
    }
    long[] pads = ints(n, "pads", new long[4]);
    checkPads(n, pads);
    if (pads[0] != pads[2] || pads[1] != pads[3]) {
      // Asymmetric (e.g. SAME-style) padding: zero-pad explicitly, then convolve unpadded.
      x = padConstant(x, new long[] {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]}, 0);
      pads = new long[4];
    }
    int[] p = symmetricPads(n, pads);
    long[] st = pair(n, "strides", 1);
    long[] dl = pair(n, "dilations", 1);
    int groups = toInt(i(n, "group", 1), "group");
    if (relu) {
      return Functional.conv2dRelu(x, w, b, toInt(st[0], "stride"), toInt(st[1], "stride"), p[0], p[1],
          toInt(dl[0], "dilation"), toInt(dl[1], "dilation"), groups);
    }
    return Functional.conv2d(x, w, b, toInt(st[0], "stride"), toInt(st[1], "stride"), p[0], p[1],
        toInt(dl[0], "dilation"), toInt(dl[1], "dilation"), groups);
  }

  static Tensor batchNorm(NodeProto n, Tensor[] in) {
    if (i(n, "training_mode", 0) != 0) {
      throw new IllegalArgumentException("training_mode=1 is not supported (inference only)");
    }
    if (n.getOutputCount() > 1) {
      for (int k = 1; k < n.getOutputCount(); k++) {
        if (!n.getOutput(k).isEmpty()) {
          throw new IllegalArgumentException("the running-statistics outputs are not supported (inference only)");
        }
      }
    }
    return Functional.batchNorm(req(in, 0), req(in, 3), req(in, 4), req(in, 1), req(in, 2), false, 0.1,
        f(n, "epsilon", 1e-5f));
  }

  /** x where x >= 0, slope * x elsewhere; the slope broadcasts to x from the right (unidirectionally). */
  static Tensor prelu(Tensor[] in) {
    Tensor x = req(in, 0);
    Tensor slope = req(in, 1);
    long[] xs = x.shape();
    long[] ss = slope.shape();
    boolean fits = ss.length <= xs.length;
    for (int k = 1; fits && k <= ss.length; k++) {
      long s = ss[ss.length - k];
      fits = s == 1 || s == xs[xs.length - k];
    }
    if (!fits) {
      throw new IllegalArgumentException("PRelu: slope " + Arrays.toString(ss) + " does not broadcast to input "
          + Arrays.toString(xs) + " (e.g. [C, 1, 1] for (N, C, H, W), or [1])");
    }
    // relu(x) - slope * relu(-x): differentiable in both x and the slope, like nn.PReLU.
    return x.relu().sub(slope.mul(x.neg().relu()));
  }

  static Tensor softmax(NodeProto n, int opset, Tensor[] in, boolean log) {
    Tensor x = req(in, 0);
    if (opset >= 13) {
      int a = axis(i(n, "axis", -1), x.dim(), "axis");
      return log ? x.logSoftmax(a) : x.softmax(a);
    }
    // Before opset 13: the input is coerced to 2-D at `axis` (default 1).
    int a = x.dim() == 0 ? 0 : axis(i(n, "axis", 1), x.dim(), "axis");
    long[] shape = x.shape();
    long outer = 1;
    for (int k = 0; k < a; k++) {
      outer *= shape[k];
    }
    Tensor x2 = x.reshape(outer, -1);
    Tensor y = log ? x2.logSoftmax(1) : x2.softmax(1);
    return y.reshape(shape);
  }

  static Tensor pool(NodeProto n, Tensor[] in, boolean max) {
    Tensor x = req(in, 0);
    if (x.dim() != 4) {
      throw new IllegalArgumentException("only 2-D pooling of (N, C, H, W) input is supported");
    }
    if (i(n, "ceil_mode", 0) != 0) {
      throw new IllegalArgumentException("ceil_mode=1 is not supported");
    }
    for (long d : ints(n, "dilations", new long[] {1, 1})) {
      if (d != 1) {
        throw new IllegalArgumentException("pooling dilations other than 1 are not supported");
      }
    }
    if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) {
      throw new IllegalArgumentException("the Indices output of MaxPool is not supported");
    }
    long[] k = ints(n, "kernel_shape", null);
    if (k == null || k.length != 2) {
      throw new IllegalArgumentException("kernel_shape must have 2 values, got " + Arrays.toString(k));
    }
    int[] p = symmetricPads(n, ints(n, "pads", new long[4]));
    long[] st = pair(n, "strides", 1);
    int kh = toInt(k[0], "kernel");
    int kw = toInt(k[1], "kernel");
    int sh = toInt(st[0], "stride");
    int sw = toInt(st[1], "stride");
    if (max) {
      return Functional.maxPool2d(x, kh, kw, sh, sw, p[0], p[1]);
    }
    return Functional.avgPool2d(x, kh, kw, sh, sw, p[0], p[1], i(n, "count_include_pad", 0) != 0);
  }

  static Tensor globalAvgPool(Tensor[] in) {
    Tensor x = req(in, 0);
    if (x.dim() < 3) {
      throw new IllegalArgumentException("GlobalAveragePool needs (N, C, spatial...) input");
    }
    int[] dims = new int[x.dim() - 2];
    for (int k = 0; k < dims.length; k++) {
      dims[k] = k + 2;
    }
    return x.mean(dims, true);
  }

  static Tensor gemm(NodeProto n, Tensor[] in) {
    Tensor a = req(in, 0);
    Tensor b = req(in, 1);
    Tensor c = opt(in, 2);
    if (a.dim() != 2 || b.dim() != 2) {
      throw new IllegalArgumentException("Gemm needs 2-D A and B");
    }
    if (i(n, "transA", 0) != 0) {
      a = a.t();
    }
    if (i(n, "transB", 0) != 0) {
      b = b.t();
    }
    float alpha = f(n, "alpha", 1f);
    float beta = f(n, "beta", 1f);
    Tensor y = a.matmul(b);
    if (alpha != 1f) {
      y = y.mul(alpha);
    }
    if (c != null && beta != 0f) {
      y = y.add(beta == 1f ? c : c.mul(beta));
    }
    return y;
  }

  static Tensor concat(NodeProto n, Tensor[] in) {
    List<Tensor> xs = new ArrayList<>();
    for (Tensor t : in) {
      if (t != null) {
        xs.add(t);
      }
    }
    if (xs.isEmpty()) {
      throw new IllegalArgumentException("Concat needs inputs");
    }
    AttributeProto a = attr(n, "axis");
    if (a == null) {
      throw new IllegalArgumentException("Concat needs an axis");
    }
    return Tensor.cat(xs, axis(a.getI(), xs.get(0).dim(), "axis"));
  }

  static Tensor flatten(NodeProto n, Tensor[] in) {
    Tensor x = req(in, 0);
    long a = i(n, "axis", 1);
    int ax = a == x.dim() ? x.dim() : axis(a, Math.max(x.dim(), 1), "axis");
    long outer = 1;
    for (int k = 0; k < ax; k++) {
      outer *= x.size(k);
    }
    long inner = 1;
    for (int k = ax; k < x.dim(); k++) {
      inner *= x.size(k);
    }
    return x.reshape(outer, inner);
  }

  static Tensor reshape(NodeProto n, Tensor[] in) {
    Tensor x = req(in, 0);
    long[] shape = longs(req(in, 1), "the shape input").clone();
    boolean allowZero = i(n, "allowzero", 0) != 0;
    for (int k = 0; k < shape.length; k++) {
      if (shape[k] == 0 && !allowZero) {
        if (k >= x.dim()) {
          throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " copies dimension " + k
              + ", which the input does not have");
        }
        shape[k] = x.size(k);
      } else if (shape[k] < -1) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative size");
      }
    }
    return x.reshape(shape);
  }

  static Tensor transpose(NodeProto n, Tensor[] in) {
    Tensor x = req(in, 0);
    long[] perm = ints(n, "perm", null);
    int[] p = new int[x.dim()];
    if (perm == null) {
      for (int k = 0; k < p.length; k++) {
        p[k] = p.length - 1 - k;
      }
    } else {
      if (perm.length != x.dim()) {
        throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " does not match rank " + x.dim());
      }
      for (int k = 0; k < p.length; k++) {
        p[k] = axis(perm[k], x.dim(), "perm entry");
      }
    }
    return x.permute(p);
  }

  /** Axes from the attribute (before opset 13) or the second input (13 and later); null when absent. */
  static long[] axesOf(NodeProto n, int opset, Tensor[] in) {
    if (opset >= 13) {
      Tensor a = opt(in, 1);
      return a == null ? null : longs(a, "the axes input");
    }
    return ints(n, "axes", null);
  }

  static Tensor squeeze(NodeProto n, int opset, Tensor[] in) {
    Tensor x = req(in, 0);
    long[] axes = axesOf(n, opset, in);
    if (axes == null) {
      return x.squeeze();
    }
    int[] ax = new int[axes.length];
    for (int k = 0; k < ax.length; k++) {
      ax[k] = axis(axes[k], x.dim(), "axis");
      if (x.size(ax[k]) != 1) {
        throw new IllegalArgumentException("cannot squeeze axis " + ax[k] + " of size " + x.size(ax[k]));
      }
    }
    Arrays.sort(ax);
    Tensor y = x;
    for (int k = ax.length - 1; k >= 0; k--) {
      y = y.squeeze(ax[k]);
    }
    return y;
  }

  static Tensor unsqueeze(NodeProto n, int opset, Tensor[] in) {
    Tensor x = req(in, 0);
    long[] axes = axesOf(n, opset, in);
    if (axes == null) {
      throw new IllegalArgumentException("Unsqueeze needs axes");
    }
    int rank = x.dim() + axes.length;
    int[] ax = new int[axes.length];
    for (int k = 0; k < ax.length; k++) {
      ax[k] = axis(axes[k], rank, "axis");
    }
    Arrays.sort(ax);
    Tensor y = x;
    for (int a : ax) {
      y = y.unsqueeze(a);
    }
    return y;
  }

  static Tensor dropout(NodeProto n, Tensor[] in) {
    if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) {
      throw new IllegalArgumentException("the mask output of Dropout is not supported (inference only)");
    }
    return req(in, 0);
  }

  static Tensor clip(Tensor[] in) {
    Tensor x = req(in, 0);
    Tensor lo = opt(in, 1);
    Tensor hi = opt(in, 2);
    double min = lo == null ? Double.NEGATIVE_INFINITY : scalar(lo, "min");
    double max = hi == null ? Double.POSITIVE_INFINITY : scalar(hi, "max");
    return x.clamp(min, max);
  }

  static Tensor pad(NodeProto n, Tensor[] in) {
    String mode = s(n, "mode", "constant");
    if (!mode.equals("constant")) {
      throw new IllegalArgumentException("Pad mode '" + mode + "' is not supported (only constant)");
    }
    Tensor x = req(in, 0);
    if (opt(in, 3) != null) {
      throw new IllegalArgumentException("the axes input of Pad is not supported");
    }
    long[] pads = longs(req(in, 1), "the pads input");
    double value = opt(in, 2) == null ? 0 : scalar(in[2], "constant_value");
    return padConstant(x, pads, value);
  }

  /** Pads with a constant; pads as ONNX: all the befores, then all the afters. */
  static Tensor padConstant(Tensor x, long[] pads, double value) {
    int r = x.dim();
    if (pads.length != 2 * r) {
      throw new IllegalArgumentException("pads " + Arrays.toString(pads) + " must have 2 x rank = " + 2 * r
          + " values");
    }
    Tensor y = x;
    for (int d = 0; d < r; d++) {
      long before = pads[d];
      long after = pads[d + r];
      if (before < 0 || after < 0) {
        throw new IllegalArgumentException("negative pads " + Arrays.toString(pads) + " are not supported");
      }
      if (before == 0 && after == 0) {
        continue;
      }
      if (before > OnnxModel.MAX_COMPUTED_ELEMENTS || after > OnnxModel.MAX_COMPUTED_ELEMENTS) {
        throw new IllegalArgumentException("pads " + Arrays.toString(pads) + " are too large");
      }
      long[] total = y.shape();
      total[d] += before + after;
      checkSize(total);
      List<Tensor> parts = new ArrayList<>();
      long[] s = y.shape();
      if (before > 0) {
        s[d] = before;
        checkSize(s);
        parts.add(Tensor.full(value, y.dtype(), s.clone()));
      }
      parts.add(y);
      if (after > 0) {
        s[d] = after;
        checkSize(s);
        parts.add(Tensor.full(value, y.dtype(), s.clone()));
      }
      y = Tensor.cat(parts, d);
    }
    return y;
  }

  static RnnMode rnnActivation(NodeProto n) {
    AttributeProto a = attr(n, "activations");
    if (a == null || a.getStringsCount() == 0) {
      return RnnMode.RNN_TANH;
    }
    String act = a.getStrings(0).toStringUtf8();
    for (int k = 1; k < a.getStringsCount(); k++) {
      if (!a.getStrings(k).toStringUtf8().equals(act)) {
        throw new IllegalArgumentException("RNN activations differing per direction are not supported");
      }
    }
    return switch (act) {
      case "Tanh" -> RnnMode.RNN_TANH;
      case "Relu" -> RnnMode.RNN_RELU;
      default -> throw new IllegalArgumentException("RNN activation " + act + " is not supported (Tanh or Relu)");
    };
  }

  static Tensor shape(NodeProto n, Tensor[] in) {
    long[] shape = req(in, 0).shape();
    int r = shape.length;
    long start = i(n, "start", 0);
    long end = i(n, "end", r);
    start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
    end = Math.max(start, Math.min(r, end < 0 ? end + r : end));
    long[] v = Arrays.copyOfRange(shape, (int) start, (int) end);
    return Tensor.fromArray(v, v.length);
  }

  /**
   * x (d0, ..., da, ..., dr) and indices of any shape I -> (d0, ..., I..., ..., dr): a scalar index
   * selects (drops axis a), a 1-D one picks rows, higher ranks look up a table (nn.Embedding exports
   * Gather(weight, tokens (N, T)) -> (N, T, E)). Negative indices count from the end.
   */
  static Tensor gather(NodeProto n, Tensor[] in) {
    Tensor x = req(in, 0);
    Tensor idx = req(in, 1);
    int a = axis(i(n, "axis", 0), x.dim(), "axis");
    if (idx.dtype() != DType.INT64 && idx.dtype() != DType.INT32) {
      throw new IllegalArgumentException("Gather indices must be int64 or int32, got " + idx.dtype());
    }
    long size = x.size(a);
    long[] v = idx.toLongArray();
    for (int k = 0; k < v.length; k++) {
      if (v[k] < -size || v[k] >= size) {
        throw new IllegalArgumentException("index " + v[k] + " is out of range for axis " + a + " of size " + size);
      }
      v[k] = v[k] < 0 ? v[k] + size : v[k];
    }
    if (idx.dim() == 0) {
      return x.select(a, v[0]);
    }
    long[] xs = x.shape();
    long[] is = idx.shape();
    long[] out = new long[xs.length - 1 + is.length];
    System.arraycopy(xs, 0, out, 0, a);
    System.arraycopy(is, 0, out, a, is.length);
    System.arraycopy(xs, a + 1, out, a + is.length, xs.length - a - 1);
    checkSize(out);
    Tensor picked = x.indexSelect(a, Tensor.fromArray(v, v.length));
    return idx.dim() == 1 ? picked : picked.reshape(out);
  }

  /** ONNX TensorProto data types that Fathom has a dtype for. */
  static DType dtypeOf(long onnxType, String what) {
    if (onnxType == TensorProto.DataType.FLOAT_VALUE) {
      return DType.FLOAT32;
    } else if (onnxType == TensorProto.DataType.DOUBLE_VALUE) {
      return DType.FLOAT64;
    } else if (onnxType == TensorProto.DataType.INT64_VALUE) {
      return DType.INT64;
    } else if (onnxType == TensorProto.DataType.INT32_VALUE) {
      return DType.INT32;
    } else if (onnxType == TensorProto.DataType.BOOL_VALUE) {
      return DType.BOOL;
    }
    throw new IllegalArgumentException(what + " " + Tensors.typeName((int) onnxType)
        + " is not supported (FLOAT, DOUBLE, INT64, INT32, BOOL)");
  }

  static Tensor cast(NodeProto n, Tensor[] in) {
    AttributeProto to = attr(n, "to");
    if (to == null) {
      throw new IllegalArgumentException("Cast needs a 'to' attribute");
    }
    return req(in, 0).to(dtypeOf(to.getI(), "Cast to"));
  }

  /** shape (1-D int64) -> a tensor of that shape filled with `value` (one element; default float 0). */
  static Tensor constantOfShape(NodeProto n, Tensor[] in) {
    long[] shape = longs(req(in, 0), "the shape input");
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
      }
    }
    checkSize(shape);
    AttributeProto a = attr(n, "value");
    if (a == null) {
      return Tensor.zeros(DType.FLOAT32, shape);
    }
    TensorProto t = a.getT();
    long numel = 1;
    for (long d : t.getDimsList()) {
      numel *= d;
    }
    if (numel != 1) {
      throw new IllegalArgumentException("ConstantOfShape value must have one element, has shape " + t.getDimsList());
    }
    try (Tensor v = Tensors.decode(t, null)) {
      return Tensor.full(v.item(), v.dtype(), shape);
    }
  }

  /**
   * indices I, depth d, values [off, on] -> I with a new axis of size d (at `axis`, default last):
   * on where the position equals the index, off elsewhere. Negative indices count from the end
   * (-d to -1); an index outside [-d, d) gives a row of off values, as the ONNX definition says.
   */
  static Tensor oneHot(NodeProto n, Tensor[] in) {
    Tensor idx = req(in, 0);
    Tensor values = req(in, 2);
    double d = scalar(req(in, 1), "depth");
    if (!(d >= 1) || d > OnnxModel.MAX_COMPUTED_ELEMENTS) {
      throw new IllegalArgumentException("OneHot depth " + d + " must be in [1, " + OnnxModel.MAX_COMPUTED_ELEMENTS
          + "]");
    }
    long depth = (long) d;
    if (values.numel() != 2) {
      throw new IllegalArgumentException("OneHot values must be [off, on], got shape "
          + Arrays.toString(values.shape()));
    }
    if (idx.dtype() == DType.BOOL) {
      throw new IllegalArgumentException("OneHot indices must be numeric, got " + idx.dtype());
    }
    int rank = idx.dim() + 1;
    int ax = axis(i(n, "axis", -1), rank, "axis");
    long[] shape = Arrays.copyOf(idx.shape(), rank);
    shape[rank - 1] = depth;
    checkSize(shape);
    // Built with the new axis last, then moved to `ax`.
    long[] ix = idx.to(DType.INT64).toLongArray();
    int cells = Math.toIntExact(ix.length * depth);
    int[] hot = new int[ix.length];
    for (int k = 0; k < ix.length; k++) {
      long j = ix[k] < 0 ? ix[k] + depth : ix[k];
      hot[k] = j >= 0 && j < depth ? (int) (k * depth + j) : -1;
    }
    Tensor y;
    switch (values.dtype()) {
      case FLOAT32 -> {
        float[] v = values.toFloatArray();
        float[] o = new float[cells];
        Arrays.fill(o, v[0]);
        for (int h : hot) {
          if (h >= 0) {
            o[h] = v[1];
          }
        }
        y = Tensor.fromArray(o, shape);
      }
      case INT64 -> {
        long[] v = values.toLongArray();
        long[] o = new long[cells];
        Arrays.fill(o, v[0]);
        for (int h : hot) {
          if (h >= 0) {
            o[h] = v[1];
          }
        }
        y = Tensor.fromArray(o, shape);
      }
      default -> throw new IllegalArgumentException("OneHot values of type " + values.dtype()
          + " are not supported (float32 or int64)");
    }
    if (ax == rank - 1) {
      return y;
    }
    int[] perm = new int[rank];
    for (int k = 0, src = 0; k < rank; k++) {
      perm[k] = k == ax ? rank - 1 : src++;
    }
    return y.permute(perm);
  }

  static Tensor expand(Tensor[] in) {
    Tensor x = req(in, 0);
    long[] target = longs(req(in, 1), "the shape input");
    int r = Math.max(x.dim(), target.length);
    long[] out = new long[r];
    long[] xs = new long[r];
    Arrays.fill(xs, 1);
    System.arraycopy(x.shape(), 0, xs, r - x.dim(), x.dim());
    for (int k = 0; k < r; k++) {
      long t = k - (r - target.length) >= 0 ? target[k - (r - target.length)] : 1;
      if (t < 0) {
        throw new IllegalArgumentException("negative size in shape " + Arrays.toString(target));
      }
      if (xs[k] != t && xs[k] != 1 && t != 1) {
        throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(x.shape()) + " to "
            + Arrays.toString(target));
      }
      out[k] = xs[k] == 1 ? t : xs[k];
    }
    checkSize(out);
    return x.reshape(xs).expand(out);
  }

  static void checkSize(long[] shape) {
    long numel = 1;
    for (long d : shape) {
      if (d != 0 && numel > OnnxModel.MAX_COMPUTED_ELEMENTS / d) {
        throw new IllegalArgumentException("result shape " + Arrays.toString(shape) + " is too large (more than "
            + OnnxModel.MAX_COMPUTED_ELEMENTS + " elements)");
      }
      numel *= d;
    }
  }

  static boolean isFloat(TensorProto t) {
    return t.getDataType() == TensorProto.DataType.FLOAT_VALUE;
  }
}
