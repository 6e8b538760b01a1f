package dev.fathom.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fathom.io.SafeTensors;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Full-size PyTorch models (LeNet, ResNet-18, DenseNet, GoogLeNet, the character LMs) exported by
 * ci/check-onnx-pytorch.sh: every NAME.onnx in the folder given by -Dfathom.onnx.pytorch=DIR is
 * imported and run on NAME.in.safetensors, and each output must be within 1e-4 of PyTorch's in
 * NAME.out.safetensors. Without the property the test is skipped (the files are large, and making
 * them needs torch).
 */
class PyTorchModelsTest {
  static final String PROPERTY = "fathom.onnx.pytorch";
  static final double TOLERANCE = 1e-4;

  @TestFactory
  Stream<DynamicTest> importedModelsMatchPyTorch() throws IOException {
    String dir = System.getProperty(PROPERTY, "");
    assumeTrue(!dir.isEmpty(), "-D" + PROPERTY + "=DIR not given (ci/check-onnx-pytorch.sh sets it)");
    List<Path> models;
    try (Stream<Path> files = Files.list(Path.of(dir))) {
      models = files.filter(f -> f.getFileName().toString().endsWith(".onnx")).sorted().collect(Collectors.toList());
    }
    assertFalse(models.isEmpty(), "no .onnx files in " + dir);
    return models.stream().map(f -> DynamicTest.dynamicTest(stem(f), () -> check(f)));
  }

  static String stem(Path onnx) {
    String name = onnx.getFileName().toString();
    return name.substring(0, name.length() - ".onnx".length());
  }

  static void check(Path file) {
    Path dir = file.getParent();
    String name = stem(file);
    long baseline = Tensor.liveNativeBytes();
    Map<String, Tensor> inputs = SafeTensors.load(dir.resolve(name + ".in.safetensors"));
    Map<String, Tensor> expected = SafeTensors.load(dir.resolve(name + ".out.safetensors"));
    try (OnnxModel m = OnnxModel.load(file); Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      assertEquals(m.outputNames().size(), expected.size(), name + ": outputs " + m.outputNames());
      Map<String, Tensor> got = m.run(inputs);
      StringBuilder line = new StringBuilder(String.format("pytorch %-28s", name));
      double worst = 0;
      for (String out : m.outputNames()) {
        Tensor want = expected.get(out);
        assertNotNull(want, name + ": PyTorch's output '" + out + "' is missing");
        Tensor y = got.get(out);
        assertEquals(Arrays.toString(want.shape()), Arrays.toString(y.shape()), name + ": shape of " + out);
        assertEquals(DType.FLOAT32, y.dtype(), name + ": dtype of " + out);
        double diff = y.sub(want).abs().max().item();
        double scale = want.abs().max().item();
        line.append(String.format(" %s %s max|diff| %.3g (max|value| %.3g);", out, Arrays.toString(want.shape()),
            diff, scale));
        worst = Math.max(worst, diff);
        // A silent all-zero output would pass a loose comparison against small values.
        assertTrue(scale > 1e-3, name + ": PyTorch's " + out + " is nearly zero, the comparison would be weak");
      }
      System.out.println(line);
      assertTrue(worst < TOLERANCE, name + ": max abs diff " + worst + " >= " + TOLERANCE);
    } finally {
      inputs.values().forEach(Tensor::close);
      expected.values().forEach(Tensor::close);
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), name + ": native bytes left after close");
  }
}
