package dev.fathom.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.fathom.io.SafeTensors;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.onnx.proto.Onnx.AttributeProto;
import dev.fathom.onnx.proto.Onnx.GraphProto;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.OperatorSetIdProto;
import dev.fathom.onnx.proto.Onnx.StringStringEntryProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.onnx.proto.Onnx.ValueInfoProto;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Imports models exported from PyTorch (src/test/python/export_fixtures.py) and checks their outputs. */
class OnnxModelTest {
  static Path fixture(String name) {
    try {
      return Path.of(OnnxModelTest.class.getResource(name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test fixture " + name, e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lenet_opset13", "lenet_opset17", "bn_opset13", "bn_opset17", "resnet_opset13",
      "resnet_opset17", "mlp_opset11", "mlp_opset13", "mlp_opset17", "mlp_opset17_external", "recurrent_opset13",
      "recurrent_opset17", "gru_lbr0_opset14", "prelu_opset13", "prelu_opset17", "charlm_opset13", "charlm_opset17",
      "embedding_opset13", "embedding_opset17"})
  void matchesPyTorch(String name) {
    String ref = name.replace("_external", "") + ".safetensors";
    Map<String, Tensor> io = SafeTensors.load(fixture(ref));
    try (OnnxModel m = OnnxModel.load(fixture(name + ".onnx")); Scope s = Scope.open()) {
      Tensor y = m.forward(io.get("input"));
      Tensor expected = io.get("output");
      assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(y.shape()));
      double diff = y.sub(expected).abs().max().item();
      System.out.printf("onnx %s: max abs diff vs reference %.3g%n", name, diff);
      assertTrue(diff < 1e-4, name + ": max abs diff " + diff);
    } finally {
      io.values().forEach(Tensor::close);
    }
  }

  @Test
  void initializersBecomeParametersAndStatisticsBuffers() {
    try (OnnxModel m = OnnxModel.load(fixture("bn_opset17.onnx"))) {
      assertEquals(17, m.opset());
      assertEquals(java.util.List.of("input"), m.inputNames());
      assertFalse(m.namedParameters().isEmpty());
      m.parameters().forEach(p -> assertTrue(p.requiresGrad()));
      assertTrue(m.namedBuffers().keySet().stream().anyMatch(k -> k.contains("running_mean")),
          m.namedBuffers().keySet().toString());
      assertTrue(m.namedParameters().keySet().stream().noneMatch(k -> k.contains("running")));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"lenet_opset13", "recurrent_opset17"})
  void fineTuningLowersTheLoss(String name) {
    Map<String, Tensor> io = SafeTensors.load(fixture(name + ".safetensors"));
    try (OnnxModel m = OnnxModel.load(fixture(name + ".onnx"));
        SGD opt = new SGD(m.parameters(), 0.05)) {
      m.train();
      Tensor x = io.get("input");
      Tensor target = Tensor.fromArray(new long[] {1, 2}, 2);
      double first = 0;
      double last = 0;
      for (int step = 0; step < 8; step++) {
        try (Scope s = Scope.open()) {
          opt.zeroGrad();
          Tensor loss = new CrossEntropyLoss().apply(m.forward(x), target);
          loss.backward();
          opt.step();
          last = loss.item();
          if (step == 0) {
            first = last;
          }
        }
      }
      target.close();
      System.out.printf("onnx %s: fine-tuning loss %.4f -> %.4f after 8 SGD steps%n", name, first, last);
      assertTrue(last < first * 0.8, name + ": loss " + first + " -> " + last);
    } finally {
      io.values().forEach(Tensor::close);
    }
  }

  // ------------------------------------------------------------------ untrusted input

  static ValueInfoProto value(String name) {
    return ValueInfoProto.newBuilder().setName(name).build();
  }

  static TensorProto floats(String name, long[] dims, float... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE);
    for (long d : dims) {
      t.addDims(d);
    }
    for (float f : v) {
      t.addFloatData(f);
    }
    return t.build();
  }

  static ModelProto model(int opset, GraphProto.Builder g) {
    return ModelProto.newBuilder().setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(g).build();
  }

