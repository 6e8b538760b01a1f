package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_rnn_choice;
import dev.fathom.bindings.fathom_rnn_params;
import dev.fathom.bindings.fathom_tensor_desc;
import dev.fathom.bindings.global.fathom;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * A native recurrent-layer plan (fathom_rnn_plan_*): one mode, size and dtype,
 * validated once, with its backend. Obtained from {@link RnnKernels#plan} and
 * closed after use; thread-safe. A call's operands are an {@link Operands}
 * (null where fathom.h allows it).
 */
public final class RnnPlan extends PlanCache.Plan {
  /** T steps, N sequences, I inputs, H hidden units, L layers, directions, backend, dtype code. */
  public record Geometry(int mode, long seqLen, long batch, long inputSize, long hiddenSize, int layers,
      boolean bidirectional, int backend, int dtype) {}

  /** The operands of one forward or backward call; the weights in PyTorch's order. */
  public static final class Operands {
    public NativeTensor src, srcIter, srcIterC, dst, dstIter, dstIterC, workspace;
    public NativeTensor[] weights = new NativeTensor[0];
    // Backward only.
    public NativeTensor diffDst, diffDstIter, diffDstIterC, diffSrc, diffSrcIter, diffSrcIterC;
    public NativeTensor[] diffWeights;
  }

  // Descriptor slots of a call: the fixed operands, then the weights and diff weights.
  private static final int FIXED = 13;

  private final Geometry geometry;
  private final long handle;
  private final int backend;

  RnnPlan(Geometry g) {
    this.geometry = g;
    try (fathom_rnn_params p = new fathom_rnn_params(); fathom_rnn_choice c = new fathom_rnn_choice()) {
      p.mode(g.mode()).backend(g.backend()).seq_len(g.seqLen()).batch(g.batch()).input_size(g.inputSize())
          .hidden_size(g.hiddenSize()).layers(g.layers()).bidirectional(g.bidirectional() ? 1 : 0);
      handle = open(h -> fathom.fathom_rnn_plan_create(p, g.dtype(), h), id -> fathom.fathom_rnn_plan_info(id, c),
          fathom::fathom_rnn_plan_destroy);
      backend = c.backend();
    }
  }

  public Geometry geometry() {
    return geometry;
  }

  /** The backend that runs (AUTO resolved): RnnKernels.BACKEND_*. */
  public int backend() {
    return backend;
  }

  /** Bytes of the workspace a training forward writes and its backward reads. */
  public long workspaceBytes() {
    try (fathom_rnn_choice c = new fathom_rnn_choice()) {
      Kernels.check(fathom.fathom_rnn_plan_info(handle, c));
      return c.workspace_bytes();
    }
  }

  /** Forward over the sequence: dst, dstIter (and dstIterC for LSTM); a workspace when training. */
  public void forward(boolean training, Operands o) {
    int count = o.weights.length;
    Slots s = TensorKernels.slots(FIXED + count);
    set(s, 0, o.weights);
    Kernels.check(fathom.fathom_rnn_forward(handle, training ? 1 : 0, at(s, 0, o.src), at(s, 1, o.srcIter),
        at(s, 2, o.srcIterC), s.get(FIXED), count, at(s, 3, o.dst), at(s, 4, o.dstIter), at(s, 5, o.dstIterC),
        at(s, 6, o.workspace)));
  }

  /** Backward through time from a training forward's operands and workspace. */
  public void backward(Operands o) {
    int count = o.weights.length;
    int diffCount = o.diffWeights == null ? 0 : o.diffWeights.length;
    Slots s = TensorKernels.slots(FIXED + count + diffCount);
    set(s, 0, o.weights);
    if (o.diffWeights != null) {
      set(s, count, o.diffWeights);
    }
    Kernels.check(fathom.fathom_rnn_backward(handle, at(s, 0, o.src), at(s, 1, o.srcIter), at(s, 2, o.srcIterC),
        s.get(FIXED), count, at(s, 3, o.dst), at(s, 4, o.dstIter), at(s, 5, o.dstIterC), at(s, 7, o.diffDst),
        at(s, 8, o.diffDstIter), at(s, 9, o.diffDstIterC), at(s, 6, o.workspace), at(s, 10, o.diffSrc),
        at(s, 11, o.diffSrcIter), at(s, 12, o.diffSrcIterC), o.diffWeights == null ? null : s.get(FIXED + count),
        diffCount));
  }

  private static void set(Slots s, int first, NativeTensor[] ts) {
    for (int i = 0; i < ts.length; i++) {
      s.set(FIXED + first + i, ts[i]);
    }
  }

  private static fathom_tensor_desc at(Slots s, int slot, NativeTensor t) {
    if (t == null) {
      return null;
    }
    s.set(slot, t);
    return s.get(slot);
  }

  @Override
  protected void destroy() {
    Kernels.check(fathom.fathom_rnn_plan_destroy(handle));
  }

  @Override
  public String toString() {
    return "rnn plan " + handle + " " + geometry;
  }
}
