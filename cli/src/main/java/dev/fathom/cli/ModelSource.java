package dev.fathom.cli;

import dev.fathom.data.FashionMnist;
import dev.fathom.io.SafeTensors;
import dev.fathom.serve.Predictor;
import dev.fathom.zoo.ModelSpec;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --checkpoint DIR|FILE [--model NAME]}: which trained model a command
 * uses. DIR is a {@code train --out} folder (its model.safetensors); FILE any
 * weights file. The model to build comes from the file's metadata, or from
 * --model for weights written elsewhere (e.g. by PyTorch, 1x28x28 input).
 */
final class ModelSource {
  @Option(names = "--checkpoint", paramLabel = "DIR|FILE",
      description = "a train --out folder (its model.safetensors) or a safetensors weights file")
  Path checkpoint;

  @Option(names = "--model", paramLabel = "NAME",
      description = "zoo model of weights without Fathom metadata (e.g. saved by PyTorch)")
  String model;

  boolean given() {
    return checkpoint != null;
  }

  Path weights(String command) {
    if (checkpoint == null) {
      throw new IllegalArgumentException(command + ": --checkpoint DIR|FILE is required");
    }
    Path f = Files.isDirectory(checkpoint) ? checkpoint.resolve(TrainCommand.WEIGHTS) : checkpoint;
    if (!Files.isRegularFile(f)) {
      String msg = command + ": no weights at " + f;
      throw new UncheckedIOException(msg, new FileNotFoundException(msg));
    }
    return f;
  }

  ModelSpec spec(String command) {
    Path f = weights(command);
    return model != null ? ModelSpec.of(model) : ModelSpec.fromMetadata(SafeTensors.readMetadata(f));
  }

  /** A predictor taking 28x28 Fashion-MNIST images (resized to the model's size inside) with class names. */
  Predictor.Builder predictor(String command) {
    ModelSpec spec = spec(command);
    return Predictor.builder(spec, weights(command)).imageSide(FashionMnist.SIZE).name(spec.name())
        .labels(FashionMnist.CLASS_NAMES);
  }
}