  static NodeProto node(String op, String name, String[] in, String... out) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name);
    for (String i : in) {
      n.addInput(i);
    }
    for (String o : out) {
      n.addOutput(o);
    }
    return n.build();
  }

  static IllegalArgumentException refused(ModelProto m, Path dir) {
    return assertThrows(IllegalArgumentException.class, () -> OnnxModel.load(m.toByteArray(), dir).close());
  }

  @Test
  void unsupportedOpsAreListedInOneMessage() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("z"))
        .addNode(node("Relu", "a", new String[] {"x"}, "y"))
        .addNode(node("Erf", "b", new String[] {"y"}, "w"))
        .addNode(node("NonMaxSuppression", "c", new String[] {"w"}, "z"));
    String msg = refused(model(13, g), null).getMessage();
    assertTrue(msg.contains("Erf (opset 13)") && msg.contains("NonMaxSuppression (opset 13)"), msg);
    assertFalse(msg.contains("Relu (opset"), msg);
  }

  @Test
  void malformedProtobufIsRefused() {
    byte[] junk = {0x0a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2};
    String msg = assertThrows(IllegalArgumentException.class, () -> OnnxModel.load(junk, null)).getMessage();
    assertTrue(msg.contains("not a valid ONNX model"), msg);
    assertThrows(IllegalArgumentException.class, () -> OnnxModel.load(new byte[0], null));
  }

  @Test
  void opsetOutsideTheSupportedRangeIsRefused() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addNode(node("Relu", "a", new String[] {"x"}, "y"));
    assertTrue(refused(model(9, g), null).getMessage().contains("opset 9"));
  }

  @Test
  void hugeDeclaredSizesAreCheckedBeforeAllocation() {
    TensorProto huge = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(1L << 40).addDims(1L << 40).setRawData(ByteString.copyFrom(new byte[16])).build();
    TensorProto big = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(100_000).addDims(10_000).setRawData(ByteString.copyFrom(new byte[16])).build();
    for (TensorProto t : new TensorProto[] {huge, big}) {
      GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
          .addInitializer(t).addNode(node("Add", "add", new String[] {"x", "w"}, "y"));
      String msg = refused(model(13, g), null).getMessage();
      assertTrue(msg.contains("tensor 'w'"), msg);
    }
  }

  @Test
  void missingValuesNameTheNode() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addNode(node("Add", "the_add", new String[] {"x", "nowhere"}, "y"));
    String msg = refused(model(13, g), null).getMessage();
    assertTrue(msg.contains("the_add") && msg.contains("nowhere"), msg);
  }

  @Test
  void inconsistentShapesNameTheNodeAndShapes() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addInitializer(floats("w", new long[] {3, 2}, 1, 2, 3, 4, 5, 6))
        .addNode(node("MatMul", "proj", new String[] {"x", "w"}, "y"));
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor x = Tensor.ones(4, 5);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(x)).getMessage();
      assertTrue(msg.contains("proj") && msg.contains("[4, 5]") && msg.contains("[3, 2]"), msg);
    }
  }

  @Test
  void preluSlopeThatDoesNotBroadcastIsRefusedWithTheShapes() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addInitializer(floats("slope", new long[] {4}, 0.1f, 0.2f, 0.3f, 0.4f))
        .addNode(node("PRelu", "act", new String[] {"x", "slope"}, "y"));
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      // Per channel on (N, C, H, W) needs [C, 1, 1]; a bare [C] lines up with W instead.
      Tensor x = Tensor.ones(2, 4, 3, 3);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(x)).getMessage();
      assertTrue(msg.contains("'act' (PRelu)") && msg.contains("[4]") && msg.contains("[2, 4, 3, 3]"), msg);
      // Where [4] does line up (the last dimension), each column gets its own slope.
      Tensor y = m.forward(Tensor.fromArray(new float[] {-1, -2, 3, -4}, 1, 4));
      assertArrayEquals(new float[] {-0.1f, -0.4f, 3f, -1.6f}, y.toFloatArray(), 1e-6f);
    }
  }

  static TensorProto longs(String name, long[] dims, long... v) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE);
    for (long d : dims) {
      t.addDims(d);
    }
    for (long x : v) {
      t.addInt64Data(x);
    }
    return t.build();
  }

  static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  @Test
  void oneHotFollowsTheOnnxDefinition() {
    // axis 0: the class axis comes first. -1 counts from the end (class 3); 5 is out of range: all off.
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addInitializer(longs("depth", new long[0], 4)).addInitializer(floats("values", new long[] {2}, 0.5f, 2f))
        .addNode(node("OneHot", "hot", new String[] {"x", "depth", "values"}, "y").toBuilder()
            .addAttribute(intAttr("axis", 0)).build());
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor y = m.forward(Tensor.fromArray(new long[] {0, -1, 3, 5}, 2, 2));
      assertEquals("[4, 2, 2]", Arrays.toString(y.shape()));
      assertArrayEquals(new float[] {2, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, 2, 2, .5f},
          y.contiguous().toFloatArray());
    }
  }

  @Test
  void gatherWithMatrixIndicesLooksUpATable() {
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addInitializer(longs("idx", new long[] {2, 2}, 2, 0, -1, 1))
        .addNode(node("Gather", "lookup", new String[] {"x", "idx"}, "y").toBuilder()
            .addAttribute(intAttr("axis", 1)).build());
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      // out[i][a][b] = x[i][idx[a][b]]
      Tensor y = m.forward(Tensor.fromArray(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
      assertEquals("[2, 2, 2]", Arrays.toString(y.shape()));
      assertArrayEquals(new float[] {3, 1, 3, 2, 6, 4, 6, 5}, y.contiguous().toFloatArray());
      Tensor x = Tensor.ones(2, 2);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(x)).getMessage();
      assertTrue(msg.contains("'lookup' (Gather)") && msg.contains("index 2 is out of range"), msg);
    }
  }

  @Test
  void constantOfShapeAndCast() {
    TensorProto seven = longs("value", new long[] {1}, 7);
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addNode(node("Shape", "shape", new String[] {"x"}, "s"))
        .addNode(node("ConstantOfShape", "fill", new String[] {"s"}, "c").toBuilder()
            .addAttribute(AttributeProto.newBuilder().setName("value").setT(seven)).build())
        .addNode(node("Cast", "cast", new String[] {"c"}, "f").toBuilder()
            .addAttribute(intAttr("to", TensorProto.DataType.FLOAT_VALUE)).build())
        .addNode(node("Add", "add", new String[] {"x", "f"}, "y"));
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor y = m.forward(Tensor.fromArray(new float[] {1, 2, 3}, 1, 3));
      assertEquals(dev.fathom.tensor.DType.FLOAT32, y.dtype());
      assertArrayEquals(new float[] {8, 9, 10}, y.toFloatArray());
    }
    GraphProto.Builder half = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addNode(node("Cast", "to_half", new String[] {"x"}, "y").toBuilder()
            .addAttribute(intAttr("to", TensorProto.DataType.FLOAT16_VALUE)).build());
    try (OnnxModel m = OnnxModel.load(model(13, half).toByteArray(), null); Scope s = Scope.open()) {
      Tensor x = Tensor.ones(2);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(x)).getMessage();
      assertTrue(msg.contains("'to_half' (Cast)") && msg.contains("FLOAT16"), msg);
    }
  }

  @Test
  void unsupportedAttributesAreRefusedClearly() {
    NodeProto pool = node("MaxPool", "p", new String[] {"x"}, "y").toBuilder()
        .addAttribute(AttributeProto.newBuilder().setName("kernel_shape").addInts(2).addInts(2))
        .addAttribute(AttributeProto.newBuilder().setName("ceil_mode").setI(1)).build();
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y")).addNode(pool);
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor x = Tensor.ones(1, 1, 4, 4);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(x)).getMessage();
      assertTrue(msg.contains("ceil_mode") && msg.contains("'p'"), msg);
    }
  }

  @Test
  void externalDataMustStayInsideTheModelFolder(@TempDir Path tmp) throws IOException {
    Path models = Files.createDirectories(tmp.resolve("models"));
    Files.write(tmp.resolve("secret.bin"), new byte[16]);
    for (String location : new String[] {"../secret.bin", tmp.resolve("secret.bin").toString(), "missing.bin"}) {
      TensorProto w = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
          .addDims(4).setDataLocation(TensorProto.DataLocation.EXTERNAL)
          .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location)).build();
      GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
          .addInitializer(w).addNode(node("Add", "add", new String[] {"x", "w"}, "y"));
      Path file = models.resolve("m.onnx");
      Files.write(file, model(13, g).toByteArray());
      RuntimeException e = assertThrows(RuntimeException.class, () -> OnnxModel.load(file).close());
      assertTrue(e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException, e.toString());
      assertTrue(e.getMessage().contains("tensor 'w'"), e.getMessage());
    }
    // Inside the folder, too short for the tensor.
    Files.write(models.resolve("w.bin"), new byte[8]);
    TensorProto w = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(4).setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("w.bin")).build();
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addInitializer(w).addNode(node("Add", "add", new String[] {"x", "w"}, "y"));
    Files.write(models.resolve("m.onnx"), model(13, g).toByteArray());
    String msg = assertThrows(IllegalArgumentException.class,
        () -> OnnxModel.load(models.resolve("m.onnx")).close()).getMessage();
    assertTrue(msg.contains("does not fit"), msg);
  }

  @Test
  void asymmetricConvPaddingMatchesExplicitPadding() {
    float[] w = new float[9];
    Arrays.fill(w, 1f);
    NodeProto conv = node("Conv", "c", new String[] {"x", "w"}, "y").toBuilder()
        .addAttribute(AttributeProto.newBuilder().setName("pads").addInts(0).addInts(0).addInts(1).addInts(1))
        .build();
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y"))
        .addInitializer(floats("w", new long[] {1, 1, 3, 3}, w)).addNode(conv);
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor y = m.forward(Tensor.ones(1, 1, 3, 3));
      assertEquals("[1, 1, 2, 2]", Arrays.toString(y.shape()));
      // bottom-right windows overlap the zero padding: 9, 6, 6, 4 ones
      assertEquals("[9.0, 6.0, 6.0, 4.0]", Arrays.toString(y.toFloatArray()));
    }
  }

  @Test
  void computedSizesAreBounded() {
    TensorProto pads = TensorProto.newBuilder().setName("pads").setDataType(TensorProto.DataType.INT64_VALUE)
        .addDims(2).addInt64Data(1L << 40).addInt64Data(1L << 40).build();
    TensorProto shape = TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE)
        .addDims(3).addInt64Data(1L << 20).addInt64Data(1L << 20).addInt64Data(4).build();
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("y")).addOutput(value("z"))
        .addInitializer(pads).addInitializer(shape)
        .addNode(node("Pad", "pad", new String[] {"x", "pads"}, "y"))
        .addNode(node("Expand", "expand", new String[] {"x", "shape"}, "z"));
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor x = Tensor.ones(4);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.run(Map.of("x", x))).getMessage();
      assertTrue(msg.contains("'pad'") && msg.contains("too large"), msg);
    }
    GraphProto.Builder g2 = GraphProto.newBuilder().addInput(value("x")).addOutput(value("z"))
        .addInitializer(shape).addNode(node("Expand", "expand", new String[] {"x", "shape"}, "z"));
    try (OnnxModel m = OnnxModel.load(model(13, g2).toByteArray(), null); Scope s = Scope.open()) {
      Tensor x = Tensor.ones(4);
      String msg = assertThrows(IllegalArgumentException.class, () -> m.forward(x)).getMessage();
      assertTrue(msg.contains("'expand'") && msg.contains("too large"), msg);
    }
  }

  @Test
  void typedFieldsAndInt64Initializers() {
    TensorProto shape = TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE)
        .addDims(2).addInt64Data(3).addInt64Data(-1).build();
    GraphProto.Builder g = GraphProto.newBuilder().addInput(value("x")).addOutput(value("z"))
        .addInitializer(floats("b", new long[] {1}, 0.5f)).addInitializer(shape)
        .addNode(node("Reshape", "r", new String[] {"x", "shape"}, "y"))
        .addNode(node("Add", "a", new String[] {"y", "b"}, "z"));
    try (OnnxModel m = OnnxModel.load(model(13, g).toByteArray(), null); Scope s = Scope.open()) {
      Tensor y = m.forward(Tensor.fromArray(new float[] {0, 1, 2, 3, 4, 5}, 6));
      assertEquals("[3, 2]", java.util.Arrays.toString(y.shape()));
      assertEquals(5.5, y.toDoubleArray()[5], 1e-6);
    }
  }
}
