package dev.fathom.onnx;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fathom.FathomException;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the ONNX importer (Jazzer): any bytes either load, and
 * then run on an input of the declared shape, or are refused with a message. The
 * seeds (OnnxModelFuzzTestInputs/load) are small exported models.
 */
class OnnxModelFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void load(byte[] data) throws IOException {
    Path dir = Files.createTempDirectory("onnx-fuzz");
    Path f = dir.resolve("model.onnx");
    try {
      Files.write(f, data);
      try (OnnxModel m = OnnxModel.load(f); Scope s = Scope.open()) {
        if (m.inputNames().size() == 1) {
          long[] shape = m.declaredShape(m.inputNames().get(0));
          if (shape != null && small(shape)) {
            m.forward(Tensor.ones(shape)).numel();
          }
        }
      }
    } catch (IllegalArgumentException | UncheckedIOException | FathomException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
      Files.deleteIfExists(dir);
    }
  }

  private static boolean small(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d <= 0 || d > 4096) {
        return false;
      }
      n *= d;
      if (n > 65536) {
        return false;
      }
    }
    return true;
  }
}
