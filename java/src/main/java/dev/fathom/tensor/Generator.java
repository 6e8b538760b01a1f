package dev.fathom.tensor;

/**
 * A seeded source of random tensors. Numbers come from a counter-based
 * generator (Philox) in native code: a draw of n elements uses counters
 * [offset, offset + n) and then advances the offset, so results depend only on
 * the seed and the sequence of draws, never on thread counts. Every seed,
 * 0 included, is a real seed.
 *
 * <pre>{@code
 * Generator g = new Generator(42);
 * Tensor w = Tensor.randn(g, 784, 256);
 * }</pre>
 */
public final class Generator {
  private static final Generator DEFAULT = new Generator(0x5eed_f47_40fL);
  private final long seed;
  private long offset;

  public Generator(long seed) {
    this.seed = seed;
  }

  /** The process-wide generator used when none is given (seeded with a constant). */
  public static Generator defaultGenerator() {
    return DEFAULT;
  }

  public long seed() {
    return seed;
  }

  public synchronized long offset() {
    return offset;
  }

  /** Reserves `n` counters and returns the first. */
  synchronized long next(long n) {
    long start = offset;
    // Normal draws use two uniforms per element: reserve room for both.
    offset = Math.addExact(offset, Math.max(1, 2 * n));
    return start;
  }
}
