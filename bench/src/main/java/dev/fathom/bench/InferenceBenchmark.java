package dev.fathom.bench;

import dev.fathom.Fathom;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.nn.Module;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Inference latency measured as ../shared/bench/pytorch/infer_bench.py does:
 * eval mode, no graph, input = the first B test images (resized if needed),
 * 5 warm-up calls, then calls for about 3 s (at least 10); median ms per call.
 */
public final class InferenceBenchmark {
  private InferenceBenchmark() {}

  public static void run(PrintStream out) {
    String[][] configs = {{"lenet", "28"}, {"lenet-bn", "28"}, {"resnet18", "28"}, {"resnet18", "96"}};
    try (TensorDataset test = FashionMnist.load(FashionMnist.Split.TEST)) {
      for (String[] c : configs) {
        int size = Integer.parseInt(c[1]);
        try (Module net = Models.create(c[0], 10, new Generator(0))) {
          net.eval();
          for (int batch : new int[] {1, 256}) {
            try (Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
              Tensor x = test.features().narrow(0, 0, batch);
              if (size != FashionMnist.SIZE) {
                x = Functional.resizeBilinear(x, size, size);
              }
              Tensor input = x.contiguous();
              for (int i = 0; i < 5; i++) {
                try (Scope call = Scope.open()) {
                  net.forward(input);
                }
              }
              double[] ms = new double[100_000];
              int n = 0;
              long end = System.nanoTime() + 3_000_000_000L;
              while ((n < 10 || System.nanoTime() < end) && n < ms.length) {
                long t0 = System.nanoTime();
                try (Scope call = Scope.open()) {
                  net.forward(input);
                }
                ms[n++] = (System.nanoTime() - t0) / 1e6;
              }
              double[] sorted = Arrays.copyOf(ms, n);
              Arrays.sort(sorted);
              out.printf(Locale.ROOT, "RESULT {\"bench\": \"fathom_infer\", \"model\": \"%s\", \"size\": %d, "
                      + "\"batch\": %d, \"threads\": %d, \"calls\": %d, \"latency_ms_median\": %.4f}%n",
                  c[0], size, batch, Fathom.numThreads(), n, sorted[n / 2]);
            }
          }
        }
      }
    }
  }
}
