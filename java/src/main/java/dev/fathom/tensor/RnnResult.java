package dev.fathom.tensor;

/**
 * What {@link Functional#rnn} returns: output (T, N, D * H), the last layer's
 * hidden state at every step (forward direction first), and the final states
 * hn and, for LSTM, cn (L * D, N, H); cn is null otherwise.
 */
public record RnnResult(Tensor output, Tensor hn, Tensor cn) implements AutoCloseable {
  @Override
  public void close() {
    output.close();
    hn.close();
    if (cn != null) {
      cn.close();
    }
  }
}
