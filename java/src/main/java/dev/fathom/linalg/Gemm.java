package dev.fathom.linalg;

import dev.fathom.internal.nativ.Kernels;
import dev.fathom.bindings.fathom_gemm_params;
import java.nio.FloatBuffer;

/**
 * A row-major, optionally batched matrix product, computed natively:
 * {@code C[i] = alpha * op(A[i]) * op(B[i]) + beta * C[i]} for each batch entry i,
 * where op(A) is (m,k) and op(B) is (k,n), each optionally stored transposed.
 *
 * <p>A {@code Gemm} is an immutable description; build it once and call
 * {@code compute} as often as you like, from any number of threads.
 *
 * <pre>{@code
 * Gemm g = Gemm.builder(2, 2, 3).build();          // (2x3) * (3x2)
 * float[] c = new float[4];
 * g.compute(new float[] {1, 2, 3, 4, 5, 6}, new float[] {1, 0, 0, 1, 1, 1}, c);
 * // c = {4, 5, 10, 11}
 * }</pre>
 *
 * <p>Leading dimensions default to the tight row length of each stored matrix and
 * batch strides to the tight matrix size; a batch stride of 0 for A or B reuses
 * one matrix for every entry. With beta == 0, C is only written, never read.
 * Float arrays are copied in and out by JNI; direct {@link FloatBuffer}s are
 * used in place (from their position), which is the fast path for large data.
 */
public final class Gemm {
  private final boolean transA;
  private final boolean transB;
  private final long m;
  private final long n;
  private final long k;
  private final float alpha;
  private final float beta;
  private final long lda;
  private final long ldb;
  private final long ldc;
  private final long batch;
  private final long strideA;
  private final long strideB;
  private final long strideC;
  private final GemmBackend backend;
  private final fathom_gemm_params params;

  private Gemm(Builder b) {
    this.transA = b.transA;
    this.transB = b.transB;
    this.m = b.m;
    this.n = b.n;
    this.k = b.k;
    this.alpha = b.alpha;
    this.beta = b.beta;
    this.lda = b.lda >= 0 ? b.lda : Math.max(1, transA ? m : k);
    this.ldb = b.ldb >= 0 ? b.ldb : Math.max(1, transB ? k : n);
    this.ldc = b.ldc >= 0 ? b.ldc : Math.max(1, n);
    this.batch = b.batch;
    this.strideA = b.strideA >= 0 ? b.strideA : (transA ? k : m) * this.lda;
    this.strideB = b.strideB >= 0 ? b.strideB : (transB ? n : k) * this.ldb;
    this.strideC = b.strideC >= 0 ? b.strideC : m * this.ldc;
    this.backend = b.backend;
    this.params =
        Kernels.gemmParams(
            transA, transB, m, n, k, alpha, beta, lda, ldb, ldc, batch, strideA, strideB, strideC);
  }

  /** A product of op(A) (m,k) and op(B) (k,n) into C (m,n). */
  public static Builder builder(long m, long n, long k) {
    return new Builder(m, n, k);
  }

  /** Computes into {@code c}; arrays must hold at least {@link #requiredA()} etc. elements. */
  public void compute(float[] a, float[] b, float[] c) {
    Kernels.sgemm(backend.id, params, a, b, c);
  }

  /**
   * Computes into {@code c}, using each buffer from its position on. Direct
   * buffers are used in place; heap buffers go through their backing array.
   */
  public void compute(FloatBuffer a, FloatBuffer b, FloatBuffer c) {
    if (a != null && b != null && c != null
        && !(a.isDirect() && b.isDirect() && c.isDirect())) {
      computeHeap(a, b, c);
      return;
    }
    Kernels.sgemm(backend.id, params, a, b, c);
  }

  private void computeHeap(FloatBuffer a, FloatBuffer b, FloatBuffer c) {
    if (c.isReadOnly()) {
      throw new IllegalArgumentException("gemm: output buffer c is read-only");
    }
    float[] ha = toArray(a);
    float[] hb = toArray(b);
    float[] hc = toArray(c);
    Kernels.sgemm(backend.id, params, ha, hb, hc);
    c.duplicate().put(hc);
  }

  private static float[] toArray(FloatBuffer buf) {
    float[] out = new float[buf.remaining()];
    buf.duplicate().get(out);
    return out;
  }

  /** Elements A must hold. */
  public long requiredA() {
    return required(strideA, transA ? k : m, transA ? m : k, lda);
  }

  public long requiredB() {
    return required(strideB, transB ? n : k, transB ? k : n, ldb);
  }

  public long requiredC() {
    return required(strideC, m, n, ldc);
  }

  private long required(long stride, long rows, long cols, long ld) {
    if (batch == 0 || rows == 0 || cols == 0) {
      return 0;
    }
    return (batch - 1) * stride + (rows - 1) * ld + cols;
  }

