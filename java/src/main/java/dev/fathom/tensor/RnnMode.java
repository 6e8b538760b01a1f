package dev.fathom.tensor;

/**
 * The recurrent cell of a fused RNN call. Gate rows follow PyTorch: LSTM (i, f, g, o), GRU (r, z, n).
 * GRU is the notes' cell (candidate from (r * h) W_hn); GRU_PYTORCH is torch.nn.GRU's
 * "linear before reset" cell (candidate from r * (h W_hn + b_hn)); both have the same parameters.
 */
public enum RnnMode { RNN_TANH, RNN_RELU, GRU, GRU_PYTORCH, LSTM }
