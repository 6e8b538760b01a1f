package dev.fathom.internal.nativ;

import dev.fathom.FathomException;
import dev.fathom.bindings.fathom_gemm_params;
import dev.fathom.bindings.global.fathom;
import dev.fathom.bindings.global.fathom_bench;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;

/**
 * The only caller of the generated bindings: each method is one native call
 * followed by {@link #check}, which turns a non-OK status into an exception
 * carrying the native message.
 */
public final class Kernels {
  private Kernels() {}

  static {
    NativeLibrary.ensureLoaded();
  }

  /** Backend ids as in fathom_gemm_backend. */
  public static final int GEMM_AUTO = fathom.FATHOM_GEMM_AUTO;
  public static final int GEMM_REFERENCE = fathom.FATHOM_GEMM_REFERENCE;
  public static final int GEMM_OPENBLAS = fathom.FATHOM_GEMM_OPENBLAS;
  public static final int GEMM_ONEDNN = fathom.FATHOM_GEMM_ONEDNN;
  public static final int GEMM_CUDA = fathom.FATHOM_GEMM_CUDA;

  static void check(int status) {
    if (status != fathom.FATHOM_OK) {
      BytePointer message = fathom.fathom_last_error();
      String text = message == null ? "" : message.getString();
      throw new FathomException(
          FathomException.Status.of(status), text.isEmpty() ? "native call failed" : text);
    }
  }

  public static String runtimeInfo() {
    long[] needed = new long[1];
    check(fathom.fathom_runtime_info((byte[]) null, 0, needed));
    byte[] buf = new byte[(int) needed[0]];
    check(fathom.fathom_runtime_info(buf, buf.length, needed));
    int end = 0;
    while (end < buf.length && buf[end] != 0) {
      end++;
    }
    return new String(buf, 0, end, java.nio.charset.StandardCharsets.UTF_8);
  }

  public static void setNumThreads(int n) {
    check(fathom.fathom_set_num_threads(n));
  }

  public static int numThreads() {
    int[] out = new int[1];
    check(fathom.fathom_get_num_threads(out));
    return out[0];
  }

  public static void setMemoryLimit(long bytes) {
    check(fathom.fathom_set_memory_limit(bytes));
  }

  public static long memoryLimit() {
    long[] out = new long[1];
    check(fathom.fathom_memory_limit(out));
    return out[0];
  }

  /** Native copy of GEMM parameters; immutable once built, shareable across threads. */
  public static fathom_gemm_params gemmParams(
      boolean transA,
      boolean transB,
      long m,
      long n,
      long k,
      float alpha,
      float beta,
      long lda,
      long ldb,
      long ldc,
      long batch,
      long strideA,
      long strideB,
      long strideC) {
    fathom_gemm_params p = new fathom_gemm_params();
    p.trans_a(transA ? 1 : 0).trans_b(transB ? 1 : 0).m(m).n(n).k(k).alpha(alpha).beta(beta);
    p.lda(lda).ldb(ldb).ldc(ldc).batch(batch).stride_a(strideA).stride_b(strideB).stride_c(strideC);
    return p;
  }

  public static void sgemm(int backend, fathom_gemm_params p, float[] a, float[] b, float[] c) {
    check(
        fathom.fathom_sgemm(
            backend, p, a, a == null ? 0 : a.length, b, b == null ? 0 : b.length, c,
            c == null ? 0 : c.length));
  }

  /** Direct buffers only: the native side reads from each buffer's position. */
  public static void sgemm(
      int backend, fathom_gemm_params p, FloatBuffer a, FloatBuffer b, FloatBuffer c) {
    check(
        fathom.fathom_sgemm(
            backend, p, a, remaining(a), b, remaining(b), c, remaining(c)));
  }

  public static void dgemmReference(fathom_gemm_params p, double[] a, double[] b, double[] c) {
    check(
        fathom.fathom_dgemm_reference(
            p, a, a == null ? 0 : a.length, b, b == null ? 0 : b.length, c,
            c == null ? 0 : c.length));
  }

  /** Seconds for `iterations` back-to-back native calls made from C++ (benchmark baseline). */
  public static double sgemmTimed(
      int backend, fathom_gemm_params p, FloatBuffer a, FloatBuffer b, FloatBuffer c,
      int iterations) {
    DoubleBuffer seconds =
        ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder()).asDoubleBuffer();
    check(
        fathom_bench.fathom_sgemm_timed(
            backend, p, a, remaining(a), b, remaining(b), c, remaining(c), iterations, seconds));
    return seconds.get(0);
  }

  private static long remaining(FloatBuffer buf) {
    return buf == null ? 0 : buf.remaining();
  }
}
