package dev.fathom.cli;

import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.zoo.Models;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fathom summary --model NAME}: layers, output shapes, parameter counts of a zoo model;
 * {@code fathom summary --onnx FILE}: what {@code onnx summary --model FILE} prints.
 */
@Command(name = "summary", mixinStandardHelpOptions = true,
    description = "Layers, output shapes and parameter counts of a zoo model, or the summary of an ONNX file.")
final class SummaryCommand implements Callable<Integer> {
  @Option(names = "--model", paramLabel = "NAME", description = "zoo model: ${COMPLETION-CANDIDATES}",
      completionCandidates = TrainCommand.ModelNames.class)
  String model;

  @Option(names = "--onnx", paramLabel = "FILE",
      description = "an ONNX model: opset, inputs, outputs, nodes per op, parameters (as onnx summary)")
  Path onnx;

  @Option(names = "--size", paramLabel = "N", description = "input side (default: the model's reference size)")
  Integer size;

  @Option(names = "--channels", paramLabel = "C", defaultValue = "1", description = "input channels (default 1)")
  int channels;

  @Option(names = "--classes", paramLabel = "K", defaultValue = "10", description = "classes (default 10)")
  int classes;

  @Override
  public Integer call() {
    if (onnx != null) {
      if (model != null) {
        throw new IllegalArgumentException("summary: give --model NAME (a zoo model) or --onnx FILE, not both");
      }
      if (size != null) {
        throw new IllegalArgumentException("summary: --size applies to zoo models (--model), not to --onnx");
      }
      OnnxCommand.Summary.print(onnx);
      return 0;
    }
    if (model == null) {
      throw new IllegalArgumentException("summary: --model NAME (one of " + Models.NAMES
          + ") or --onnx FILE is required");
    }
    int side = size == null ? Models.inputSize(model) : Checks.atLeast("summary", "--size", size, 8);
    Checks.atLeast("summary", "--channels", channels, 1);
    Checks.atLeast("summary", "--classes", classes, 1);
    try (Module net = Models.create(model, classes, channels, side, new Generator(0))) {
      System.out.print(net.summary(channels, side, side));
    }
    return 0;
  }
}
