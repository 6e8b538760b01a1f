package dev.fathom.cli;

import dev.fathom.data.Batch;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.io.SafeTensors;
import dev.fathom.serve.Images;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code fathom predict --checkpoint DIR --image N|FILE}: the top-k classes of
 * one image; or {@code --input X.safetensors --output Y.safetensors}: the logits
 * of a batch (what ci/check-pytorch-compat.sh compares with PyTorch).
 */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Top-k classes of an image, or the logits of a batch.",
        "The image is a Fashion-MNIST test image (by index) or a 28x28 grayscale PNG; a batch is a",
        "safetensors file with one tensor [N, 1, 28, 28]."})
final class PredictCommand implements Callable<Integer> {
  @Mixin ModelSource source;

  @Option(names = "--image", paramLabel = "N|FILE", description = "test image index, or a 28x28 grayscale PNG")
  String image;

  @Option(names = "--top", paramLabel = "K", defaultValue = "3", description = "classes to list (default 3)")
  int top;

  @Option(names = "--input", paramLabel = "FILE",
      description = "safetensors file with one tensor [N, 1, 28, 28] (instead of --image)")
  Path input;

  @Option(names = "--output", paramLabel = "FILE", description = "where --input's logits go (tensor 'logits')")
  Path output;

  @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST IDX files (default: see README)")
  String data;

  @Override
  public Integer call() throws Exception {
    if ((image == null) == (input == null)) {
      throw new IllegalArgumentException("predict: give --image N|FILE or --input FILE --output FILE");
    }
    if (input != null && output == null) {
      throw new IllegalArgumentException("predict: --input needs --output FILE for the logits");
    }
    Checks.atLeast("predict", "--top", top, 1);
    try (Predictor p = source.predictor("predict").build()) {
      if (input != null) {
        return batch(p);
      }
      float[] pixels;
      String what;
      if (image.matches("[0-9]+")) {
        int index = Integer.parseInt(image);
        try (TensorDataset test = TrainCommand.load(data, FashionMnist.Split.TEST)) {
          if (index >= test.size()) {
            throw new IllegalArgumentException("predict: --image " + index + " is past the " + test.size()
                + " test images");
          }
          try (Batch b = test.batch(new long[] {index})) {
            pixels = b.x().toFloatArray();
            what = String.format(Locale.ROOT, "test image %d (true class: %s)", index,
                FashionMnist.CLASS_NAMES.get((int) b.y().item()));
          }
        }
      } else {
        Path file = Path.of(image);
        if (!Files.isRegularFile(file)) {
          throw new IllegalArgumentException("predict: --image " + image + " is neither an index nor a file");
        }
        pixels = Images.grayPixels(Files.readAllBytes(file), FashionMnist.SIZE, FashionMnist.SIZE);
        what = file.toString();
      }
      Predictor.Classification c = p.classify(pixels, top);
      System.out.println(p.name() + ", " + what + ":");
      int rank = 1;
      for (Predictor.Score s : c.top()) {
        System.out.printf(Locale.ROOT, "  %d. %-12s %.4f%n", rank++, s.name(), s.probability());
      }
    }
    return 0;
  }

  private int batch(Predictor p) {
    try (SafeTensors.Contents in = SafeTensors.read(input); Scope s = Scope.open()) {
      Tensor x = in.tensors().size() == 1 ? in.tensors().values().iterator().next() : in.get("input");
      if (x == null) {
        throw new IllegalArgumentException("predict: " + input + " holds " + in.tensors().keySet()
            + "; expected one tensor, or one named 'input'");
      }
      Tensor logits = p.predict(x);
      SafeTensors.save(Map.of("logits", logits), Map.of("model", p.name()), output);
      System.out.println(p.name() + ": logits " + java.util.Arrays.toString(logits.shape()) + " written to " + output);
    }
    return 0;
  }
}
