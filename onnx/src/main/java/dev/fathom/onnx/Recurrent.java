package dev.fathom.onnx;

import dev.fathom.onnx.proto.Onnx.AttributeProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.RnnResult;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ONNX LSTM, GRU (either linear_before_reset) and RNN (Tanh or Relu), one layer,
 * forward or bidirectional, over Fathom's fused RNN op. ONNX orders the gates i, o, f, c (LSTM) and z, r, h (GRU); Fathom, like
 * PyTorch, i, f, g, o and r, z, n: the weight rows are reordered here.
 */
final class Recurrent {
  private Recurrent() {}

  static Tensor[] run(NodeProto n, RnnMode mode, Tensor[] in) {
    Tensor x = Ops.req(in, 0);
    Tensor w = Ops.req(in, 1);
    Tensor r = Ops.req(in, 2);
    Tensor b = Ops.opt(in, 3);
    if (Ops.opt(in, 4) != null) {
      throw new IllegalArgumentException("sequence_lens is not supported (all sequences have full length)");
    }
    Tensor h0 = Ops.opt(in, 5);
    Tensor c0 = mode == RnnMode.LSTM ? Ops.opt(in, 6) : null;
    if (mode == RnnMode.LSTM && Ops.opt(in, 7) != null) {
      throw new IllegalArgumentException("LSTM peepholes (input P) are not supported");
    }
    if (Ops.i(n, "layout", 0) != 0) {
      throw new IllegalArgumentException("layout=1 (batch first) is not supported");
    }
    if (Ops.attr(n, "clip") != null) {
      throw new IllegalArgumentException("cell clipping (clip) is not supported");
    }
    if (Ops.i(n, "input_forget", 0) != 0) {
      throw new IllegalArgumentException("input_forget=1 is not supported");
    }
    AttributeProto acts = Ops.attr(n, "activations");
    String[] dflt = switch (mode) {
      case LSTM -> new String[] {"Sigmoid", "Tanh", "Tanh"};
      case GRU, GRU_PYTORCH -> new String[] {"Sigmoid", "Tanh"};
      default -> null;   // RNN: Tanh or Relu, chosen by the caller
    };
    if (acts != null && dflt != null) {
      for (int k = 0; k < acts.getStringsCount(); k++) {
        String a = acts.getStrings(k).toStringUtf8();
        if (!a.equalsIgnoreCase(dflt[k % dflt.length])) {
          throw new IllegalArgumentException("activations " + a + " are not supported (only the defaults "
              + Arrays.toString(dflt) + ")");
        }
      }
    }
    String direction = Ops.s(n, "direction", "forward");
    boolean bidirectional = direction.equals("bidirectional");
    if (!bidirectional && !direction.equals("forward")) {
      throw new IllegalArgumentException("direction '" + direction + "' is not supported (forward or bidirectional)");
    }
    int dirs = bidirectional ? 2 : 1;
    boolean gru = mode == RnnMode.GRU || mode == RnnMode.GRU_PYTORCH;
    int gates = mode == RnnMode.LSTM ? 4 : gru ? 3 : 1;
    if (x.dim() != 3 || w.dim() != 3 || r.dim() != 3) {
      throw new IllegalArgumentException("X (T, N, I), W (D, G*H, I) and R (D, G*H, H) must be 3-D");
    }
    long h = Ops.i(n, "hidden_size", r.size(2));
    if (h != r.size(2) || w.size(0) != dirs || r.size(0) != dirs || w.size(1) != gates * h || r.size(1) != gates * h
        || w.size(2) != x.size(2)) {
      throw new IllegalArgumentException("weights W " + Arrays.toString(w.shape()) + ", R " + Arrays.toString(r.shape())
          + " do not fit hidden_size " + h + ", " + dirs + " direction(s), input size " + x.size(2));
    }
    if (b != null && (b.dim() != 2 || b.size(0) != dirs || b.size(1) != 2 * gates * h)) {
      throw new IllegalArgumentException("B " + Arrays.toString(b.shape()) + " must be (" + dirs + ", "
          + 2 * gates * h + ")");
    }
    int[] order = switch (mode) {
      case LSTM -> new int[] {0, 2, 3, 1};   // i o f c -> i f c o
      case GRU, GRU_PYTORCH -> new int[] {1, 0, 2};   // z r h -> r z h
      default -> new int[] {0};
    };
    List<Tensor> weights = new ArrayList<>();
    for (int d = 0; d < dirs; d++) {
      weights.add(reorder(w.select(0, d), order, h));
      weights.add(reorder(r.select(0, d), order, h));
      if (b != null) {
        Tensor bd = b.select(0, d);
        weights.add(reorder(bd.narrow(0, 0, gates * h), order, h));
        weights.add(reorder(bd.narrow(0, gates * h, gates * h), order, h));
      } else {
        weights.add(Tensor.zeros(w.dtype(), gates * h));
        weights.add(Tensor.zeros(w.dtype(), gates * h));
      }
    }
    RnnResult res = Functional.rnn(mode, x, h0, c0, weights, 1, bidirectional);
    long t = x.size(0);
    long batch = x.size(1);
    Tensor y = res.output().reshape(t, batch, dirs, h).permute(0, 2, 1, 3);
    return mode == RnnMode.LSTM ? new Tensor[] {y, res.hn(), res.cn()} : new Tensor[] {y, res.hn()};
  }

  private static Tensor reorder(Tensor rows, int[] order, long h) {
    if (order.length == 1) {
      return rows.contiguous();
    }
    List<Tensor> parts = new ArrayList<>();
    for (int g : order) {
      parts.add(rows.narrow(0, g * h, h));
    }
    return Tensor.cat(parts, 0);
  }
}
