package dev.fathom.cli;

import dev.fathom.Fathom;
import dev.fathom.FathomException;
import dev.fathom.bench.GemmBenchmark;
import dev.fathom.linalg.Gemm;
import dev.fathom.linalg.GemmBackend;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code ./fathom} command line. Commands: {@code info}, {@code demo},
 * {@code bench gemm [--quick] [--samples N] [--out FILE]}. Global option:
 * {@code --threads T}. Exit codes: 0 ok, 2 bad arguments, 1 failure.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] rawArgs) {
    List<String> args = new java.util.ArrayList<>(Arrays.asList(rawArgs));
    try {
      Integer threads = intOption(args, "--threads");
      if (threads != null) {
        Fathom.setNumThreads(threads);
      }
      if (args.isEmpty() || args.get(0).equals("help") || args.get(0).equals("--help")) {
        usage();
        return args.isEmpty() ? 2 : 0;
      }
      String command = args.remove(0);
      switch (command) {
        case "info":
          System.out.print(Fathom.runtimeInfo());
          return 0;
        case "demo":
          demo();
          return 0;
        case "bench":
          return bench(args);
        case "train":
          return TrainCommand.run(args);
        case "example":
          return Examples.run(args);
        case "generate":
          return LanguageModelCommands.generate(args);
        case "ngram":
          return LanguageModelCommands.ngram(args);
        case "summary": {
          Args a = new Args("summary", args, List.of("--model", "--classes", "--channels", "--size"), List.of());
          String model = a.string("--model", null);
          if (model == null) {
            throw new IllegalArgumentException("summary: --model is required (one of " + dev.fathom.zoo.Models.NAMES + ")");
          }
          int size = a.integer("--size", dev.fathom.zoo.Models.inputSize(model), 8);
          long channels = a.integer("--channels", 1, 1);
          try (dev.fathom.nn.Module net = dev.fathom.zoo.Models.create(model, a.integer("--classes", 10, 1), channels,
              size, new dev.fathom.tensor.Generator(0))) {
            System.out.print(net.summary(channels, size, size));
          }
          return 0;
        }
        default:
          System.err.println("fathom: unknown command '" + command + "'");
          usage();
          return 2;
      }
    } catch (IllegalArgumentException e) {
      System.err.println("fathom: " + e.getMessage());
      return 2;
    } catch (java.io.UncheckedIOException e) {
      System.err.println("fathom: " + e.getMessage());
      return 1;
    } catch (FathomException e) {
      System.err.println("fathom: " + e.status() + ": " + e.getMessage());
      return 1;
    } catch (Exception e) {
      System.err.println("fathom: " + e);
      return 1;
    }
  }

  private static void demo() {
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
  }

  private static int bench(List<String> args) throws Exception {
    if (!args.isEmpty() && args.get(0).equals("infer")) {
      dev.fathom.bench.InferenceBenchmark.run(System.out);
      return 0;
    }
    if (!args.isEmpty() && args.get(0).equals("layers")) {
      Args a = new Args("bench layers", args.subList(1, args.size()), List.of("--batch"), List.of());
      dev.fathom.bench.LayerBenchmark.run(a.integer("--batch", 256, 1), System.out);
      return 0;
    }
    if (!args.isEmpty() && args.get(0).equals("train")) {
      Args a = new Args("bench train", args.subList(1, args.size()), List.of("--model", "--iters"), List.of());
      dev.fathom.bench.TrainBenchmark.run(a.string("--model", "mlp"), a.integer("--iters", 200, 10), System.out);
      return 0;
    }
    if (!args.isEmpty() && args.get(0).equals("tensor")) {
      args.remove(0);
      boolean quick = args.remove("--quick");
      if (!args.isEmpty()) {
        throw new IllegalArgumentException("bench tensor: unknown arguments " + args);
      }
      dev.fathom.bench.TensorBenchmark.run(quick, System.out);
      return 0;
    }
    if (args.isEmpty() || !args.get(0).equals("gemm")) {
      throw new IllegalArgumentException("bench: expected 'gemm' or 'tensor', got " + args);
    }
    args.remove(0);
    boolean quick = args.remove("--quick");
    Integer samples = intOption(args, "--samples");
    String out = stringOption(args, "--out");
    if (!args.isEmpty()) {
      throw new IllegalArgumentException("bench gemm: unknown arguments " + args);
    }
    List<GemmBenchmark.Result> results =
        GemmBenchmark.run(quick, samples == null ? 5 : samples, System.out);
    if (out != null) {
      GemmBenchmark.writeJsonLines(results, Path.of(out));
    }
    return 0;
  }

  private static Integer intOption(List<String> args, String name) {
    String v = stringOption(args, name);
    if (v == null) {
      return null;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " expects an integer, got '" + v + "'");
    }
  }

  private static String stringOption(List<String> args, String name) {
    int i = args.indexOf(name);
    if (i < 0) {
      return null;
    }
    if (i + 1 >= args.size()) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    String v = args.get(i + 1);
    args.remove(i + 1);
    args.remove(i);
    return v;
  }

  private static void usage() {
    System.err.println(String.join("\n",
        "usage: fathom [--threads T] <command>",
        "  train --model NAME [--epochs E] [--batch-size B] [--lr LR] [--seed S] [--data DIR] [--resize N]",
        "        [--out DIR] [--optimizer sgd|adam] [--weight-decay WD] [--momentum M] [--dropout P]",
        "        [--schedule none|cosine|step] [--limit N]",
        "                            train on Fashion-MNIST; writes DIR/metrics.csv and DIR/model.safetensors",
        "                            NAME: softmax mlp lenet-sigmoid lenet lenet-bn alexnet vgg11 nin googlenet",
        "                                  resnet18 densenet",
        LanguageModelCommands.usage(),
        "  summary --model NAME [--size N] [--channels C] [--classes K]",
        "                            layers, output shapes and parameter counts",
        "  example linreg|house-prices [--data DIR] [--out DIR]",
        "                            linear regression on synthetic data; Kaggle house prices (k-fold)",
        "  info                      native runtime: versions, ISA, OpenBLAS core, threads",
        "  demo                      runtime info, a small GEMM and its throughput",
        "  bench gemm [--quick] [--samples N] [--out FILE]",
        "                            GEMM GFLOP/s: Java API vs direct C++ call, both backends",
        "  bench tensor [--quick]    op dispatch overhead, elementwise GB/s vs a plain C++ loop,",
        "                            Tensor.matmul vs Gemm"));
  }
}
