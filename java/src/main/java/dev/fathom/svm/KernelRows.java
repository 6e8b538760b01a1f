package dev.fathom.svm;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rows {@code K(x_i, X)} of the training kernel matrix for the SMO solver, computed on
 * demand and kept in a bounded least-recently-used cache (LIBSVM's kernel cache). The
 * n x n matrix is never formed unless it fits the cache.
 *
 * <p>A miss on row i computes a block through {@link Kernel#block} (one GEMM of the
 * block's rows against X): row i plus, while the cache still has free slots, the other
 * uncached rows of i's aligned block of {@code blockRows}. A GEMM of b rows reads X once,
 * as one row does, so filling an empty cache this way costs about n / blockRows GEMMs
 * instead of n matrix-vector products. Once the cache is full a miss computes only the row
 * asked for, so speculative rows never evict rows in use.
 *
 * <p>Rows are double[] on the Java heap (the solver works in double); at most one block
 * [blockRows, n] lives in native memory at a time.
 */
final class KernelRows implements AutoCloseable {
  private final Kernel kernel;
  private final Tensor x;
  private final Tensor norms;
  private final int n;
  private final int blockRows;
  private final int capacity;
  private final double[] diagonal;
  private final LinkedHashMap<Integer, double[]> cache;
  private long hits;
  private long misses;
  private long computed;

  /** Rows of K(x, x); x [n, D] stays the caller's. The cache holds at most cacheBytes of rows (at least 2). */
  KernelRows(Kernel kernel, Tensor x, int blockRows, long cacheBytes) {
    this.kernel = kernel;
    this.x = x;
    this.n = Math.toIntExact(x.size(0));
    this.blockRows = blockRows;
    long rowBytes = 8L * n;
    this.capacity = (int) Math.max(2, Math.min(n, cacheBytes / rowBytes));
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      this.diagonal = kernel.diagonal(x).toDoubleArray();
      this.norms = Kernel.squaredNorms(x).unscope();
    }
    this.cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, double[]> eldest) {
        return size() > capacity;
      }
    };
  }

  int size() {
    return n;
  }

  /** k(x_i, x_i) for every i (the solver's Q_ii); do not modify. */
  double[] diagonal() {
    return diagonal;
  }

  /** Row i, K(x_i, x_j) for every j; do not modify. Stays valid after being evicted. */
  double[] row(int i) {
    double[] r = cache.get(i);
    if (r != null) {
      hits++;
      return r;
    }
    misses++;
    int free = capacity - cache.size();
    int start = i / blockRows * blockRows;
    int end = Math.min(n, start + blockRows);
    long[] rows = new long[Math.max(1, Math.min(free, end - start))];
    int count = 0;
    rows[count++] = i;
    for (int t = start; t < end && count < rows.length; t++) {
      if (t != i && !cache.containsKey(t)) {
        rows[count++] = t;
      }
    }
    double[] flat;
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor index = Tensor.fromArray(java.util.Arrays.copyOf(rows, count), count);
      flat = kernel.block(x.indexSelect(0, index), x, norms).toDoubleArray();
    }
    computed += count;
    // Row i goes in last, so it is the most recently used of the block.
    for (int k = count - 1; k >= 0; k--) {
      double[] row = new double[n];
      System.arraycopy(flat, k * n, row, 0, n);
      cache.put((int) rows[k], row);
      if (k == 0) {
        r = row;
      }
    }
    return r;
  }

  /** Cache statistics, for logging. */
  String stats() {
    return "kernel rows: " + hits + " hits, " + misses + " misses, " + computed + " rows computed, cache "
        + cache.size() + "/" + capacity + " rows";
  }

  long rowsComputed() {
    return computed;
  }

  @Override
  public void close() {
    norms.close();
    cache.clear();
  }
}
