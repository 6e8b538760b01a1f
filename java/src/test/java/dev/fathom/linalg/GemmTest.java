package dev.fathom.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.FathomException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The Java path against the f64 reference and hand-computed results. */
class GemmTest {
  static final GemmBackend[] CPU_BACKENDS = {
    GemmBackend.REFERENCE, GemmBackend.OPENBLAS, GemmBackend.ONEDNN, GemmBackend.AUTO
  };

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (GemmBackend be : CPU_BACKENDS) {
      out.add(Arguments.of(be, Gemm.builder(1, 1, 1).backend(be).build()));
      out.add(Arguments.of(be, Gemm.builder(1, 33, 17).backend(be).build()));
      out.add(Arguments.of(be, Gemm.builder(17, 33, 65).transposeA().backend(be).build()));
      out.add(Arguments.of(be, Gemm.builder(17, 33, 65).transposeB().alpha(-2f).beta(0.5f)
          .backend(be).build()));
      out.add(Arguments.of(be, Gemm.builder(9, 10, 11).transposeA().transposeB().batch(3)
          .beta(1f).backend(be).build()));
      out.add(Arguments.of(be, Gemm.builder(5, 12, 9).batch(4).batchStrides(45, 0, 60)
          .backend(be).build()));
      out.add(Arguments.of(be, Gemm.builder(7, 6, 5).leadingDimensions(8, 9, 10).beta(0.25f)
          .backend(be).build()));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void matchesReference(GemmBackend backend, Gemm g) {
    SplittableRandom rnd = new SplittableRandom(42);
    float[] a = random(g.requiredA(), rnd);
    float[] b = random(g.requiredB(), rnd);
    float[] c = random(g.requiredC(), rnd);
    double[] expected = toDouble(c);
    g.computeReference(toDouble(a), toDouble(b), expected);
    g.compute(a, b, c);
    for (int i = 0; i < c.length; i++) {
      assertEquals(expected[i], c[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i + " " + g);
    }
  }

  @Test
  void handComputedProduct() {
    float[] c = new float[4];
    Gemm.builder(2, 2, 3).build()
        .compute(new float[] {1, 2, 3, 4, 5, 6}, new float[] {1, 0, 0, 1, 1, 1}, c);
    assertArrayEquals(new float[] {4, 5, 10, 11}, c);
  }

  @Test
  void directBuffersAreUsedFromTheirPosition() {
    Gemm g = Gemm.builder(2, 2, 3).backend(GemmBackend.ONEDNN).build();
    FloatBuffer a = direct(new float[] {99, 99, 1, 2, 3, 4, 5, 6});
    FloatBuffer b = direct(new float[] {1, 0, 0, 1, 1, 1});
    FloatBuffer c = direct(new float[] {-1, 0, 0, 0, 0});
    a.position(2);
    c.position(1);
    g.compute(a, b, c);
    assertEquals(-1f, c.get(0));
    assertEquals(4f, c.get(1));
    assertEquals(11f, c.get(4));
  }

  @Test
  void heapBuffersWork() {
    Gemm g = Gemm.builder(2, 2, 3).build();
    FloatBuffer c = FloatBuffer.allocate(4);
    g.compute(FloatBuffer.wrap(new float[] {1, 2, 3, 4, 5, 6}),
        FloatBuffer.wrap(new float[] {1, 0, 0, 1, 1, 1}), c);
    assertArrayEquals(new float[] {4, 5, 10, 11}, c.array());
  }

  @Test
  void tooSmallArrayIsAJavaExceptionNamingTheSizes() {
    Gemm g = Gemm.builder(4, 5, 6).build();
    FathomException e = assertThrows(FathomException.class,
        () -> g.compute(new float[24], new float[29], new float[20]));
    assertEquals(FathomException.Status.INVALID_ARGUMENT, e.status());
    assertTrue(e.getMessage().contains("sgemm: b holds 29 elements but 30 are required"),
        e.getMessage());
    assertTrue(e.getMessage().contains("m=4 n=5 k=6"), e.getMessage());
  }

  @Test
  void tooSmallDirectBufferIsRefused() {
    Gemm g = Gemm.builder(8, 8, 8).build();
    FloatBuffer a = direct(new float[64]);
    a.position(1);  // 63 remaining
    FathomException e = assertThrows(FathomException.class,
        () -> g.compute(a, direct(new float[64]), direct(new float[64])));
    assertTrue(e.getMessage().contains("a holds 63 elements"), e.getMessage());
  }

  @Test
  void nullBufferIsRefused() {
    Gemm g = Gemm.builder(2, 2, 2).build();
    FathomException e = assertThrows(FathomException.class,
        () -> g.compute(null, new float[4], new float[4]));
    assertTrue(e.getMessage().contains("sgemm: a is null"), e.getMessage());
  }

  @Test
  void negativeDimensionsAreRefusedBeforeNativeCode() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Gemm.builder(2, -1, 2).build());
    assertTrue(e.getMessage().contains("gemm: negative dimension (m=2 n=-1 k=2"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Gemm.builder(3, 3, 3).leadingDimensions(2, 3, 3).build());
    assertThrows(IllegalArgumentException.class,
        () -> Gemm.builder(3, 3, 3).alpha(Float.NaN).build());
  }

  @Test
  void readOnlyOutputIsRefused() {
    Gemm g = Gemm.builder(1, 1, 1).build();
    assertThrows(IllegalArgumentException.class, () -> g.compute(FloatBuffer.allocate(1),
        FloatBuffer.allocate(1), FloatBuffer.allocate(1).asReadOnlyBuffer()));
  }

  @Test
  void cudaWithoutGpuIsUnsupported() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dev.fathom.Fathom.runtimeInfo().cudaDevices() == 0, "a GPU is present");
    Gemm g = Gemm.builder(2, 2, 2).backend(GemmBackend.CUDA).build();
    FathomException e = assertThrows(FathomException.class,
        () -> g.compute(new float[4], new float[4], new float[4]));
    assertEquals(FathomException.Status.UNSUPPORTED, e.status());
  }

  @Test
  void manyJvmThreadsShareOneGemmSafely() throws Exception {
    Gemm g = Gemm.builder(64, 48, 80).transposeB().backend(GemmBackend.AUTO).build();
    SplittableRandom rnd = new SplittableRandom(7);
    float[] a = random(g.requiredA(), rnd);
    float[] b = random(g.requiredB(), rnd);
    double[] expected = new double[(int) g.requiredC()];
    g.computeReference(toDouble(a), toDouble(b), expected);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        results.add(pool.submit(() -> {
          float[] c = new float[(int) g.requiredC()];
          for (int i = 0; i < 50; i++) {
            g.compute(a, b, c);
            for (int j = 0; j < c.length; j++) {
              if (Math.abs(c[j] - expected[j]) > 1e-4 * (1 + Math.abs(expected[j]))) {
                return false;
              }
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> f : results) {
        assertTrue(f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  static float[] random(long n, SplittableRandom rnd) {
    float[] out = new float[Math.toIntExact(n)];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return out;
  }

  static double[] toDouble(float[] x) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i];
    }
    return out;
  }

  static FloatBuffer direct(float[] values) {
    FloatBuffer buf = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
    buf.put(values).flip();
    return buf;
  }
}
