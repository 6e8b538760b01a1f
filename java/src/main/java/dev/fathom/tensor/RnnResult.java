package dev.fathom.tensor;

/**
 * The outputs of a whole-sequence RNN call: output (T, N, D*H) (forward half first), final hidden
 * state hn (L*D, N, H) and, for LSTM only, final cell state cn (L*D, N, H); cn is null otherwise.
 */
public record RnnResult(Tensor output, Tensor hn, Tensor cn /* null unless LSTM */) implements AutoCloseable {
  @Override
  public void close() {
    output.close();
    hn.close();
    if (cn != null) {
      cn.close();
    }
  }
}
