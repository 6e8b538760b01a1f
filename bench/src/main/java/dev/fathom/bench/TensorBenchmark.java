package dev.fathom.bench;

import dev.fathom.Fathom;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.linalg.Gemm;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Locale;

/**
 * Tensor-path costs, each next to a baseline measured in the same run:
 * dispatch overhead of a tiny op (Java call to result), elementwise GB/s of
 * add/relu/exp on 16M floats vs a plain single-threaded C++ loop over the same
 * memory, and Tensor.matmul vs the Gemm call on the same shapes.
 */
public final class TensorBenchmark {
  private TensorBenchmark() {}

  public static void run(boolean quick, PrintStream out) {
    out.printf(Locale.ROOT, "Tensor benchmark: %d threads%n", Fathom.numThreads());
    dispatch(out, quick ? 200_000 : 1_000_000);
    elementwise(out, quick ? 4L << 20 : 16L << 20, quick ? 5 : 10);
    matmul(out, quick);
  }

  static void dispatch(PrintStream out, int iters) {
    try (Tensor a = Tensor.ones(8); Tensor b = Tensor.ones(8)) {
      double[] ns = new double[5];
      for (int s = 0; s < ns.length; s++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < iters; i++) {
          a.add(b).close();
        }
        ns[s] = (System.nanoTime() - t0) / (double) iters;
      }
      double[] scoped = new double[5];
      for (int s = 0; s < scoped.length; s++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < iters / 100; i++) {
          try (Scope scope = Scope.open()) {
            for (int j = 0; j < 100; j++) {
              a.add(b);
            }
          }
        }
        scoped[s] = (System.nanoTime() - t0) / (double) (iters / 100 * 100);
      }
      out.printf(Locale.ROOT, "dispatch: add on 8 floats, call to result incl. free: %.0f ns"
          + " (in a scope of 100 ops: %.0f ns)%n", median(ns), median(scoped));
    }
  }

  static void elementwise(PrintStream out, long n, int iters) {
    Generator g = new Generator(1);
    try (Tensor a = Tensor.randn(g, n); Tensor b = Tensor.randn(g, n); Tensor c = Tensor.empty(
        dev.fathom.tensor.DType.FLOAT32, n)) {
      out.printf(Locale.ROOT, "%-8s %14s %16s %8s%n", "op", "Tensor GB/s", "plain C++ GB/s", "ratio");
      String[] names = {"add", "relu", "exp"};
      for (String name : names) {
        double bytes = (name.equals("add") ? 3.0 : 2.0) * 4 * n;
        double[] tj = new double[iters];
        double[] tc = new double[iters];
        for (int s = 0; s < iters; s++) {
          long t0 = System.nanoTime();
          Tensor r = name.equals("add") ? a.add(b) : name.equals("relu") ? a.relu() : a.exp();
          tj[s] = (System.nanoTime() - t0) / 1e9;
          r.close();
          boolean unary = !name.equals("add");
          int op = name.equals("add") ? TensorKernels.BINARY_ADD
              : name.equals("relu") ? TensorKernels.UNARY_RELU : TensorKernels.UNARY_EXP;
          tc[s] = TensorKernels.benchPlainLoop(unary, op, addressOf(a), addressOf(b), addressOf(c), n, 1);
        }
        double gj = bytes / median(tj) / 1e9;
        double gc = bytes / median(tc) / 1e9;
        out.printf(Locale.ROOT, "%-8s %14.1f %16.1f %8.2f%n", name, gj, gc, gj / gc);
      }
    }
  }

  static void matmul(PrintStream out, boolean quick) {
    long[][] shapes = quick ? new long[][] {{256, 256, 784}, {512, 512, 512}}
        : new long[][] {{256, 256, 784}, {512, 512, 512}, {1024, 1024, 1024}, {64, 64, 64}};
    out.printf(Locale.ROOT, "%-14s %14s %12s %8s%n", "matmul MxNxK", "Tensor GF/s", "Gemm GF/s", "ratio");
    Generator g = new Generator(2);
    for (long[] s : shapes) {
      long m = s[0], n = s[1], k = s[2];
      try (Tensor a = Tensor.randn(g, m, k); Tensor b = Tensor.randn(g, k, n)) {
        Gemm gemm = Gemm.builder(m, n, k).build();
        FloatBuffer fa = GemmBenchmark.randomDirect(m * k, 1);
        FloatBuffer fb = GemmBenchmark.randomDirect(k * n, 2);
        FloatBuffer fc = GemmBenchmark.randomDirect(m * n, 3);
        double flops = 2.0 * m * n * k;
        int iters = (int) Math.max(3, Math.min(2000, 2e10 / flops / (quick ? 4 : 1)));
        double[] tt = new double[5];
        double[] tg = new double[5];
        for (int rep = 0; rep < 5; rep++) {
          long t0 = System.nanoTime();
          for (int i = 0; i < iters; i++) {
            a.matmul(b).close();
          }
          tt[rep] = (System.nanoTime() - t0) / 1e9 / iters;
          t0 = System.nanoTime();
          for (int i = 0; i < iters; i++) {
            gemm.compute(fa, fb, fc);
          }
          tg[rep] = (System.nanoTime() - t0) / 1e9 / iters;
        }
        double gt = flops / median(tt) / 1e9;
        double gg = flops / median(tg) / 1e9;
        out.printf(Locale.ROOT, "%-14s %14.1f %12.1f %8.3f%n", m + "x" + n + "x" + k, gt, gg, gt / gg);
      }
    }
  }

  private static long addressOf(Tensor t) {
    return dev.fathom.tensor.TensorAccess.address(t);
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
