package dev.fathom.nn.rnn;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.RnnResult;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Whole-sequence RNN, GRU and LSTM written from Tensor ops: the readable reference of the fused
 * native RNN op (same signature and result as {@code Functional.rnn}), used by the gradient checks
 * and as the fallback path. Autograd comes from the ops, so it works in float32 and float64.
 * It is not the fast path: every time step is a handful of small ops.
 *
 * <pre>{@code
 * try (Scope s = Scope.open()) {
 *   RnnResult r = RnnReference.forward(RnnMode.LSTM, x, null, null, lstm.flatWeights(), 1, false);
 *   Tensor y = r.output();   // (T, N, H)
 * }
 * }</pre>
 *
 * <p>Layout (PyTorch's): x (T, N, I) time-major; h0, c0 (L*D, N, H), index k*D + dir, or null
 * for zeros; weights, for k in layers and dir in (forward, reverse): weight_ih (G*H, I_k),
 * weight_hh (G*H, H), bias_ih (G*H), bias_hh (G*H), I_0 = I and I_k = D*H above, G = 1 (RNN),
 * 3 (GRU: rows r, z, n) or 4 (LSTM: rows i, f, g, o). Output (T, N, D*H), forward half first.
 *
 * <p>Equations per step (x W^T means x times the rows of that gate):
 * <pre>
 *   RNN:  h = act(x W_ih^T + b_ih + h W_hh^T + b_hh)                 act = tanh or relu
 *   LSTM: i, f, o = sigmoid(.), g = tanh(.)  of x W_i*^T + b_i* + h W_h*^T + b_h*
 *         c = f * c + i * g;  h = o * tanh(c)
 *   GRU:  r, z = sigmoid(x W_i*^T + b_i* + h W_h*^T + b_h*)
 *         n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)          notes (GRU)
 *         n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))          PyTorch (GRU_PYTORCH)
 *         h = z * h + (1 - z) * n
 * </pre>
 * Intermediates join the caller's Scope, as for any chain of ops.
 */
public final class RnnReference {
  private RnnReference() {}

  /** Gate count G: rows of each weight are G blocks of H. */
  public static int gates(RnnMode mode) {
    return switch (mode) {
      case RNN_TANH, RNN_RELU -> 1;
      case GRU, GRU_PYTORCH -> 3;
      case LSTM -> 4;
    };
  }

