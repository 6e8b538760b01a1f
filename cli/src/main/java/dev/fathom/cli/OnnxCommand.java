package dev.fathom.cli;

import dev.fathom.io.Checkpoints;
import dev.fathom.io.SafeTensors;
import dev.fathom.nn.Module;
import dev.fathom.onnx.OnnxExport;
import dev.fathom.onnx.OnnxModel;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.text.LanguageModelCheckpoint;
import dev.fathom.zoo.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code fathom onnx export|run|summary}: ONNX files in and out (see docs/onnx.md). */
@Command(name = "onnx", mixinStandardHelpOptions = true,
    description = "Export a trained model to ONNX, run an ONNX model on tensors, or summarize one.",
    subcommands = {OnnxCommand.Export.class, OnnxCommand.Run.class, OnnxCommand.Summary.class})
final class OnnxCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new IllegalArgumentException("onnx: give a subcommand: export, run or summary");
  }

  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Write a train --out checkpoint (an image model, zoo weights or a character language model) "
          + "as an ONNX model, opset 17 by default.")
  static final class Export implements Callable<Integer> {
    @Mixin ModelSource source;

    @Option(names = "--out", paramLabel = "FILE", description = "the .onnx file to write (required)")
    Path out;

    @Option(names = "--opset", paramLabel = "N", defaultValue = "" + OnnxExport.DEFAULT_OPSET,
        description = "ONNX opset, 11 to 18 (default ${DEFAULT-VALUE})")
    int opset;

    @Override
    public Integer call() {
      if (out == null) {
        throw new IllegalArgumentException("onnx export: --out FILE is required");
      }
      if (source.model == null && isLanguageModel(source.checkpoint)) {
        return exportLanguageModel();
      }
      ModelSpec spec = source.spec("onnx export");
      try (Module net = spec.create(new Generator(0))) {
        Checkpoints.load(net, source.weights("onnx export"));
        net.eval();
        long[] shape = {1, spec.channels(), spec.inputSize(), spec.inputSize()};
        OnnxExport.write(net, shape, out, opset);
        System.out.printf("%s -> %s (opset %d, input %s, %d parameters)%n", spec.name(), out, opset,
            Arrays.toString(shape), net.parameters().stream().mapToLong(Tensor::numel).sum());
      }
      return 0;
    }

    /** A train --model char-* folder or file (its metadata names the architecture), new or legacy layout. */
    private static boolean isLanguageModel(Path checkpoint) {
      if (checkpoint == null) {
        return false;
      }
      if (Files.isDirectory(checkpoint) && Files.isRegularFile(checkpoint.resolve(LanguageModelCheckpoint.CONFIG))) {
        return true;
      }
      Path file = LanguageModelCheckpoint.file(checkpoint);
      return Files.isRegularFile(file)
          && SafeTensors.readMetadata(file).containsKey(LanguageModelCheckpoint.CONFIG_KEY);
    }

    private int exportLanguageModel() {
      try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(source.checkpoint)) {
        // The graph's N and T are symbolic; the vocabulary travels in the metadata, for the token inputs.
        OnnxExport.write(lm.model(), new long[] {1, 1}, out, opset, Map.of(LanguageModelCheckpoint.VOCAB_KEY,
            lm.vocab().toJson(), "fathom.tokenizer", lm.tokenizer().id()));
        var c = lm.model().config();
        System.out.printf("char-%s -> %s (opset %d, tokens (N, T) int64, vocabulary %d, %d layer(s) of %d; inputs"
            + " input, h0%s; outputs output, hn%s; %d parameters)%n", c.cell().id(), out, opset, c.vocabSize(),
            c.layers(), c.hidden(), c.cell().id().equals("lstm") ? ", c0" : "",
            c.cell().id().equals("lstm") ? ", cn" : "",
            lm.model().parameters().stream().mapToLong(Tensor::numel).sum());
      }
      return 0;
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run an ONNX model on the tensors of a safetensors file (each under its ONNX input name); "
          + "write each output under its ONNX output name.")
  static final class Run implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "FILE", description = "the .onnx model (required)")
    Path model;

    @Option(names = "--input", paramLabel = "FILE", description = "safetensors with the inputs (required)")
    Path input;

    @Option(names = "--output", paramLabel = "FILE", description = "safetensors to write the outputs to (required)")
    Path output;

    @Override
    public Integer call() {
      if (model == null || input == null || output == null) {
        throw new IllegalArgumentException("onnx run: --model, --input and --output are required");
      }
      try (OnnxModel net = OnnxModel.loadForInference(model); SafeTensors.Contents in = SafeTensors.read(input);
          Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        net.eval();
        Map<String, Tensor> outputs = new LinkedHashMap<>(net.run(in.tensors()));
        SafeTensors.save(outputs, Map.of("fathom.onnx_model", model.getFileName().toString()), output);
        outputs.forEach((name, t) -> System.out.printf("%s %s %s%n", name, t.dtype(), Arrays.toString(t.shape())));
      }
      return 0;
    }
  }

  @Command(name = "summary", mixinStandardHelpOptions = true,
      description = "Opset, inputs, outputs, nodes per op and parameters of an ONNX model.")
  static final class Summary implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "FILE", description = "the .onnx model (required)")
    Path model;

    @Override
    public Integer call() {
      if (model == null) {
        throw new IllegalArgumentException("onnx summary: --model FILE is required");
      }
      print(model);
      return 0;
    }

    /** The summary of an ONNX file on stdout (also {@code fathom summary --onnx FILE}). */
    static void print(Path model) {
      try (OnnxModel net = OnnxModel.load(model)) {
        Map<String, Integer> ops = net.opCounts();
        System.out.printf("%s: opset %d, %d nodes%n", model.getFileName(), net.opset(),
            ops.values().stream().mapToInt(Integer::intValue).sum());
        for (String name : net.inputNames()) {
          System.out.printf("  input  %s %s%n", name, Arrays.toString(net.declaredShape(name)));
        }
        net.outputNames().forEach(name -> System.out.printf("  output %s%n", name));
        ops.forEach((op, n) -> System.out.printf("  %-20s %d%n", op, n));
        System.out.printf("  parameters: %d tensors, %d values%n", net.parameters().size(),
            net.parameters().stream().mapToLong(Tensor::numel).sum());
      }
    }
  }
}
