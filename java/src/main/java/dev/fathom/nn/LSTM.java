package dev.fathom.nn;

import dev.fathom.tensor.RnnMode;

/**
 * Long short-term memory, as torch.nn.LSTM (rows i, f, g, o):
 * <pre>
 *   i, f, o = sigmoid(x W_i*^T + b_i* + h W_h*^T + b_h*),  g = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)
 *   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)
 * </pre>
 * Shapes and parameters: {@link RNNBase}; the cell state has the hidden state's shape.
 *
 * <pre>{@code
 * LSTM lstm = LSTM.builder(28, 256).numLayers(2).build();
 * RnnResult r = lstm.forward(x, h0, c0);   // h0, c0 (2, N, 256) or null
 * }</pre>
 */
public class LSTM extends RNNBase {
  public LSTM(long inputSize, long hiddenSize) {
    this(builder(inputSize, hiddenSize));
  }

  private LSTM(Builder b) {
    super(RnnMode.LSTM, b);
  }

  public static Builder builder(long inputSize, long hiddenSize) {
    return new Builder(inputSize, hiddenSize);
  }

  /** LSTM options; see {@link RNNBase.Builder}. */
  public static final class Builder extends RNNBase.Builder<Builder> {
    private Builder(long inputSize, long hiddenSize) {
      super(inputSize, hiddenSize);
    }

    @Override
    protected Builder self() {
      return this;
    }

    public LSTM build() {
      return new LSTM(this);
    }
  }
}
