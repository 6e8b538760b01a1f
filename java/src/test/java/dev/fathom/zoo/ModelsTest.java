package dev.fathom.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Every model against the reference counts in docs/guide.md (docs/design.md, reference architectures) (1 channel, 10 classes, PyTorch 1.13 counts). */
class ModelsTest {
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "softmax, 28, 7850",
    "mlp, 28, 203530",
    "lenet-sigmoid, 28, 44426",
    "lenet, 28, 44426",
    "lenet-bn, 28, 44878",
    "nin, 224, 1992166",
    "googlenet, 96, 5977530",
    "resnet18, 96, 11178378",
    "densenet, 96, 758226"
  })
  void parameterCountsMatchTheReference(String name, int size, long params) {
    try (Module m = Models.create(name, 10, new Generator(0))) {
      assertEquals(params, m.parameterCount(), name);
    }
  }

  @Test
  void largeModelsCountWithoutRunning() {
    // AlexNet and VGG-11 hold 47M and 129M parameters; counting needs no forward pass.
    try (Module m = Models.create("alexnet", 10, new Generator(0))) {
      assertEquals(46_764_746L, m.parameterCount());
    }
    try (Module m = Models.create("vgg11", 10, new Generator(0))) {
      assertEquals(128_806_154L, m.parameterCount());
    }
  }

  private static List<String> shapes(Module m, long size) {
    List<String> out = new ArrayList<>();
    for (Module.SummaryRow r : m.summaryRows(1, size, size)) {
      out.add(r.name() + " " + java.util.Arrays.toString(r.outputShape()).replace(" ", ""));
    }
    return out;
  }

  @Test
  void lenetStageShapes() {
    try (Module m = Models.create("lenet", 10, new Generator(0))) {
      List<String> s = shapes(m, 28);
      assertTrue(s.contains("0 [1,6,24,24]"), s.toString());
      assertTrue(s.contains("2 [1,6,12,12]"), s.toString());
      assertTrue(s.contains("3 [1,16,8,8]"), s.toString());
      assertTrue(s.contains("5 [1,16,4,4]"), s.toString());
      assertTrue(s.contains("6 [1,256]"), s.toString());
      assertTrue(s.contains("7 [1,120]"), s.toString());
      assertTrue(s.contains("9 [1,84]"), s.toString());
      assertTrue(s.contains("11 [1,10]"), s.toString());
      String table = m.summary(1, 28, 28);
      assertTrue(table.contains("total parameters: 44,426"), table);
    }
  }

  @Test
  void resnetStageShapes() {
    try (Module m = Models.create("resnet18", 10, new Generator(0))) {
      List<String> s = shapes(m, 96);
      for (String want : List.of("0.0 [1,64,48,48]", "0.3 [1,64,24,24]", "1.1 [1,64,24,24]", "2.1 [1,128,12,12]",
          "3.1 [1,256,6,6]", "4.1 [1,512,3,3]", "6 [1,512]", "7 [1,10]")) {
        assertTrue(s.contains(want), want + " in " + s);
      }
      assertTrue(shapes(m, 28).contains("7 [1,10]"), "ResNet-18 also runs at 28x28");
    }
  }

  @Test
  void otherModelsStageShapes() {
    try (Module m = Models.create("googlenet", 10, new Generator(0))) {
      List<String> s = shapes(m, 96);
      for (String want : List.of("0.2 [1,64,24,24]", "1.4 [1,192,12,12]", "2.2 [1,480,6,6]", "3.5 [1,832,3,3]",
          "4.3 [1,1024]", "5 [1,10]")) {
        assertTrue(s.contains(want), want + " in " + s);
      }
    }
    try (Module m = Models.create("densenet", 10, new Generator(0))) {
      List<String> s = shapes(m, 96);
      for (String want : List.of("0 [1,64,48,48]", "3 [1,64,24,24]", "4 [1,192,24,24]", "5.3 [1,96,12,12]",
          "6 [1,224,12,12]", "7.3 [1,112,6,6]", "8 [1,240,6,6]", "9.3 [1,120,3,3]", "10 [1,248,3,3]", "14 [1,248]",
          "15 [1,10]")) {
        assertTrue(s.contains(want), want + " in " + s);
      }
    }
    try (Module m = Models.create("nin", 10, new Generator(0))) {
      List<String> s = shapes(m, 224);
      for (String want : List.of("0.5 [1,96,54,54]", "1 [1,96,26,26]", "2.5 [1,256,26,26]", "3 [1,256,12,12]",
          "4.5 [1,384,12,12]", "5 [1,384,5,5]", "7.5 [1,10,5,5]", "9 [1,10]")) {
        assertTrue(s.contains(want), want + " in " + s);
      }
    }
  }

  @Test
  void alexnetAndVggSizeTheirHeadForTheInput() {
    long baseline = dev.fathom.tensor.Tensor.liveNativeBytes();
    try (Module m = Models.create("alexnet", 10, 1, 96, new Generator(0))) {
      List<String> s = shapes(m, 96);
      // 96 -> conv 11/4: 22 -> pools: 10, 4, 1, so the first dense layer takes 256 features.
      assertTrue(s.contains("12 [1,256,1,1]") && s.contains("13 [1,256]") && s.contains("20 [1,10]"), s.toString());
    }
    try (Module m = Models.create("vgg11", 10, 1, 64, new Generator(0))) {
      List<String> s = shapes(m, 64);
      assertTrue(s.contains("20 [1,512,2,2]") && s.contains("21 [1,2048]") && s.contains("28 [1,10]"), s.toString());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Models.create("alexnet", 10, 1, 40, new Generator(0)));
    assertTrue(e.getMessage().contains("alexnet: input side 40 is too small"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("vgg11", 10, 1, 16, new Generator(0)));
    assertTrue(e.getMessage().contains("vgg: input side 16 is too small"), e.getMessage());
    assertEquals(baseline, dev.fathom.tensor.Tensor.liveNativeBytes(), "a refused input size leaves no parameters");
  }

  @Test
  void everyZooModelTrainsOneStepAtItsDocumentedSize() {
    // The notes' input sizes: one forward and backward at batch 2 (batch norm needs more than one
    // value per channel), every parameter gets a finite gradient, and memory goes back.
    long baseline = Tensor.liveNativeBytes();
    for (String name : List.of("alexnet", "vgg11", "nin", "googlenet", "resnet18", "densenet")) {
      int size = Models.inputSize(name);
      try (Module m = Models.create(name, 10, new Generator(3)); Scope s = Scope.open()) {
        Tensor y = m.forward(Tensor.randn(new Generator(4), 2, 1, size, size));
        assertArrayEquals(new long[] {2, 10}, y.shape(), name);
        y.square().mean().backward();
        for (Map.Entry<String, Tensor> p : m.namedParameters().entrySet()) {
          Tensor g = p.getValue().grad();
          assertTrue(g != null, name + " " + p.getKey() + " got no gradient");
          assertTrue(Double.isFinite(g.abs().sum().item()), name + " " + p.getKey() + " has a non-finite gradient");
        }
        m.zeroGrad();
      }
    }
    try (Module m = Models.create("alexnet", 10, new Generator(0))) {
      List<String> s = shapes(m, 224);
      for (String want : List.of("0 [1,96,54,54]", "2 [1,96,26,26]", "3 [1,256,26,26]", "5 [1,256,12,12]",
          "10 [1,256,12,12]", "12 [1,256,5,5]", "13 [1,6400]", "20 [1,10]")) {
        assertTrue(s.contains(want), want + " in " + s);
      }
    }
    try (Module m = Models.create("vgg11", 10, new Generator(0))) {
      List<String> s = shapes(m, 224);
      for (String want : List.of("2 [1,64,112,112]", "5 [1,128,56,56]", "10 [1,256,28,28]", "15 [1,512,14,14]",
          "20 [1,512,7,7]", "21 [1,25088]", "28 [1,10]")) {
        assertTrue(s.contains(want), want + " in " + s);
      }
    }
    dev.fathom.data.NativeMemory.assertBackTo(baseline);
  }

  @Test
  void forwardAndBackwardAtReducedSize() {
    // A training step per small model: gradients reach every parameter.
    for (String name : List.of("lenet", "lenet-bn", "lenet-sigmoid")) {
      try (Module m = Models.create(name, 10, new Generator(1)); Scope s = Scope.open()) {
        Tensor y = m.forward(Tensor.randn(new Generator(2), 4, 1, 28, 28));
        assertArrayEquals(new long[] {4, 10}, y.shape());
        y.square().mean().backward();
        for (Map.Entry<String, Tensor> p : m.namedParameters().entrySet()) {
          assertTrue(p.getValue().grad() != null, name + " " + p.getKey() + " got no gradient");
        }
        m.zeroGrad();
      }
    }
  }

  @Test
  void stateDictNamesMatchPytorch() {
    try (Module m = Models.create("resnet18", 10, new Generator(0))) {
      Map<String, Tensor> sd = m.stateDict();
      for (String key : List.of("0.0.weight", "0.1.running_var", "1.0.conv1.weight", "2.0.conv3.bias",
          "2.0.bn2.num_batches_tracked", "7.weight")) {
        assertTrue(sd.containsKey(key), key + " in " + sd.keySet());
      }
    }
    try (Module m = Models.create("googlenet", 10, new Generator(0))) {
      assertTrue(m.stateDict().containsKey("2.0.p2.2.weight"));
    }
    try (Module m = Models.create("densenet", 10, new Generator(0))) {
      assertTrue(m.stateDict().containsKey("4.net.3.2.weight"), m.stateDict().keySet().toString());
    }
  }
}