  /** PyTorch's parameter names in the flat weight order: weight_ih_l0, weight_hh_l0, bias_ih_l0, ... */
  public static List<String> weightNames(int layers, boolean bidirectional) {
    List<String> names = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      for (int dir = 0; dir < (bidirectional ? 2 : 1); dir++) {
        String sfx = "_l" + k + (dir == 1 ? "_reverse" : "");
        names.add("weight_ih" + sfx);
        names.add("weight_hh" + sfx);
        names.add("bias_ih" + sfx);
        names.add("bias_hh" + sfx);
      }
    }
    return names;
  }

  /**
   * Runs the whole sequence through every layer and direction. h0 and c0 may be null (zeros); c0
   * must be null unless mode is LSTM. The result's tensors join the current scope.
   */
  public static RnnResult forward(RnnMode mode, Tensor x, Tensor h0, Tensor c0, List<Tensor> weights,
      int layers, boolean bidirectional) {
    Dims d = validate(mode, x, h0, c0, weights, layers, bidirectional);
    boolean lstm = mode == RnnMode.LSTM;
    List<Tensor> finalH = new ArrayList<>();
    List<Tensor> finalC = new ArrayList<>();
    Tensor layerInput = x;
    for (int k = 0; k < layers; k++) {
      Tensor[] directionOutputs = new Tensor[d.directions];
      for (int dir = 0; dir < d.directions; dir++) {
        int state = k * d.directions + dir;
        List<Tensor> w = weights.subList(4 * state, 4 * state + 4);
        Tensor h = h0 == null ? Tensor.zeros(d.type, d.batch, d.hidden) : h0.select(0, state);
        Tensor c = !lstm ? null : c0 == null ? Tensor.zeros(d.type, d.batch, d.hidden) : c0.select(0, state);
        Cell cell = new Cell(mode, d.hidden, layerInput, w);
        Tensor[] hs = new Tensor[d.steps];
        for (int s = 0; s < d.steps; s++) {
          int t = dir == 0 ? s : d.steps - 1 - s;
          Tensor[] hc = cell.step(t, h, c);
          h = hc[0];
          c = hc[1];
          hs[t] = h;
        }
        directionOutputs[dir] = Tensor.stack(Arrays.asList(hs), 0);
        finalH.add(h);
        if (lstm) {
          finalC.add(c);
        }
      }
      layerInput = d.directions == 1 ? directionOutputs[0] : Tensor.cat(Arrays.asList(directionOutputs), 2);
    }
    return new RnnResult(layerInput, Tensor.stack(finalH, 0), lstm ? Tensor.stack(finalC, 0) : null);
  }

  /** One layer and direction: the input projection for all steps at once, then the recurrence. */
  private static final class Cell {
    private final RnnMode mode;
    private final long hidden;
    private final Tensor inputGates;   // (T, N, G*H): x W_ih^T + bias for every step
    private final Tensor hiddenWeightT; // (H, G*H)
    private final Tensor hiddenBias;    // b_hh where it cannot be folded into inputGates, else null

    Cell(RnnMode mode, long hidden, Tensor input, List<Tensor> w) {
      this.mode = mode;
      this.hidden = hidden;
      long steps = input.size(0);
      long batch = input.size(1);
      Tensor weightIh = w.get(0);
      // NOTE: b_hh sits outside every nonlinearity except in PyTorch's GRU candidate, where it is
      // multiplied by r; everywhere else it can be added once per sequence instead of once per step.
      boolean linearBeforeReset = mode == RnnMode.GRU_PYTORCH;
      Tensor bias = linearBeforeReset ? w.get(2) : w.get(2).add(w.get(3));
      this.inputGates = input.reshape(steps * batch, input.size(2)).matmul(weightIh.t()).add(bias)
          .reshape(steps, batch, weightIh.size(0));
      this.hiddenWeightT = w.get(1).t();
      this.hiddenBias = linearBeforeReset ? w.get(3) : null;
    }

    /** {h_t, c_t} from {h_{t-1}, c_{t-1}} (c null unless LSTM). */
    Tensor[] step(int t, Tensor h, Tensor c) {
      Tensor gx = inputGates.select(0, t);   // (N, G*H)
      long hs = hidden;
      switch (mode) {
        case RNN_TANH:
          return new Tensor[] {gx.add(h.matmul(hiddenWeightT)).tanh(), null};
        case RNN_RELU:
          return new Tensor[] {gx.add(h.matmul(hiddenWeightT)).relu(), null};
        case LSTM: {
          Tensor g = gx.add(h.matmul(hiddenWeightT));
          Tensor in = g.narrow(1, 0, hs).sigmoid();
          Tensor forget = g.narrow(1, hs, hs).sigmoid();
          Tensor candidate = g.narrow(1, 2 * hs, hs).tanh();
          Tensor out = g.narrow(1, 3 * hs, hs).sigmoid();
          Tensor cNext = forget.mul(c).add(in.mul(candidate));
          return new Tensor[] {out.mul(cNext.tanh()), cNext};
        }
        case GRU: {
          Tensor rz = gx.narrow(1, 0, 2 * hs).add(h.matmul(hiddenWeightT.narrow(1, 0, 2 * hs))).sigmoid();
          Tensor r = rz.narrow(1, 0, hs);
          Tensor z = rz.narrow(1, hs, hs);
          Tensor n = gx.narrow(1, 2 * hs, hs).add(r.mul(h).matmul(hiddenWeightT.narrow(1, 2 * hs, hs))).tanh();
          return new Tensor[] {n.add(z.mul(h.sub(n))), null};   // z * h + (1 - z) * n
        }
        case GRU_PYTORCH: {
          Tensor gh = h.matmul(hiddenWeightT).add(hiddenBias);
          Tensor rz = gx.narrow(1, 0, 2 * hs).add(gh.narrow(1, 0, 2 * hs)).sigmoid();
          Tensor r = rz.narrow(1, 0, hs);
          Tensor z = rz.narrow(1, hs, hs);
          Tensor n = gx.narrow(1, 2 * hs, hs).add(r.mul(gh.narrow(1, 2 * hs, hs))).tanh();
          return new Tensor[] {n.add(z.mul(h.sub(n))), null};
        }
        default:
          throw new IllegalStateException("rnn: unhandled mode " + mode);
      }
    }
  }

  private record Dims(int steps, long batch, long hidden, int directions, DType type) {}

  private static Dims validate(RnnMode mode, Tensor x, Tensor h0, Tensor c0, List<Tensor> weights, int layers,
      boolean bidirectional) {
    if (mode == null || x == null || weights == null) {
      throw new IllegalArgumentException("rnn: mode, x and weights are required");
    }
    String op = "rnn(" + mode + ")";
    if (x.dim() != 3 || !x.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": x must be floating-point (T, N, I), got "
          + Arrays.toString(x.shape()) + " " + x.dtype());
    }
    if (x.size(0) < 1 || x.size(1) < 1 || x.size(2) < 1) {
      throw new IllegalArgumentException(op + ": x " + Arrays.toString(x.shape()) + " has an empty dimension");
    }
    if (layers < 1) {
      throw new IllegalArgumentException(op + ": layers=" + layers + " must be >= 1");
    }
    int directions = bidirectional ? 2 : 1;
    if (weights.size() != 4 * layers * directions) {
      throw new IllegalArgumentException(op + ": expected " + 4 * layers * directions + " weights (w_ih, w_hh, "
          + "b_ih, b_hh per layer and direction) for layers=" + layers + " bidirectional=" + bidirectional
          + ", got " + weights.size());
    }
    int g = gates(mode);
    Tensor firstHh = weights.get(1);
    if (firstHh == null || firstHh.dim() != 2 || firstHh.size(1) < 1) {
      throw new IllegalArgumentException(op + ": weight_hh_l0 must be (" + g + "*H, H), got "
          + (firstHh == null ? "null" : Arrays.toString(firstHh.shape())));
    }
    long hidden = firstHh.size(1);
    List<String> names = weightNames(layers, bidirectional);
    for (int i = 0; i < weights.size(); i++) {
      int layer = i / (4 * directions);
      long in = layer == 0 ? x.size(2) : directions * hidden;
      long[] expected = switch (i % 4) {
        case 0 -> new long[] {g * hidden, in};
        case 1 -> new long[] {g * hidden, hidden};
        default -> new long[] {g * hidden};
      };
      Tensor w = weights.get(i);
      if (w == null || !Arrays.equals(w.shape(), expected) || w.dtype() != x.dtype()) {
        throw new IllegalArgumentException(op + ": " + names.get(i) + " must be " + Arrays.toString(expected)
            + " " + x.dtype() + " (x " + Arrays.toString(x.shape()) + ", H=" + hidden + "), got "
            + (w == null ? "null" : Arrays.toString(w.shape()) + " " + w.dtype()));
      }
    }
    long[] stateShape = {(long) layers * directions, x.size(1), hidden};
    checkState(op, "h0", h0, stateShape, x.dtype());
    if (mode == RnnMode.LSTM) {
      checkState(op, "c0", c0, stateShape, x.dtype());
    } else if (c0 != null) {
      throw new IllegalArgumentException(op + ": c0 is only for LSTM; pass null");
    }
    return new Dims(Math.toIntExact(x.size(0)), x.size(1), hidden, directions, x.dtype());
  }

  private static void checkState(String op, String name, Tensor s, long[] shape, DType type) {
    if (s != null && (!Arrays.equals(s.shape(), shape) || s.dtype() != type)) {
      throw new IllegalArgumentException(op + ": " + name + " must be (L*D, N, H) = " + Arrays.toString(shape)
          + " " + type + ", got " + Arrays.toString(s.shape()) + " " + s.dtype());
    }
  }
}
