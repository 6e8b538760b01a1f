package dev.fathom.tensor;

/**
 * The recurrent cell of {@link Functional#rnn}. Both GRUs take PyTorch's
 * parameters; they differ in where the reset gate r acts on the candidate:
 * {@code GRU} is the notes' cell, n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn),
 * and {@code GRU_PYTORCH} is torch.nn.GRU's, n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)).
 */
public enum RnnMode {
  /** h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh). */
  RNN_TANH,
  /** h = relu(x W_ih^T + b_ih + h W_hh^T + b_hh). */
  RNN_RELU,
  GRU,
  GRU_PYTORCH,
  /** Gates (i, f, g, o) as torch.nn.LSTM; c = f * c + i * g, h = o * tanh(c). */
  LSTM
}
