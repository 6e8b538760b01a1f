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
  private long seed;
  private long offset;

  public Generator(long seed) {
    this.seed = seed;
  }

  /** The process-wide generator used when none is given (seeded with a constant). */
  public static Generator defaultGenerator() {
    return DEFAULT;
  }

  public synchronized long seed() {
    return seed;
  }

  public synchronized long offset() {
    return offset;
  }

  /** Puts the generator where {@link #seed()} and {@link #offset()} were read: the same draws follow. */
  public synchronized void setState(long seed, long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("Generator.setState: offset " + offset + " is negative");
    }
    this.seed = seed;
    this.offset = offset;
  }

  /** Reserves counters for `n` elements; returns {seed, first counter}, read together. */
  synchronized long[] reserve(long n) {
    long start = offset;
    // Normal draws use two uniforms per element: reserve room for both.
    offset = Math.addExact(offset, Math.max(1, 2 * n));
    return new long[] {seed, start};
  }
}
