package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;

/** Recurrent layers of the C ABI (fathom_rnn_*): the mode and backend codes and the cache of plans. */
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

  // Bounded: a process sees a few shapes per recurrent layer (its batch and sequence sizes).
  private static final PlanCache<RnnPlan.Geometry, RnnPlan> PLANS = new PlanCache<>(256, RnnPlan::new);

  /** The shared plan of a recurrent geometry, retained: close it after the call. */
  public static RnnPlan plan(RnnPlan.Geometry g) {
    return PLANS.acquire(g);
  }
}
