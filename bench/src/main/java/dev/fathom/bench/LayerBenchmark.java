package dev.fathom.bench;

import dev.fathom.Fathom;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Forward and backward time of the LeNet and ResNet-18 layer shapes, measured
 * as tests/bench/pytorch_layers.py measures PyTorch (median of repetitions;
 * backward computes dL/dinput and dL/dweights). Prints RESULT JSON lines.
 */
public final class LayerBenchmark {
  private LayerBenchmark() {}

  record Layer(String name, String kind, long c, long h, long w, long k, int kernel, int stride, int pad) {}

  static final List<Layer> LAYERS = List.of(
      new Layer("lenet.conv1", "conv", 1, 28, 28, 6, 5, 1, 0),
      new Layer("lenet.pool1", "maxpool", 6, 24, 24, 0, 2, 2, 0),
      new Layer("lenet.conv2", "conv", 6, 12, 12, 16, 5, 1, 0),
      new Layer("resnet.conv1", "conv", 1, 96, 96, 64, 7, 2, 3),
      new Layer("resnet.bn1", "bn", 64, 48, 48, 0, 0, 0, 0),
      new Layer("resnet.pool", "maxpool", 64, 48, 48, 0, 3, 2, 1),
      new Layer("resnet.s1.conv", "conv", 64, 24, 24, 64, 3, 1, 1),
      new Layer("resnet.s2.conv_s2", "conv", 64, 24, 24, 128, 3, 2, 1),
      new Layer("resnet.s2.proj1x1", "conv", 64, 24, 24, 128, 1, 2, 0),
      new Layer("resnet.s2.conv", "conv", 128, 12, 12, 128, 3, 1, 1),
      new Layer("resnet.s3.conv_s2", "conv", 128, 12, 12, 256, 3, 2, 1),
      new Layer("resnet.s3.conv", "conv", 256, 6, 6, 256, 3, 1, 1),
      new Layer("resnet.s4.conv_s2", "conv", 256, 6, 6, 512, 3, 2, 1),
      new Layer("resnet.s4.conv", "conv", 512, 3, 3, 512, 3, 1, 1));

  /**
   * inRun: the input and the output gradient arrive in the layout a run of
   * layers keeps (Functional.inRunLayout), as for a layer inside a network;
   * otherwise NCHW, as for a lone call.
   */
  public static void run(long batch, boolean inRun, PrintStream out) {
    Generator g = new Generator(0);
    int reps = batch > 1 ? 10 : 50;
    for (Layer l : LAYERS) {
      try (Scope scope = Scope.open()) {
        Tensor x0 = Tensor.randn(g, batch, l.c(), l.h(), l.w());
        Tensor x = (inRun ? Functional.inRunLayout(x0) : x0).requiresGrad(true);
        Supplier<Tensor> f;
        if (l.kind().equals("conv")) {
          Tensor w = Tensor.randn(g, l.k(), l.c(), l.kernel(), l.kernel()).requiresGrad(true);
          Tensor b = Tensor.randn(g, l.k()).requiresGrad(true);
          f = () -> Functional.conv2d(x, w, b, l.stride(), l.pad());
        } else if (l.kind().equals("maxpool")) {
          f = () -> Functional.maxPool2d(x, l.kernel(), l.stride(), l.pad());
        } else {
          Tensor gamma = Tensor.ones(l.c()).requiresGrad(true);
          Tensor beta = Tensor.zeros(l.c()).requiresGrad(true);
          Tensor rm = Tensor.zeros(l.c());
          Tensor rv = Tensor.ones(l.c());
          f = () -> Functional.batchNorm(x, rm, rv, gamma, beta, true, 0.1, 1e-5);
        }
        // As pytorch_layers.py: two warm-up calls, then `reps` forward calls
        // in a row (no gradient), then `reps` backward passes, each after a
        // fresh forward. Interleaving them instead let the backward pass evict
        // the forward's operands from the cache (1.3 ms of s3's 29 ms).
        double[] fwd = new double[reps];
        double[] bwd = new double[reps];
        for (int r = -2; r < reps; r++) {
          try (Scope s = Scope.open(); GradMode.Guard ng = GradMode.disable()) {
            long t0 = System.nanoTime();
            f.get();
            if (r >= 0) {
              fwd[r] = (System.nanoTime() - t0) / 1e6;
            }
          }
        }
        for (int r = -2; r < reps; r++) {
          try (Scope s = Scope.open()) {
            Tensor y = f.get();
            Tensor seed = inRun ? Functional.inRunLayout(Tensor.ones(y.shape())) : Tensor.ones(y.shape());
            long t0 = System.nanoTime();
            y.backward(seed);
            if (r >= 0) {
              bwd[r] = (System.nanoTime() - t0) / 1e6;
            }
            x.zeroGrad();
          }
        }
        out.printf(Locale.ROOT, "RESULT {\"bench\": \"layer\", \"lib\": \"%s\", \"layer\": \"%s\", \"batch\": %d, "
                + "\"threads\": %d, \"forward_ms\": %.4f, \"backward_ms\": %.4f}%n", inRun ? "fathom-run" : "fathom",
            l.name(), batch, Fathom.numThreads(), median(fwd), median(bwd));
      }
    }
  }

  private static double median(double[] xs) {
    double[] s = xs.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
