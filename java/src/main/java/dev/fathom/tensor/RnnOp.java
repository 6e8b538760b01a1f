package dev.fathom.tensor;

import dev.fathom.internal.nativ.RnnKernels;
import dev.fathom.internal.nativ.NativeTensor;
import dev.fathom.internal.nativ.RnnPlan;
import java.util.List;

/**
 * The whole-sequence recurrent op behind {@link Functional#rnn}: checks, the
 * native forward and, next to it, its backward through time. float32 runs on
 * oneDNN, float64 on the reference kernel (gradient checks).
 *
 * <p>The three outputs live in one native buffer, packed = [output | hn | cn],
 * which the op records as its single graph node; output, hn and cn are views
 * of it (narrow + view), so gradients reaching any of them flow into one
 * backward call. The workspace that backward needs is a tensor owned by the
 * node and freed right after backward (or with the graph).
 */
final class RnnOp {
  private RnnOp() {}

  private static int code(RnnMode mode) {
    switch (mode) {
      case RNN_TANH:
        return RnnKernels.MODE_TANH;
      case RNN_RELU:
        return RnnKernels.MODE_RELU;
      case GRU:
        return RnnKernels.MODE_GRU;
      case GRU_PYTORCH:
        return RnnKernels.MODE_GRU_PYTORCH;
      default:
        return RnnKernels.MODE_LSTM;
    }
  }

  private static int gates(RnnMode mode) {
    switch (mode) {
      case LSTM:
        return 4;
      case GRU:
      case GRU_PYTORCH:
        return 3;
      default:
        return 1;
    }
  }

  /** PyTorch's state_dict name of weight w, e.g. "bias_hh_l1_reverse". */
  static String weightName(int w, int directions) {
    String[] kinds = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    int layer = w / (4 * directions);
    boolean reverse = (w / 4) % directions == 1;
    return kinds[w % 4] + "_l" + layer + (reverse ? "_reverse" : "");
  }

  /** Sizes of one call, derived from input and weights and checked against every operand. */
  private record Sizes(String op, long t, long n, long i, long h, int layers, int directions, int gates) {
    long[] weightShape(int w) {
      int layer = w / (4 * directions);
      long rows = gates * h;
      switch (w % 4) {
        case 0:
          return new long[] {rows, layer == 0 ? i : directions * h};
        case 1:
          return new long[] {rows, h};
        default:
          return new long[] {rows};
      }
    }

    long[] stateShape() {
      return new long[] {(long) layers * directions, n, h};
    }

    String context() {
      return " (input " + Shapes.str(new long[] {t, n, i}) + ", hidden_size " + h + ", layers " + layers
          + (directions == 2 ? ", bidirectional)" : ")");
    }
  }

