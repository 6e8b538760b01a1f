package dev.fathom.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fathom.nn.Module;
import dev.fathom.onnx.OnnxExport;
import dev.fathom.onnx.proto.Onnx.GraphProto;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.OperatorSetIdProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.onnx.proto.Onnx.TensorShapeProto;
import dev.fathom.onnx.proto.Onnx.TypeProto;
import dev.fathom.onnx.proto.Onnx.ValueInfoProto;
import dev.fathom.serve.PredictionServer;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** serve --onnx and summary --onnx: an imported model served to many threads, and files it cannot serve. */
class OnnxServeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int EXAMPLES = 12;

  @TempDir
  Path dir;

  private Path lenet;
  private float[][] examples;
  private float[][] zooLogits;

  /** LeNet-BN exported with a symbolic batch, a dozen examples, and the zoo module's logits for each. */
  @BeforeEach
  void exportLenet() {
    lenet = dir.resolve("lenet-bn.onnx");
    Generator gen = new Generator(7);
    examples = new float[EXAMPLES][];
    zooLogits = new float[EXAMPLES][];
    try (Module net = Models.create("lenet-bn", 10, gen); Scope s = Scope.open();
        GradMode.Guard g = GradMode.disable()) {
      OnnxExport.write(net, new long[] {1, 1, 28, 28}, lenet);
      net.eval();
      for (int i = 0; i < EXAMPLES; i++) {
        examples[i] = Tensor.uniform(gen, 0, 1, DType.FLOAT32, 784).toFloatArray();
        zooLogits[i] = net.forward(Tensor.fromArray(examples[i], 1, 1, 28, 28)).toFloatArray();
      }
    }
  }

  @Test
  void summaryOnnxPrintsWhatOnnxSummaryPrints() throws Exception {
    Console.Result a = Console.run("summary", "--onnx", lenet.toString());
    Console.Result b = Console.run("onnx", "summary", "--model", lenet.toString());
    assertEquals(0, a.code(), a.err());
    assertEquals(0, b.code(), b.err());
    assertEquals(b.out(), a.out());
    assertTrue(a.out().startsWith("lenet-bn.onnx: opset 17, 16 nodes"), a.out());

    Console.Result r = Console.run("summary", "--onnx", dir.resolve("absent.onnx").toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("absent.onnx"), r.err());
    Path junk = Files.write(dir.resolve("junk.onnx"), new byte[] {0x0a, (byte) 0xff, (byte) 0xff, 1, 2});
    r = Console.run("summary", "--onnx", junk.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not a valid ONNX model"), r.err());
    r = Console.run("summary", "--onnx", lenet.toString(), "--model", "lenet");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not both"), r.err());
  }

  @Test
  void anImportedModelServesManyThreadsAtOnce() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    try (Predictor p = OnnxServing.predictor(lenet, "serve --onnx").maxConcurrency(8).build()) {
      assertEquals("[1, 28, 28]", Arrays.toString(p.exampleShape()));
      assertEquals("lenet-bn.onnx", p.name());
      // One at a time first: the imported graph gives the zoo module's logits.
      float[][] single = new float[EXAMPLES][];
      for (int i = 0; i < EXAMPLES; i++) {
        single[i] = p.logits(examples[i]);
        assertArrayEquals(zooLogits[i], single[i], 1e-5f, "example " + i);
      }
      // Then 8 threads at once, each example 40 times over: the same logits,
      // bit for bit (a batch of one runs the same kernels whichever thread runs it).
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          int first = t;
          done.add(pool.submit(() -> {
            for (int k = 0; k < 40 * EXAMPLES; k++) {
              int i = (first + k) % EXAMPLES;
              assertArrayEquals(single[i], p.logits(examples[i]), "example " + i + " on thread " + first);
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get();
        }

        // Over HTTP as serve runs it: concurrent requests get the classes of the single calls.
        try (PredictionServer server = PredictionServer.start(p, new InetSocketAddress("127.0.0.1", 0), 4)) {
          HttpClient http = HttpClient.newHttpClient();
          String base = "http://127.0.0.1:" + server.port();
          JsonNode health = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
              HttpResponse.BodyHandlers.ofString()).body());
          assertEquals("[1,28,28]", health.get("input").toString());
          List<Future<JsonNode>> answers = new ArrayList<>();
          for (int i = 0; i < EXAMPLES; i++) {
            String body = JSON.writeValueAsString(java.util.Map.of("image", examples[i]));
            answers.add(pool.submit(() -> JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(base + "/predict"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).body())));
          }
          for (int i = 0; i < EXAMPLES; i++) {
            JsonNode a = answers.get(i).get();
            Predictor.Classification c = p.classify(examples[i], 3);
            assertEquals(c.label(), a.get("label").asInt(), "example " + i + ": " + a);
            assertEquals(Integer.toString(c.label()), a.get("class").asText(), a.toString());
            assertEquals(c.probability(), a.get("probability").asDouble(), 1e-6, a.toString());
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), "serving left native bytes");
  }

  // ------------------------------------------------------------------ files serve cannot use

  static ValueInfoProto input(String name, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      shape.addDim(d instanceof String s ? TensorShapeProto.Dimension.newBuilder().setDimParam(s)
          : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
  }

  private Path write(String name, GraphProto.Builder g) throws Exception {
    ModelProto m = ModelProto.newBuilder().setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build();
    return Files.write(dir.resolve(name), m.toByteArray());
  }

  static NodeProto node(String op, String name, List<String> in, String out) {
    return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(in).addOutput(out).build();
  }

  private String refused(int code, Path file) {
    Console.Result r = Console.run("serve", "--onnx", file.toString(), "--port", "0");
    assertEquals(code, r.code(), r.out() + r.err());
    return r.err();
  }

  @Test
  void filesThatCannotServeAreRefusedWithTheReason() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    assertTrue(refused(1, dir.resolve("absent.onnx")).contains("absent.onnx"));
    Path junk = Files.write(dir.resolve("junk.onnx"), "not a model".getBytes());
    assertTrue(refused(2, junk).contains("not a valid ONNX model"));

    Path two = write("two.onnx", GraphProto.newBuilder().addInput(input("a", "N", 4)).addInput(input("b", "N", 4))
        .addOutput(ValueInfoProto.newBuilder().setName("y")).addNode(node("Add", "add", List.of("a", "b"), "y")));
    String err = refused(2, two);
    assertTrue(err.contains("two.onnx has inputs [a, b]") && err.contains("one input"), err);

    Path symbolic = write("symbolic.onnx", GraphProto.newBuilder().addInput(input("x", "N", 1, "H", "W"))
        .addOutput(ValueInfoProto.newBuilder().setName("y")).addNode(node("Relu", "r", List.of("x"), "y")));
    err = refused(2, symbolic);
    assertTrue(err.contains("[-1, 1, -1, -1]") && err.contains("every size but the batch"), err);

    Path image = write("image.onnx", GraphProto.newBuilder().addInput(input("x", "N", 1, 4, 4))
        .addOutput(ValueInfoProto.newBuilder().setName("y")).addNode(node("Relu", "r", List.of("x"), "y")));
    err = refused(2, image);
    assertTrue(err.contains("output 'y' is float32 [1, 1, 4, 4]") && err.contains("(N, classes)"), err);

    TensorProto w = TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addDims(3).addDims(2).addAllFloatData(List.of(1f, 2f, 3f, 4f, 5f, 6f)).build();
    Path mismatch = write("mismatch.onnx", GraphProto.newBuilder().addInput(input("x", "N", 4)).addInitializer(w)
        .addOutput(ValueInfoProto.newBuilder().setName("y")).addNode(node("MatMul", "proj", List.of("x", "w"), "y")));
    err = refused(2, mismatch);
    assertTrue(err.contains("does not run on one float example [1, 4]") && err.contains("'proj' (MatMul)"), err);

    Console.Result r = Console.run("serve", "--onnx", lenet.toString(), "--checkpoint", dir.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not both"), r.err());
    assertEquals(baseline, Tensor.liveNativeBytes(), "refused files left native bytes");
  }
}
