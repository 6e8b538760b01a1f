package dev.fathom.bench;

import dev.fathom.Fathom;
import dev.fathom.RuntimeInfo;
import dev.fathom.linalg.Gemm;
import dev.fathom.linalg.GemmBackend;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GEMM throughput through the Java API next to the same call made in a C++ loop
 * (fathom_sgemm_timed), on the same direct buffers, threads and process, for
 * both backends. Java and native samples alternate so that machine noise hits
 * both alike; the ratio is what to read, not the absolute GFLOPS.
 *
 * <p>Shapes: square n = 64..2048 and the MLP layer 256x784x256 (batch 256 rows,
 * 784 inputs, 256 outputs); a tiny 4x4x4 product measures the fixed per-call
 * overhead of the Java path (Java time minus native time per call).
 */
public final class GemmBenchmark {
  private static final double SAMPLE_SECONDS = 0.25;

  private GemmBenchmark() {}

  /** One measured shape/backend pair. */
  public record Result(
      String shape, GemmBackend backend, double javaGflops, double nativeGflops,
      double javaNanosPerCall, double nativeNanosPerCall) {
    double ratio() {
      return javaGflops / nativeGflops;
    }
  }

  public static List<Result> run(boolean quick, int samples, PrintStream out) {
    RuntimeInfo info = Fathom.runtimeInfo();
    out.printf(Locale.ROOT, "GEMM benchmark: %d threads, oneDNN %s (%s), OpenBLAS core %s, "
            + "OPENBLAS_CORETYPE=%s%n",
        Fathom.numThreads(), info.oneDnnVersion(), info.oneDnnIsa(), info.openBlasCore(),
        info.get("env.OPENBLAS_CORETYPE").isEmpty() ? "(unset)" : info.get("env.OPENBLAS_CORETYPE"));
    List<long[]> shapes = new ArrayList<>();
    shapes.add(new long[] {4, 4, 4});
    for (long n : quick ? new long[] {64, 256, 512} : new long[] {64, 128, 256, 512, 1024, 2048}) {
      shapes.add(new long[] {n, n, n});
    }
    shapes.add(new long[] {256, 256, 784});
    out.printf(Locale.ROOT, "%-14s %-9s %12s %12s %8s %14s%n",
        "shape(MxNxK)", "backend", "java GF/s", "native GF/s", "ratio", "overhead ns");
    List<Result> results = new ArrayList<>();
    for (long[] s : shapes) {
      for (GemmBackend backend : new GemmBackend[] {GemmBackend.OPENBLAS, GemmBackend.ONEDNN}) {
        Result r = measure(s[0], s[1], s[2], backend, samples);
        results.add(r);
        out.printf(Locale.ROOT, "%-14s %-9s %12.1f %12.1f %8.3f %14.0f%n", r.shape(), backend,
            r.javaGflops(), r.nativeGflops(), r.ratio(),
            r.javaNanosPerCall() - r.nativeNanosPerCall());
      }
    }
    return results;
  }

  public static Result measure(long m, long n, long k, GemmBackend backend, int samples) {
    Gemm g = Gemm.builder(m, n, k).backend(backend).build();
    FloatBuffer a = randomDirect(g.requiredA(), 1);
    FloatBuffer b = randomDirect(g.requiredB(), 2);
    FloatBuffer c = randomDirect(g.requiredC(), 3);
    for (int i = 0; i < 3; i++) {
      g.compute(a, b, c);
    }
    long t0 = System.nanoTime();
    g.compute(a, b, c);
    double one = Math.max(1e-7, (System.nanoTime() - t0) / 1e9);
    int iters = (int) Math.max(1, Math.min(5_000_000, SAMPLE_SECONDS / one));
    double[] javaSec = new double[samples];
    double[] nativeSec = new double[samples];
    for (int s = 0; s < samples; s++) {
      long start = System.nanoTime();
      for (int i = 0; i < iters; i++) {
        g.compute(a, b, c);
      }
      javaSec[s] = (System.nanoTime() - start) / 1e9 / iters;
      nativeSec[s] = g.timeNative(a, b, c, iters) / iters;
    }
    double j = median(javaSec);
    double nat = median(nativeSec);
    return new Result(m + "x" + n + "x" + k, backend, g.flops() / j / 1e9, g.flops() / nat / 1e9,
        j * 1e9, nat * 1e9);
  }

  static FloatBuffer randomDirect(long elements, long seed) {
    FloatBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(Math.max(1, elements) * 4))
        .order(ByteOrder.nativeOrder()).asFloatBuffer();
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = 0; i < buf.capacity(); i++) {
      buf.put(i, (float) (rnd.nextDouble() * 2 - 1));
    }
    return buf;
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Appends one JSON line per result (for ci/bench-gemm.sh and later comparison). */
  public static void writeJsonLines(List<Result> results, Path file) throws IOException {
    try (Writer w = Files.newBufferedWriter(file, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND)) {
      for (Result r : results) {
        w.write(String.format(Locale.ROOT,
            "{\"bench\":\"fathom_sgemm\",\"shape\":\"%s\",\"backend\":\"%s\",\"threads\":%d,"
                + "\"java_gflops\":%.3f,\"native_gflops\":%.3f,\"ratio\":%.4f,"
                + "\"java_ns_per_call\":%.1f,\"native_ns_per_call\":%.1f}%n",
            r.shape(), r.backend(), Fathom.numThreads(), r.javaGflops(), r.nativeGflops(),
            r.ratio(), r.javaNanosPerCall(), r.nativeNanosPerCall()));
      }
    }
  }
}