  private static Sizes check(RnnMode mode, Tensor input, Tensor h0, Tensor c0, List<Tensor> weights, int layers,
      boolean bidirectional) {
    if (mode == null) {
      throw new IllegalArgumentException("rnn: mode is null");
    }
    String op = "rnn(" + mode + ")";
    if (input == null) {
      throw new IllegalArgumentException(op + ": input is null");
    }
    input.ensureOpen(op);
    long[] xs = input.shape;
    if (xs.length != 3) {
      throw new IllegalArgumentException(op + ": input must be (T, N, input_size), got " + Shapes.str(xs));
    }
    if (xs[0] < 1 || xs[1] < 1 || xs[2] < 1) {
      throw new IllegalArgumentException(op + ": input " + Shapes.str(xs)
          + " needs at least one step, one sequence and one feature");
    }
    if (!input.dtype.isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": input must be float32 or float64, got " + input.dtype);
    }
    if (layers < 1) {
      throw new IllegalArgumentException(op + ": layers must be >= 1, got " + layers);
    }
    int directions = bidirectional ? 2 : 1;
    int count = 4 * layers * directions;
    if (weights == null || weights.size() != count) {
      throw new IllegalArgumentException(op + ": expected " + count + " weights (w_ih, w_hh, b_ih, b_hh per layer"
          + (bidirectional ? " and direction" : "") + "), got " + (weights == null ? "null" : weights.size()));
    }
    Tensor whh = weights.get(1);
    if (whh == null || whh.shape.length != 2 || whh.shape[1] < 1) {
      throw new IllegalArgumentException(op + ": weight 1 (weight_hh_l0) must be (gates * hidden_size, "
          + "hidden_size), got " + (whh == null ? "null" : Shapes.str(whh.shape)));
    }
    Sizes s = new Sizes(op, xs[0], xs[1], xs[2], whh.shape[1], layers, directions, gates(mode));
    for (int w = 0; w < count; w++) {
      Tensor t = weights.get(w);
      String what = "weight " + w + " (" + weightName(w, directions) + ")";
      if (t == null) {
        throw new IllegalArgumentException(op + ": " + what + " is null");
      }
      t.ensureOpen(op);
      requireShape(s, what, t, s.weightShape(w));
      requireDtype(s, what, t, input);
    }
    if (h0 != null) {
      h0.ensureOpen(op);
      requireShape(s, "h0", h0, s.stateShape());
      requireDtype(s, "h0", h0, input);
    }
    if (c0 != null) {
      if (mode != RnnMode.LSTM) {
        throw new IllegalArgumentException(op + ": c0 is given but only LSTM has a cell state" + s.context());
      }
      c0.ensureOpen(op);
      requireShape(s, "c0", c0, s.stateShape());
      requireDtype(s, "c0", c0, input);
    }
    return s;
  }

  private static void requireShape(Sizes s, String what, Tensor t, long[] expected) {
    if (!Shapes.same(t.shape, expected)) {
      throw new IllegalArgumentException(s.op() + ": " + what + " has shape " + Shapes.str(t.shape) + " but "
          + Shapes.str(expected) + " is expected" + s.context());
    }
  }

  private static void requireDtype(Sizes s, String what, Tensor t, Tensor input) {
    if (t.dtype != input.dtype) {
      throw new IllegalArgumentException(s.op() + ": " + what + " is " + t.dtype + " but input is " + input.dtype
          + s.context());
    }
  }

  private static NativeTensor operand(Tensor t) {
    return new NativeTensor(t.address(), t.dtype.code, t.shape, t.strides, 0);
  }

  /** Elements [offset, offset + numel(shape)) of the contiguous 1-D tensor `packed`. */
  private static NativeTensor part(Tensor packed, long offset, long[] shape) {
    return new NativeTensor(packed.address() + offset * packed.dtype.bytes, packed.dtype.code, shape,
        Shapes.contiguousStrides(shape), 0);
  }

  /** A contiguous view of packed[offset, offset + numel(shape)) with that shape (graph-recorded). */
  private static Tensor view(Tensor packed, long offset, long[] shape) {
    try (Tensor flat = packed.narrow(0, offset, Shapes.numel(shape))) {
      return flat.view(shape);
    }
  }

  static RnnResult apply(RnnMode mode, Tensor input, Tensor h0In, Tensor c0In, List<Tensor> weightsIn,
      int layers, boolean bidirectional) {
    Sizes sz = check(mode, input, h0In, c0In, weightsIn, layers, bidirectional);
    int count = weightsIn.size();
    boolean lstm = mode == RnnMode.LSTM;
    // inputs: x, h0, c0, then the weights; null entries for absent states.
    Tensor[] inputs = new Tensor[3 + count];
    inputs[0] = input.contiguous();
    inputs[1] = h0In == null ? null : h0In.contiguous();
    inputs[2] = c0In == null ? null : c0In.contiguous();
    for (int w = 0; w < count; w++) {
      inputs[3 + w] = weightsIn.get(w).contiguous();
    }
    Tensor x = inputs[0];
    Tensor h0 = inputs[1];
    Tensor c0 = inputs[2];
    DType type = x.dtype;
    long dh = sz.directions() * sz.h();
    long[] outShape = {sz.t(), sz.n(), dh};
    long[] stateShape = sz.stateShape();
    long outNumel = Shapes.numel(outShape);
    long stateNumel = Shapes.numel(stateShape);
    RnnPlan.Geometry g = new RnnPlan.Geometry(code(mode), sz.t(), sz.n(), sz.i(), sz.h(), layers, bidirectional,
        RnnKernels.BACKEND_AUTO, type.code);

    boolean training = Autograd.needed(inputs);
    Tensor packed = Tensor.empty(type, outNumel + stateNumel * (lstm ? 2 : 1));
    Tensor ws = null;
    NativeTensor[] weights = new NativeTensor[count];
    for (int w = 0; w < count; w++) {
      weights[w] = operand(inputs[3 + w]);
    }
    try (RnnPlan plan = RnnKernels.plan(g)) {
      ws = training ? Tensor.empty(DType.BOOL, plan.workspaceBytes()) : null;
      RnnPlan.Operands o = new RnnPlan.Operands();
      o.src = operand(x);
      o.srcIter = h0 == null ? null : operand(h0);
      o.srcIterC = c0 == null ? null : operand(c0);
      o.weights = weights;
      o.dst = part(packed, 0, outShape);
      o.dstIter = part(packed, outNumel, stateShape);
      o.dstIterC = lstm ? part(packed, outNumel + stateNumel, stateShape) : null;
      o.workspace = ws == null ? null : operand(ws);
      plan.forward(training, o);
    } catch (RuntimeException e) {
      packed.close();
      if (ws != null) {
        ws.close();
      }
      throw e;
    }

    if (training) {
      // Saved views (closed with the node): inputs, weights and the forward's outputs.
      Tensor[] saved = new Tensor[3 + count + 2];
      boolean[] need = new boolean[3 + count];
      for (int k = 0; k < inputs.length; k++) {
        saved[k] = inputs[k] == null ? null : inputs[k].save();
        need[k] = inputs[k] != null && inputs[k].requiresGrad;
      }
      Tensor vPacked = packed.save();
      saved[3 + count] = vPacked;
      saved[4 + count] = ws;
      Tensor workspace = ws;
      Autograd.record(packed, OpName.RNN, inputs, grad -> {
        // grad = dL/d[output | hn | cn]: zeros where an output was not used.
        Tensor gp = grad.contiguous();
        Tensor[] out = new Tensor[3 + count];
        boolean anyWeight = false;
        for (int w = 0; w < count; w++) {
          anyWeight |= need[3 + w];
        }
        RnnPlan.Operands o = new RnnPlan.Operands();
        o.src = operand(saved[0]);
        o.srcIter = saved[1] == null ? null : operand(saved[1]);
        o.srcIterC = saved[2] == null ? null : operand(saved[2]);
        o.weights = new NativeTensor[count];
        for (int w = 0; w < count; w++) {
          o.weights[w] = operand(saved[3 + w]);
        }
        o.dst = part(vPacked, 0, outShape);
        o.dstIter = part(vPacked, outNumel, stateShape);
        o.diffDst = part(gp, 0, outShape);
        o.diffDstIter = part(gp, outNumel, stateShape);
        if (lstm) {
          o.dstIterC = part(vPacked, outNumel + stateNumel, stateShape);
          o.diffDstIterC = part(gp, outNumel + stateNumel, stateShape);
        }
        o.workspace = operand(workspace);
        for (int k = 0; k < 3; k++) {
          if (need[k]) {
            out[k] = Tensor.empty(type, saved[k].shape);
          }
        }
        o.diffSrc = need[0] ? operand(out[0]) : null;
        o.diffSrcIter = need[1] ? operand(out[1]) : null;
        o.diffSrcIterC = need[2] ? operand(out[2]) : null;
        if (anyWeight) {
          o.diffWeights = new NativeTensor[count];
          for (int w = 0; w < count; w++) {
            out[3 + w] = Tensor.empty(type, saved[3 + w].shape);
            o.diffWeights[w] = operand(out[3 + w]);
          }
        }
        try (RnnPlan plan = RnnKernels.plan(g)) {
          plan.backward(o);
        }
        for (int w = 0; w < count; w++) {
          if (out[3 + w] != null && !need[3 + w]) {
            out[3 + w].close();
            out[3 + w] = null;
          }
        }
        return out;
      }, nonNull(saved));
    }

    Tensor output = view(packed, 0, outShape);
    Tensor hn = view(packed, outNumel, stateShape);
    Tensor cn = lstm ? view(packed, outNumel + stateNumel, stateShape) : null;
    // NOTE: the views hold the storage; packed stays an edge of the graph (never read again).
    packed.close();
    return new RnnResult(output, hn, cn);
  }

  private static Tensor[] nonNull(Tensor[] ts) {
    int n = 0;
    for (Tensor t : ts) {
      n += t == null ? 0 : 1;
    }
    Tensor[] out = new Tensor[n];
    int i = 0;
    for (Tensor t : ts) {
      if (t != null) {
        out[i++] = t;
      }
    }
    return out;
  }
}
