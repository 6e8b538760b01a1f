package dev.fathom.cli;

import dev.fathom.onnx.OnnxModel;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code serve --onnx FILE}: a {@link Predictor} over an imported ONNX classifier. The graph must
 * have one input (N, ...) whose other sizes are declared, and answer one example with (1, classes)
 * on its first output. Both are checked when the server starts, by running one example of zeros,
 * so that a file that cannot serve is refused then, with the reason, rather than on every request.
 * Not for models with several inputs or token inputs (use {@code onnx run}).
 */
final class OnnxServing {
  private OnnxServing() {}

  static Predictor.Builder predictor(Path file, String command) {
    OnnxModel model = OnnxModel.load(file);
    try {
      String what = command + ": " + file.getFileName();
      if (model.inputNames().size() != 1) {
        throw new IllegalArgumentException(what + " has inputs " + model.inputNames()
            + "; serving needs a model with one input, a batch of examples (use onnx run for others)");
      }
      String input = model.inputNames().get(0);
      long[] declared = model.declaredShape(input);
      if (declared == null || declared.length < 2) {
        throw new IllegalArgumentException(what + ": input '" + input + "' declares "
            + (declared == null ? "no shape" : "shape " + Arrays.toString(declared))
            + "; serving needs (N, ...) with every size but the batch given");
      }
      // The first dimension is the batch, whatever size the file declares for it.
      long[] example = Arrays.copyOfRange(declared, 1, declared.length);
      if (Arrays.stream(example).anyMatch(d -> d < 1)) {
        throw new IllegalArgumentException(what + ": input '" + input + "' has shape " + Arrays.toString(declared)
            + " (-1: symbolic); serving needs every size but the batch (first) one");
      }
      long[] one = new long[declared.length];
      one[0] = 1;
      System.arraycopy(example, 0, one, 1, example.length);
      model.eval();
      try (Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
        Tensor y;
        try {
          y = model.forward(Tensor.zeros(one));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(what + " does not run on one float example " + Arrays.toString(one)
              + ": " + e.getMessage(), e);
        }
        if (y.dim() != 2 || y.size(0) != 1 || !y.dtype().isFloatingPoint()) {
          throw new IllegalArgumentException(what + ": output '" + model.outputNames().get(0) + "' is "
              + y.dtype() + " " + Arrays.toString(y.shape()) + " for input " + Arrays.toString(one)
              + "; serving answers with class probabilities, so it needs float (N, classes)");
        }
      }
      return Predictor.builder(model, example).name(file.getFileName().toString());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }
}
