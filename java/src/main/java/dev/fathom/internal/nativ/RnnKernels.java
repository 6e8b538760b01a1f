package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_rnn_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * Recurrent-layer entry points of the C ABI (fathom_rnn_*). Operands go through
 * the wide descriptor slots of {@link TensorKernels#slots(int)}; the weights (and
 * their gradients) are a run of consecutive slots. A slot index of -1 passes null.
 */
public final class RnnKernels {
  private RnnKernels() {}

  static {
    NativeLibrary.ensureLoaded();
  }

  public static final int MODE_TANH = fathom.FATHOM_RNN_TANH;
  public static final int MODE_RELU = fathom.FATHOM_RNN_RELU;
  public static final int MODE_GRU = fathom.FATHOM_RNN_GRU;
  public static final int MODE_GRU_PYTORCH = fathom.FATHOM_RNN_GRU_PYTORCH;
  public static final int MODE_LSTM = fathom.FATHOM_RNN_LSTM;
  public static final int BACKEND_AUTO = fathom.FATHOM_RNN_AUTO;
  public static final int BACKEND_REFERENCE = fathom.FATHOM_RNN_REFERENCE;
  public static final int BACKEND_ONEDNN = fathom.FATHOM_RNN_ONEDNN;

  private static final ThreadLocal<fathom_rnn_params> PARAMS = ThreadLocal.withInitial(fathom_rnn_params::new);

  /** Sizes of one call: T steps, N sequences, I inputs, H hidden units, L layers. */
  public record Rnn(int mode, long seqLen, long batch, long inputSize, long hiddenSize, int layers,
      boolean bidirectional, int backend) {}

  private static fathom_rnn_params params(Rnn g) {
    fathom_rnn_params p = PARAMS.get();
    p.mode(g.mode()).backend(g.backend()).seq_len(g.seqLen()).batch(g.batch()).input_size(g.inputSize())
        .hidden_size(g.hiddenSize()).layers(g.layers()).bidirectional(g.bidirectional() ? 1 : 0);
    return p;
  }

  public static long workspaceBytes(Rnn g, int dtype) {
    long[] out = new long[1];
    Kernels.check(fathom.fathom_rnn_workspace_bytes(params(g), dtype, out));
    return out[0];
  }

  /** Slots: weights .. weights+count-1 hold the 4*L*D weights in PyTorch's order. */
  public static void forward(Rnn g, boolean training, Slots s, int src, int srcIter, int srcIterC, int weights,
      int count, int dst, int dstIter, int dstIterC, int workspace) {
    Kernels.check(fathom.fathom_rnn_forward(params(g), training ? 1 : 0, s.get(src), s.get(srcIter),
        s.get(srcIterC), s.get(weights), count, s.get(dst), s.get(dstIter), s.get(dstIterC), s.get(workspace)));
  }

  public static void backward(Rnn g, Slots s, int src, int srcIter, int srcIterC, int weights, int count,
      int dst, int dstIter, int dstIterC, int diffDst, int diffDstIter, int diffDstIterC, int workspace,
      int diffSrc, int diffSrcIter, int diffSrcIterC, int diffWeights, int diffCount) {
    Kernels.check(fathom.fathom_rnn_backward(params(g), s.get(src), s.get(srcIter), s.get(srcIterC),
        s.get(weights), count, s.get(dst), s.get(dstIter), s.get(dstIterC), s.get(diffDst), s.get(diffDstIter),
        s.get(diffDstIterC), s.get(workspace), s.get(diffSrc), s.get(diffSrcIter), s.get(diffSrcIterC),
        s.get(diffWeights), diffCount));
  }
}
