package dev.fathom.nn;

import dev.fathom.tensor.RnnMode;

/**
 * Elman RNN, the notes' H_t = phi(X_t W_xh + H_{t-1} W_hh + b_h), as torch.nn.RNN:
 * h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh (default) or relu. Shapes and
 * parameters: {@link RNNBase}.
 *
 * <pre>{@code
 * RNN rnn = RNN.builder(28, 256).nonlinearity("relu").batchFirst(true).build();
 * RnnResult r = rnn.forward(x, null, null);   // x (N, T, 28) -> output (N, T, 256), hn (1, N, 256)
 * }</pre>
 */
public class RNN extends RNNBase {
  public RNN(long inputSize, long hiddenSize) {
    this(builder(inputSize, hiddenSize));
  }

  private RNN(Builder b) {
    super(b.relu ? RnnMode.RNN_RELU : RnnMode.RNN_TANH, b);
  }

  public static Builder builder(long inputSize, long hiddenSize) {
    return new Builder(inputSize, hiddenSize);
  }

  @Override
  protected String extraRepr() {
    return super.extraRepr() + (mode() == RnnMode.RNN_RELU ? ", nonlinearity=relu" : "");
  }

  /** RNN options; see {@link RNNBase.Builder}. */
  public static final class Builder extends RNNBase.Builder<Builder> {
    private boolean relu;

    private Builder(long inputSize, long hiddenSize) {
      super(inputSize, hiddenSize);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /** "tanh" (default) or "relu", as PyTorch's nonlinearity argument. */
    public Builder nonlinearity(String name) {
      if (!name.equals("tanh") && !name.equals("relu")) {
        throw new IllegalArgumentException("RNN: nonlinearity must be tanh or relu, got '" + name + "'");
      }
      relu = name.equals("relu");
      return this;
    }

    public RNN build() {
      return new RNN(this);
    }
  }
}
