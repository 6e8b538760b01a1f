package dev.fathom;

import dev.fathom.internal.nativ.Kernels;

/**
 * Process-wide entry point: runtime description and the intra-op thread budget.
 *
 * <p>Threads: Fathom runs oneDNN and OpenBLAS on one shared budget, by default
 * {@link Runtime#availableProcessors()} (container-aware), or the
 * {@code fathom.threads} system property. Concurrent callers split it: with a
 * budget of n and k JVM threads inside native calls at once, each call gets
 * max(1, n / k) threads, so a thread pool never multiplies the native threads.
 * Idle native workers sleep rather than spin (OMP_WAIT_POLICY=PASSIVE unless
 * you set it yourself), so Fathom leaves spare cores to the service around it.
 *
 * <pre>{@code
 * Fathom.setNumThreads(2);
 * System.out.println(Fathom.runtimeInfo());
 * }</pre>
 */
public final class Fathom {
  private Fathom() {}

  public static RuntimeInfo runtimeInfo() {
    return RuntimeInfo.parse(Kernels.runtimeInfo());
  }

  /** Sets the intra-op thread budget shared by all native kernels (n >= 1). */
  public static void setNumThreads(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("setNumThreads: n=" + n + " (must be >= 1)");
    }
    Kernels.setNumThreads(n);
  }

  public static int numThreads() {
    return Kernels.numThreads();
  }
}
