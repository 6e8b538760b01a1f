package dev.fathom;

import dev.fathom.internal.nativ.Kernels;

/**
 * Process-wide entry point: runtime description, the intra-op thread budget
 * and the limit on native tensor memory.
 *
 * <p>Threads: Fathom runs oneDNN and OpenBLAS on one shared budget, by default
 * {@link Runtime#availableProcessors()} (container-aware), or the
 * {@code fathom.threads} system property. Concurrent callers split it: with a
 * budget of n and k JVM threads inside native calls at once, each call gets
 * max(1, n / k) threads, so a thread pool never multiplies the native threads.
 * Idle native workers sleep rather than spin (OMP_WAIT_POLICY=PASSIVE unless
 * you set it yourself), so Fathom leaves spare cores to the service around it.
 *
 * <p>Memory: {@link #setMemoryLimit} caps the native memory of tensor storage,
 * so that a service embedding Fathom gets a {@link FathomException} with status
 * {@code OUT_OF_MEMORY} instead of the process being killed when a batch is
 * too large.
 *
 * <pre>{@code
 * Fathom.setNumThreads(2);
 * Fathom.setMemoryLimit(2L << 30);  // 2 GiB of tensors
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

  /**
   * Caps the native memory of tensor storage, process-wide: {@code bytes} of
   * live tensor storages (each rounded up to 64 bytes, plus a 64-byte header)
   * together with the freed blocks the native allocator keeps for reuse. A
   * tensor allocation that would pass the limit first drops those cached
   * blocks; if it still would, it throws {@link FathomException} with status
   * {@code OUT_OF_MEMORY} and a message naming the requested bytes, the limit
   * and the live and cached bytes, and allocates nothing. Memory the native
   * core keeps for itself (plans, oneDNN primitives and scratch) and Java heap
   * objects do not count.
   *
   * <p>0 means unlimited, the default unless the environment variable
   * {@code FATHOM_MAX_MEMORY_MB} held a non-negative integer (MiB) when the
   * native library was loaded. A limit below the current use is accepted:
   * allocations fail until enough tensors are closed.
   *
   * @throws IllegalArgumentException if {@code bytes} is negative
   */
  public static void setMemoryLimit(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException(
          "setMemoryLimit: bytes=" + bytes + " is negative (0 means unlimited)");
    }
    Kernels.setMemoryLimit(bytes);
  }

  /** The limit set by {@link #setMemoryLimit} or {@code FATHOM_MAX_MEMORY_MB}, in bytes; 0 when unlimited. */
  public static long memoryLimit() {
    return Kernels.memoryLimit();
  }
}
