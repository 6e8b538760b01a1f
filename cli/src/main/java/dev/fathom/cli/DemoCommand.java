package dev.fathom.cli;

import dev.fathom.Fathom;
import dev.fathom.bench.GemmBenchmark;
import dev.fathom.linalg.Gemm;
import dev.fathom.linalg.GemmBackend;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code fathom demo}: runtime info, a small GEMM and its throughput. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Runtime info, a small GEMM and its throughput on both backends.")
final class DemoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.println("== Fathom runtime ==");
    System.out.print(Fathom.runtimeInfo());
    System.out.println("== GEMM demo ==");
    Gemm small = Gemm.builder(2, 2, 3).build();
    float[] c = new float[4];
    small.compute(new float[] {1, 2, 3, 4, 5, 6}, new float[] {1, 0, 0, 1, 1, 1}, c);
    System.out.println("[[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,1]] = " + Arrays.toString(c));
    for (GemmBackend backend : new GemmBackend[] {GemmBackend.OPENBLAS, GemmBackend.ONEDNN}) {
      GemmBenchmark.Result r = GemmBenchmark.measure(512, 512, 512, backend, 3);
      System.out.printf(Locale.ROOT, "512x512x512 sgemm on %-8s : %7.1f GFLOP/s (Java API)%n",
          backend, r.javaGflops());
    }
    return 0;
  }
}
