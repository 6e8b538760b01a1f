package dev.fathom.nn;

import dev.fathom.tensor.RnnMode;

/**
 * Gated recurrent unit. By default the notes' cell:
 * <pre>
 *   R_t = sigmoid(X_t W_xr + H_{t-1} W_hr + b_r),  Z_t = sigmoid(X_t W_xz + H_{t-1} W_hz + b_z)
 *   H~_t = tanh(X_t W_xh + (R_t * H_{t-1}) W_hh + b_h),  H_t = Z_t * H_{t-1} + (1 - Z_t) * H~_t
 * </pre>
 * with PyTorch's parameters (rows r, z, n; each gate has b_i* + b_h*). {@link Builder#pytorchCompatible()}
 * selects torch.nn.GRU's cell instead, which applies the reset gate after the hidden product:
 * H~_t = tanh(X_t W_in^T + b_in + R_t * (H_{t-1} W_hn^T + b_hn)). Same parameters, different
 * function: load PyTorch weights into the compatible variant. Shapes: {@link RNNBase}.
 *
 * <pre>{@code
 * GRU notes = new GRU(28, 256);
 * GRU torchLike = GRU.builder(28, 256).pytorchCompatible().numLayers(2).build();
 * }</pre>
 */
public class GRU extends RNNBase {
  public GRU(long inputSize, long hiddenSize) {
    this(builder(inputSize, hiddenSize));
  }

  private GRU(Builder b) {
    super(b.linearBeforeReset ? RnnMode.GRU_PYTORCH : RnnMode.GRU, b);
  }

  public static Builder builder(long inputSize, long hiddenSize) {
    return new Builder(inputSize, hiddenSize);
  }

  /** True for torch.nn.GRU's "linear before reset" cell, false for the notes' cell. */
  public boolean pytorchCompatible() {
    return mode() == RnnMode.GRU_PYTORCH;
  }

  @Override
  protected String extraRepr() {
    return super.extraRepr() + (pytorchCompatible() ? ", pytorchCompatible" : "");
  }

  /** GRU options; see {@link RNNBase.Builder}. */
  public static final class Builder extends RNNBase.Builder<Builder> {
    private boolean linearBeforeReset;

    private Builder(long inputSize, long hiddenSize) {
      super(inputSize, hiddenSize);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /** torch.nn.GRU's cell (oneDNN's lbr_gru): the reset gate scales h W_hn^T + b_hn. */
    public Builder pytorchCompatible() {
      linearBeforeReset = true;
      return this;
    }

    public GRU build() {
      return new GRU(this);
    }
  }
}
