package dev.fathom.nn;

import dev.fathom.nn.rnn.RnnReference;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.RnnResult;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What {@link RNN}, {@link GRU} and {@link LSTM} share, as PyTorch's RNNBase: the parameters
 * (weight_ih_l{k}[_reverse] (G*H, I_k), weight_hh_l{k} (G*H, H), bias_ih_l{k}, bias_hh_l{k} (G*H),
 * PyTorch's names and gate order), initialised U(-1/sqrt(H), 1/sqrt(H)); stacked layers; an
 * optional reverse direction; batch-first input.
 *
 * <p>Shapes: input (T, N, I), or (N, T, I) with batchFirst; h0, c0 and the final states
 * (layers * directions, N, H) in either case; output (T, N, D*H), or (N, T, D*H) with batchFirst.
 */
public abstract class RNNBase extends Module {
  private final RnnMode mode;
  private final long inputSize;
  private final long hiddenSize;
  private final int numLayers;
  private final boolean bidirectional;
  private final boolean batchFirst;
  private final List<String> weightNames;

  protected RNNBase(RnnMode mode, Builder<?> b) {
    if (b.inputSize < 1 || b.hiddenSize < 1) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": inputSize=" + b.inputSize
          + " and hiddenSize=" + b.hiddenSize + " must be positive");
    }
    this.mode = mode;
    this.inputSize = b.inputSize;
    this.hiddenSize = b.hiddenSize;
    this.numLayers = b.numLayers;
    this.bidirectional = b.bidirectional;
    this.batchFirst = b.batchFirst;
    this.weightNames = RnnReference.weightNames(numLayers, bidirectional);
    long rows = RnnReference.gates(mode) * hiddenSize;
    double bound = 1 / Math.sqrt(hiddenSize);
    int directions = bidirectional ? 2 : 1;
    for (int i = 0; i < weightNames.size(); i++) {
      int layer = i / (4 * directions);
      long in = layer == 0 ? inputSize : directions * hiddenSize;
      long[] shape = switch (i % 4) {
        case 0 -> new long[] {rows, in};
        case 1 -> new long[] {rows, hiddenSize};
        default -> new long[] {rows};
      };
      registerParameter(weightNames.get(i), Tensor.uniform(b.generator, -bound, bound, DType.FLOAT32, shape));
    }
  }

  /**
   * The single call into the whole-sequence RNN implementation: float32 runs the fused native op
   * (oneDNN); float64 runs the Tensor-op reference, so module gradient checks exercise it (the
   * native op's own float64 kernel is checked in GradCheckTest, and both agree in RnnReferenceTest).
   */
  private static RnnResult rnn(RnnMode mode, Tensor x, Tensor h0, Tensor c0, List<Tensor> weights, int layers,
      boolean bidirectional) {
    return x.dtype() == DType.FLOAT32 ? Functional.rnn(mode, x, h0, c0, weights, layers, bidirectional)
        : RnnReference.forward(mode, x, h0, c0, weights, layers, bidirectional);
  }

  public RnnMode mode() {
    return mode;
  }

  public long inputSize() {
    return inputSize;
  }

  public long hiddenSize() {
    return hiddenSize;
  }

  public int numLayers() {
    return numLayers;
  }

  public boolean bidirectional() {
    return bidirectional;
  }

  public boolean batchFirst() {
    return batchFirst;
  }

  /** Size of the last dimension of the output: directions * hiddenSize. */
  public long outputSize() {
    return (bidirectional ? 2 : 1) * hiddenSize;
  }

  /** The parameters in the flat order of {@link RnnReference#forward} (w_ih, w_hh, b_ih, b_hh per layer/dir). */
  public List<Tensor> flatWeights() {
    List<Tensor> w = new ArrayList<>(weightNames.size());
    for (String name : weightNames) {
      w.add(param(name));
    }
    return w;
  }

  /** The output sequence for zero initial states (the final states are dropped). */
  @Override
  public Tensor forward(Tensor input) {
    RnnResult r = forward(input, null, null);
    r.hn().close();
    if (r.cn() != null) {
      r.cn().close();
    }
    return r.output();
  }

  /**
   * Output sequence and final states. h0 (and c0, LSTM only) may be null for zeros.
   *
   * <pre>{@code
   * RnnResult r = lstm.forward(x, h, c);   // carry r.hn(), r.cn() to the next call (detached for truncated BPTT)
   * }</pre>
   */
  public RnnResult forward(Tensor input, Tensor h0, Tensor c0) {
    String name = getClass().getSimpleName() + "(" + inputSize + "->" + hiddenSize + ")";
    if (input.dim() != 3 || input.size(2) != inputSize) {
      throw new IllegalArgumentException(name + ": input " + Arrays.toString(input.shape()) + " must be "
          + (batchFirst ? "(N, T, " : "(T, N, ") + inputSize + ")");
    }
    if (mode != RnnMode.LSTM && c0 != null) {
      throw new IllegalArgumentException(name + ": only LSTM has a cell state; c0 must be null");
    }
    Tensor x = batchFirst ? input.transpose(0, 1) : input;
    DType type = param(weightNames.get(0)).dtype();
    if (x.dtype() != type) {
      x = x.to(type);
    }
    RnnResult r = rnn(mode, x, h0, c0, flatWeights(), numLayers, bidirectional);
    if (!batchFirst) {
      return r;
    }
    Tensor output = r.output().transpose(0, 1);
    r.output().close();   // the view keeps the storage and the graph edge
    return new RnnResult(output, r.hn(), r.cn());
  }

  @Override
  protected String extraRepr() {
    return "input=" + inputSize + ", hidden=" + hiddenSize + ", layers=" + numLayers
        + (bidirectional ? ", bidirectional" : "") + (batchFirst ? ", batchFirst" : "");
  }

  /** Options shared by RNN, GRU and LSTM; defaults as PyTorch: 1 layer, one direction, time-major. */
  public abstract static class Builder<B extends Builder<B>> {
    private final long inputSize;
    private final long hiddenSize;
    private int numLayers = 1;
    private boolean bidirectional;
    private boolean batchFirst;
    private Generator generator = Generator.defaultGenerator();

    protected Builder(long inputSize, long hiddenSize) {
      this.inputSize = inputSize;
      this.hiddenSize = hiddenSize;
    }

    protected abstract B self();

    /** Stacked layers; layer k > 0 reads the D*H outputs of layer k-1. */
    public B numLayers(int numLayers) {
      if (numLayers < 1) {
        throw new IllegalArgumentException("numLayers=" + numLayers + " must be >= 1");
      }
      this.numLayers = numLayers;
      return self();
    }

    /** Adds a reverse direction per layer; outputs are concatenated (forward half first). */
    public B bidirectional(boolean bidirectional) {
      this.bidirectional = bidirectional;
      return self();
    }

    /** Input and output are (N, T, features) instead of (T, N, features); states are unchanged. */
    public B batchFirst(boolean batchFirst) {
      this.batchFirst = batchFirst;
      return self();
    }

    /** Source of the initial weights. */
    public B generator(Generator generator) {
      this.generator = java.util.Objects.requireNonNull(generator, "generator");
      return self();
    }
  }
}
