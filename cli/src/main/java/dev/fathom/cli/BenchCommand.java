package dev.fathom.cli;

import dev.fathom.bench.GemmBenchmark;
import dev.fathom.bench.InferenceBenchmark;
import dev.fathom.bench.LayerBenchmark;
import dev.fathom.bench.TensorBenchmark;
import dev.fathom.bench.TrainBenchmark;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fathom bench gemm|tensor|train|layers|infer|charlm}. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks (ci/bench-*.sh add the PyTorch baselines).",
    subcommands = {BenchCommand.Gemm.class, BenchCommand.TensorOps.class, BenchCommand.Train.class,
        BenchCommand.Layers.class, BenchCommand.Infer.class, BenchCommand.CharLm.class})
final class BenchCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new IllegalArgumentException("bench: expected gemm, tensor, train, layers, infer or charlm");
  }

  @Command(name = "gemm", mixinStandardHelpOptions = true,
      description = "GEMM GFLOP/s: Java API vs a direct C++ call, both backends.")
  static final class Gemm implements Callable<Integer> {
    @Option(names = "--quick", description = "fewer shapes") boolean quick;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "5", description = "samples per shape (default 5)")
    int samples;

    @Option(names = "--out", paramLabel = "FILE", description = "also write JSON lines here") Path out;

    @Override
    public Integer call() throws Exception {
      List<GemmBenchmark.Result> results = GemmBenchmark.run(quick, Checks.atLeast("bench gemm", "--samples",
          samples, 1), System.out);
      if (out != null) {
        GemmBenchmark.writeJsonLines(results, out);
      }
      return 0;
    }
  }

  @Command(name = "tensor", mixinStandardHelpOptions = true,
      description = "Op dispatch overhead, elementwise GB/s vs a plain C++ loop, Tensor.matmul vs Gemm.")
  static final class TensorOps implements Callable<Integer> {
    @Option(names = "--quick", description = "fewer sizes") boolean quick;

    @Override
    public Integer call() {
      TensorBenchmark.run(quick, System.out);
      return 0;
    }
  }

  @Command(name = "train", mixinStandardHelpOptions = true,
      description = "Training images/s on Fashion-MNIST batches (the PyTorch reference's method).")
  static final class Train implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "NAME", defaultValue = "mlp", description = "model (default mlp)")
    String model;

    @Option(names = "--iters", paramLabel = "N", defaultValue = "200", description = "iterations (default 200)")
    int iters;

    @Override
    public Integer call() {
      TrainBenchmark.run(model, Checks.atLeast("bench train", "--iters", iters, 10), System.out);
      return 0;
    }
  }

  @Command(name = "layers", mixinStandardHelpOptions = true,
      description = "Forward and backward time per CNN layer (LeNet, ResNet-18 shapes).")
  static final class Layers implements Callable<Integer> {
    @Option(names = "--batch", paramLabel = "N", defaultValue = "256", description = "batch size (default 256)")
    int batch;

    @Option(names = "--in-run", description = "as inside a run of layers: input and output gradient in the "
        + "layout activations keep between layers (nChw16c where the kernels use it), not NCHW")
    boolean inRun;

    @Override
    public Integer call() {
      LayerBenchmark.run(Checks.atLeast("bench layers", "--batch", batch, 1), inRun, System.out);
      return 0;
    }
  }

  @Command(name = "infer", mixinStandardHelpOptions = true,
      description = "Inference latency, batch 1 and 256 (LeNet, LeNet-BN, ResNet-18).")
  static final class Infer implements Callable<Integer> {
    @Override
    public Integer call() {
      InferenceBenchmark.run(System.out);
      return 0;
    }
  }

  @Command(name = "charlm", mixinStandardHelpOptions = true,
      description = "Character language-model training tokens/s (hidden 256, 35 steps, batch 32).")
  static final class CharLm implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "TEXT", description = "corpus (default ../shared/data/timemachine.txt)")
    Path data;

    @Option(names = "--cell", paramLabel = "CELL", split = ",",
        description = "rnn, gru (torch.nn.GRU's cell), lstm, gru-notes; default all")
    List<String> cells;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "1", description = "epochs per cell (default 1)")
    int epochs;

    @Override
    public Integer call() {
      Path corpus = data != null ? data : Path.of(Examples.defaultDataDir(), "timemachine.txt");
      dev.fathom.bench.CharLmBenchmark.run(corpus, cells != null ? cells : dev.fathom.bench.CharLmBenchmark.CELLS,
          Checks.atLeast("bench charlm", "--epochs", epochs, 1), System.out);
      return 0;
    }
  }
}