  /** Floating-point operations of one compute call (2 m n k per batch entry). */
  public double flops() {
    return 2.0 * m * n * k * batch;
  }

  public GemmBackend backend() {
    return backend;
  }

  /** The same product on another backend. */
  public Gemm withBackend(GemmBackend other) {
    return toBuilder().backend(other).build();
  }

  public Builder toBuilder() {
    Builder b = new Builder(m, n, k);
    b.transA = transA;
    b.transB = transB;
    b.alpha = alpha;
    b.beta = beta;
    b.lda = lda;
    b.ldb = ldb;
    b.ldc = ldc;
    b.batch = batch;
    b.strideA = strideA;
    b.strideB = strideB;
    b.strideC = strideC;
    b.backend = backend;
    return b;
  }

  /** The double-precision reference result for the same parameters (tests, debugging). */
  public void computeReference(double[] a, double[] b, double[] c) {
    Kernels.dgemmReference(params, a, b, c);
  }

  /** Seconds for {@code iterations} calls made in a C++ loop: the benchmark baseline. */
  public double timeNative(FloatBuffer a, FloatBuffer b, FloatBuffer c, int iterations) {
    return Kernels.sgemmTimed(backend.id, params, a, b, c, iterations);
  }

  @Override
  public String toString() {
    return "Gemm[m=" + m + ", n=" + n + ", k=" + k + ", transA=" + transA + ", transB=" + transB
        + ", alpha=" + alpha + ", beta=" + beta + ", lda=" + lda + ", ldb=" + ldb + ", ldc=" + ldc
        + ", batch=" + batch + ", strides=" + strideA + "/" + strideB + "/" + strideC
        + ", backend=" + backend + "]";
  }

  /** Builder; sizes are checked by {@link #build()}, buffers by {@code compute}. */
  public static final class Builder {
    private final long m;
    private final long n;
    private final long k;
    private boolean transA;
    private boolean transB;
    private float alpha = 1f;
    private float beta = 0f;
    private long lda = -1;
    private long ldb = -1;
    private long ldc = -1;
    private long batch = 1;
    private long strideA = -1;
    private long strideB = -1;
    private long strideC = -1;
    private GemmBackend backend = GemmBackend.AUTO;

    private Builder(long m, long n, long k) {
      this.m = m;
      this.n = n;
      this.k = k;
    }

    /** A is stored (k,m) and used transposed. */
    public Builder transposeA() {
      return transposeA(true);
    }

    public Builder transposeA(boolean t) {
      this.transA = t;
      return this;
    }

    /** B is stored (n,k) and used transposed. */
    public Builder transposeB() {
      return transposeB(true);
    }

    public Builder transposeB(boolean t) {
      this.transB = t;
      return this;
    }

    public Builder alpha(float alpha) {
      this.alpha = alpha;
      return this;
    }

    public Builder beta(float beta) {
      this.beta = beta;
      return this;
    }

    /** Row strides of the stored A, B and C. */
    public Builder leadingDimensions(long lda, long ldb, long ldc) {
      this.lda = lda;
      this.ldb = ldb;
      this.ldc = ldc;
      return this;
    }

    public Builder batch(long batch) {
      this.batch = batch;
      return this;
    }

    /** Element distance between consecutive batch entries; 0 for A or B shares one matrix. */
    public Builder batchStrides(long strideA, long strideB, long strideC) {
      this.strideA = strideA;
      this.strideB = strideB;
      this.strideC = strideC;
      return this;
    }

    public Builder backend(GemmBackend backend) {
      if (backend == null) {
        throw new IllegalArgumentException("gemm: backend is null");
      }
      this.backend = backend;
      return this;
    }

    public Gemm build() {
      if (m < 0 || n < 0 || k < 0 || batch < 0) {
        throw new IllegalArgumentException(
            "gemm: negative dimension (m=" + m + " n=" + n + " k=" + k + " batch=" + batch + ")");
      }
      if (!Float.isFinite(alpha) || !Float.isFinite(beta)) {
        throw new IllegalArgumentException(
            "gemm: alpha and beta must be finite (alpha=" + alpha + " beta=" + beta + ")");
      }
      Gemm g = new Gemm(this);
      // Leading dimensions and strides are checked once more natively, against the buffers.
      long aCols = g.transA ? m : k;
      long bCols = g.transB ? k : n;
      if (g.lda < Math.max(1, aCols) || g.ldb < Math.max(1, bCols) || g.ldc < Math.max(1, n)) {
        throw new IllegalArgumentException(
            "gemm: leading dimension smaller than a stored row (" + g + ")");
      }
      if (g.strideA < 0 || g.strideB < 0 || g.strideC < 0) {
        throw new IllegalArgumentException("gemm: negative batch stride (" + g + ")");
      }
      return g;
    }
  }
}
