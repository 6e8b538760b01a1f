package dev.fathom.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.fathom.nn.Module;
import dev.fathom.onnx.proto.Onnx.AttributeProto;
import dev.fathom.onnx.proto.Onnx.GraphProto;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.OperatorSetIdProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.onnx.proto.Onnx.ValueInfoProto;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;

/**
 * OnnxModel.loadForInference (BatchNormalization folded into Conv, Conv + Relu fused) against the
 * unrewritten graph of OnnxModel.load, the reference: same outputs within 1e-4.
 */
class OnnxInferenceGraphTest {
  private static Map<String, float[]> run(OnnxModel m, Map<String, Tensor> inputs) {
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      Map<String, float[]> out = new java.util.LinkedHashMap<>();
      m.run(inputs).forEach((k, v) -> out.put(k, v.toFloatArray()));
      return out;
    }
  }

  @Test
  void foldedResnet18MatchesTheUnfusedGraph() {
    long baseline = Tensor.liveNativeBytes();
    Generator gen = new Generator(21);
    for (String name : List.of("resnet18", "lenet-bn")) {
      byte[] bytes;
      try (Module net = Models.create(name, 10, gen)) {
        OnnxTestSupport.randomizeBatchNorm(net, gen);
        bytes = OnnxExport.toBytes(net, new long[] {1, 1, 28, 28}, 17);
      }
      try (OnnxModel plain = OnnxModel.load(bytes, null); OnnxModel fast = OnnxModel.loadForInference(bytes, null);
          Tensor x = Tensor.uniform(gen, -1, 1, DType.FLOAT32, 3, 1, 28, 28).unscope()) {
        double d = OnnxTestSupport.maxAbsDiff(run(plain, Map.of("input", x)).get("output"),
            run(fast, Map.of("input", x)).get("output"));
        SortedMap<String, Integer> before = plain.opCounts();
        SortedMap<String, Integer> after = fast.opCounts();
        System.out.printf("%s: %s -> %s, max|diff| %.3g%n", name, before, after, d);
        assertTrue(d <= 1e-4, name + ": folded graph differs by " + d);
        int convs = before.get("Conv");
        assertEquals(convs, after.getOrDefault("Conv", 0) + after.getOrDefault(InferenceGraph.FUSED_CONV, 0));
        // Every BatchNormalization after a Conv is folded; LeNet-BN's after Gemm stay.
        assertEquals(name.equals("resnet18") ? 0 : 2, after.getOrDefault("BatchNormalization", 0), after.toString());
        assertTrue(after.getOrDefault(InferenceGraph.FUSED_CONV, 0) > 0, after.toString());
        assertTrue(fast.parameters().isEmpty(), "an inference model has no trainable parameters");
        // The folded-away weights and statistics are not kept.
        assertTrue(fast.namedBuffers().values().stream().mapToLong(Tensor::numel).sum()
            < plain.parameters().stream().mapToLong(Tensor::numel).sum()
            + plain.namedBuffers().values().stream().mapToLong(Tensor::numel).sum());
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes left");
  }

  private static TensorProto floats(String name, Generator gen, double lo, double hi, long... dims) {
    float[] v;
    try (Tensor t = Tensor.uniform(gen, lo, hi, DType.FLOAT32, dims).unscope()) {
      v = t.toFloatArray();
    }
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static ValueInfoProto value(String name) {
    return ValueInfoProto.newBuilder().setName(name).build();
  }

  /** Conv -> BN -> Relu, where the Conv's and the BN's outputs are read elsewhere too. */
  private static byte[] sharedValues(boolean convIsOutput) {
    Generator gen = new Generator(22);
    NodeProto conv = NodeProto.newBuilder().setOpType("Conv").addInput("x").addInput("w").addInput("b")
        .addOutput("c").addAttribute(AttributeProto.newBuilder().setName("pads")
            .setType(AttributeProto.AttributeType.INTS).addAllInts(List.of(1L, 1L, 1L, 1L))).build();
    NodeProto bn = NodeProto.newBuilder().setOpType("BatchNormalization").addInput("c").addInput("g")
        .addInput("beta").addInput("mean").addInput("var").addOutput("n").build();
    NodeProto relu = NodeProto.newBuilder().setOpType("Relu").addInput("n").addOutput("r").build();
    NodeProto add = NodeProto.newBuilder().setOpType("Add").addInput("r").addInput("n").addOutput("y").build();
    GraphProto.Builder g = GraphProto.newBuilder().setName("shared").addNode(conv).addNode(bn).addNode(relu)
        .addNode(add).addInput(value("x")).addOutput(value("y"))
        .addInitializer(floats("w", gen, -0.5, 0.5, 3, 2, 3, 3)).addInitializer(floats("b", gen, -0.5, 0.5, 3))
        .addInitializer(floats("g", gen, 0.5, 1.5, 3)).addInitializer(floats("beta", gen, -0.2, 0.2, 3))
        .addInitializer(floats("mean", gen, -0.5, 0.5, 3)).addInitializer(floats("var", gen, 0.5, 2, 3));
    if (convIsOutput) {
      g.addOutput(value("c"));
    }
    return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
        .setGraph(g).build().toByteArray();
  }

  @Test
  void valuesReadElsewhereAreNotFusedAway() {
    long baseline = Tensor.liveNativeBytes();
    Generator gen = new Generator(23);
    try (Tensor x = Tensor.uniform(gen, -1, 1, DType.FLOAT32, 2, 2, 5, 5).unscope()) {
      for (boolean convIsOutput : new boolean[] {false, true}) {
        byte[] bytes = sharedValues(convIsOutput);
        try (OnnxModel plain = OnnxModel.load(bytes, null); OnnxModel fast = OnnxModel.loadForInference(bytes, null)) {
          Map<String, float[]> want = run(plain, Map.of("x", x));
          Map<String, float[]> got = run(fast, Map.of("x", x));
          assertEquals(want.keySet(), got.keySet());
          for (String k : want.keySet()) {
            assertTrue(OnnxTestSupport.maxAbsDiff(want.get(k), got.get(k)) <= 1e-5, k);
          }
          // The BN output feeds Relu and Add: Relu stays separate. A Conv output that the graph returns
          // keeps its BatchNormalization.
          assertEquals(1, fast.opCounts().get("Relu"));
          assertEquals(convIsOutput, fast.opCounts().containsKey("BatchNormalization"), fast.opCounts().toString());
          assertFalse(fast.opCounts().containsKey(InferenceGraph.FUSED_CONV));
        }
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes left");
  }
}
