package dev.fathom.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.fathom.nn.AvgPool2d;
import dev.fathom.nn.BatchNorm1d;
import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Dropout;
import dev.fathom.nn.Embedding;
import dev.fathom.nn.Flatten;
import dev.fathom.nn.GlobalAvgPool2d;
import dev.fathom.nn.Identity;
import dev.fathom.nn.LeakyReLU;
import dev.fathom.nn.Linear;
import dev.fathom.nn.LogSoftmax;
import dev.fathom.nn.MaxPool2d;
import dev.fathom.nn.Module;
import dev.fathom.nn.PReLU;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.nn.Sigmoid;
import dev.fathom.nn.Softmax;
import dev.fathom.nn.Tanh;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxExportTest {
  @TempDir
  Path dir;

  /** Fathom's output in eval mode. */
  private static float[] fathom(Module m, Tensor x) {
    m.eval();
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      return m.forward(x).toFloatArray();
    }
  }

  private static float[] imported(Path file, Tensor x) {
    try (OnnxModel model = OnnxModel.load(file); GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      return model.forward(x).toFloatArray();
    }
  }

  private static float[] onnxRuntime(Path file, Tensor x) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(2);
      try (OrtSession session = env.createSession(file.toString(), opts);
          OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.toFloatArray()), x.shape());
          OrtSession.Result r = session.run(Map.of("input", in))) {
        FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
        float[] out = new float[fb.remaining()];
        fb.get(out);
        return out;
      }
    }
  }

  private static Tensor input(Generator gen, long... shape) {
    return Tensor.uniform(gen, -1, 1, DType.FLOAT32, shape).unscope();
  }

  /** Exports, then checks the importer (within importTol, if it can run the graph) and ONNX Runtime (1e-4). */
  private double[] check(String name, Module m, long[] shape, Tensor x, boolean importable) throws Exception {
    Path file = dir.resolve(name + ".onnx");
    OnnxExport.write(m, shape, file);
    float[] want = fathom(m, x);
    double imp = importable ? OnnxTestSupport.maxAbsDiff(want, imported(file, x)) : Double.NaN;
    double ort = OnnxTestSupport.maxAbsDiff(want, onnxRuntime(file, x));
    double scale = 0;
    for (float v : want) {
      scale = Math.max(scale, Math.abs(v));
    }
    System.out.printf("export %-12s max|output| %.3g, importer max|diff| %.3g, onnxruntime max|diff| %.3g%n", name,
        scale, imp, ort);
    if (importable) {
      assertTrue(imp <= 1e-5, name + ": importer differs by " + imp);
    }
    assertTrue(ort <= 1e-4, name + ": ONNX Runtime differs by " + ort);
    return new double[] {imp, ort};
  }

  @Test
  void mlpRoundTripsWithASymbolicBatch() throws Exception {
    Generator gen = new Generator(1);
    try (Module m = Models.create("mlp", 10, gen); Tensor x = input(gen, 3, 1, 28, 28)) {
      // Exported for a batch of 1, run on a batch of 3.
      check("mlp", m, new long[] {1, 1, 28, 28}, x, true);
      ModelProto p = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("mlp.onnx")));
      assertEquals("N", p.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
      assertEquals("output", p.getGraph().getOutput(0).getName());
      assertEquals(17, p.getOpsetImport(0).getVersion());
      Set<String> inits = p.getGraph().getInitializerList().stream().map(TensorProto::getName)
          .collect(Collectors.toSet());
      assertEquals(m.namedParameters().keySet(), inits);
      TensorProto w = p.getGraph().getInitializerList().stream().filter(t -> t.getName().equals("1.weight"))
          .findFirst().orElseThrow();
      assertArrayEquals(new Long[] {256L, 784L}, w.getDimsList().toArray(new Long[0]));
      assertEquals(256 * 784 * 4, w.getRawData().size());
    }
  }

  @Test
  void lenet() throws Exception {
    Generator gen = new Generator(2);
    try (Module m = Models.create("lenet", 10, gen); Tensor x = input(gen, 2, 1, 28, 28)) {
      check("lenet", m, new long[] {2, 1, 28, 28}, x, true);
    }
  }

  @Test
  void lenetBatchNormInEval() throws Exception {
    Generator gen = new Generator(3);
    try (Module m = Models.create("lenet-bn", 10, gen); Tensor x = input(gen, 2, 1, 28, 28)) {
      OnnxTestSupport.randomizeBatchNorm(m, gen);
      check("lenet-bn", m, new long[] {2, 1, 28, 28}, x, true);
      assertTrue(m.isTraining() == false);
      // The state dict's buffers (but not the step counter) become initializers.
      ModelProto p = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("lenet-bn.onnx")));
      Set<String> inits = p.getGraph().getInitializerList().stream().map(TensorProto::getName)
          .collect(Collectors.toSet());
      assertTrue(inits.contains("1.running_mean") && inits.contains("1.running_var"), inits.toString());
    }
  }

  @Test
  void exportKeepsTheCallersTrainingMode() {
    Generator gen = new Generator(4);
    try (Module m = Models.create("lenet-bn", 10, gen)) {
      m.train();
      OnnxExport.toBytes(m, new long[] {1, 1, 28, 28}, 17);
      m.apply(k -> assertTrue(k.isTraining()));
    }
  }

  @Test
  void resnet18() throws Exception {
    Generator gen = new Generator(5);
    try (Module m = Models.create("resnet18", 10, gen); Tensor x = input(gen, 1, 1, 28, 28)) {
      OnnxTestSupport.randomizeBatchNorm(m, gen);
      check("resnet18", m, new long[] {1, 1, 28, 28}, x, true);
    }
  }

  @Test
  void googlenetAndDensenetAtASmallInput() throws Exception {
    Generator gen = new Generator(6);
    try (Module g = Models.create("googlenet", 10, gen); Tensor x = input(gen, 1, 1, 32, 32)) {
      check("googlenet", g, new long[] {1, 1, 32, 32}, x, true);
    }
    try (Module d = Models.create("densenet", 10, gen); Tensor x = input(gen, 1, 1, 32, 32)) {
      OnnxTestSupport.randomizeBatchNorm(d, gen);
      check("densenet", d, new long[] {1, 1, 32, 32}, x, true);
    }
  }

  @Test
  void ninAtItsSmallestInput() throws Exception {
    Generator gen = new Generator(7);
    try (Module m = Models.create("nin", 10, gen); Tensor x = input(gen, 1, 1, 67, 67)) {
      check("nin", m, new long[] {1, 1, 67, 67}, x, true);
    }
  }

  @Test
  void alexnetAndVgg11AtTheirSmallestInputs() throws Exception {
    Generator gen = new Generator(12);
    try (Module a = Models.create("alexnet", 10, 1, 67, gen); Tensor x = input(gen, 1, 1, 67, 67)) {
      check("alexnet", a, new long[] {1, 1, 67, 67}, x, true);
    }
    try (Module v = Models.create("vgg11", 10, 1, 32, gen); Tensor x = input(gen, 1, 1, 32, 32)) {
      check("vgg11", v, new long[] {1, 1, 32, 32}, x, true);
    }
  }

  @Test
  void activationsPoolsAndNormalisation() throws Exception {
    Generator gen = new Generator(8);
    try (Sequential m = new Sequential(new Conv2d(3, 4, 3, 2, 1, true, gen), new BatchNorm2d(4), new Tanh(),
        new AvgPool2d(3, 1, 1, false), new LeakyReLU(0.1), new Conv2d(4, 4, 3, 1, 2, 2, 2, true, gen),
        new Sigmoid(), new MaxPool2d(3, 2, 1), new Identity(), new Dropout(0.5, gen), new Flatten(),
        new Linear(4 * 3 * 3, 8, true, gen), new BatchNorm1d(8), new ReLU(), new Linear(8, 5, false, gen),
        new Softmax()); Tensor x = input(gen, 2, 3, 10, 10)) {
      OnnxTestSupport.randomizeBatchNorm(m, gen);
      check("mixed", m, new long[] {2, 3, 10, 10}, x, true);
    }
    try (Sequential m = new Sequential(new AvgPool2d(2), new GlobalAvgPool2d(), new Flatten(), new Linear(3, 6),
        new LogSoftmax(1)); Tensor x = input(gen, 2, 3, 4, 4)) {
      check("logsoftmax", m, new long[] {2, 3, 4, 4}, x, true);
    }
  }

  @Test
  void preluRoundTrips() throws Exception {
    // A per-channel slope on (N, C, H, W) (stored as [C, 1, 1]), a per-feature one on (N, F), a single one.
    Generator gen = new Generator(9);
    try (Sequential m = new Sequential(new Conv2d(2, 3, 3), new PReLU(3, -0.3), new Flatten(), new Linear(12, 4),
        new PReLU(4, 0.6), new Linear(4, 5), new PReLU()); Tensor x = input(gen, 2, 2, 4, 4)) {
      try (GradMode.Guard g = GradMode.disable()) {
        // Distinct slopes per channel, so that a slope applied to the wrong channel shows.
        ((PReLU) m.get(1)).slope().copy_(Tensor.fromArray(new float[] {-0.3f, 0.2f, 0.7f}, 3));
      }
      double[] diffs = check("prelu", m, new long[] {2, 2, 4, 4}, x, true);
      assertTrue(diffs[0] <= 1e-6, "importer differs by " + diffs[0]);
    }
  }

  @Test
  void flattenFromALaterDimensionAndLinearOnRank3() throws Exception {
    Generator gen = new Generator(10);
    try (Sequential m = new Sequential(new Flatten(2), new Linear(16, 3, true, gen), new Softmax(1));
        Tensor x = input(gen, 2, 3, 4, 4)) {
      check("flatten2", m, new long[] {2, 3, 4, 4}, x, true);
    }
  }

  @Test
  void olderOpsetRunsInOnnxRuntime() throws Exception {
    Generator gen = new Generator(11);
    try (Module m = Models.create("lenet-bn", 10, gen); Tensor x = input(gen, 2, 1, 28, 28)) {
      OnnxTestSupport.randomizeBatchNorm(m, gen);
      Path file = dir.resolve("lenet-bn-11.onnx");
      OnnxExport.write(m, new long[] {2, 1, 28, 28}, file, 11);
      float[] want = fathom(m, x);
      assertTrue(OnnxTestSupport.maxAbsDiff(want, imported(file, x)) <= 1e-5);
      assertTrue(OnnxTestSupport.maxAbsDiff(want, onnxRuntime(file, x)) <= 1e-4);
    }
    try (Sequential m = new Sequential(new Linear(4, 3), new Softmax(0))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OnnxExport.toBytes(m, new long[] {2, 4}, 12));
      assertTrue(e.getMessage().contains("dev.fathom.nn.Softmax") && e.getMessage().contains("'1'"),
          e.getMessage());
    }
  }

  @Test
  void refusesAnUnsupportedModuleByClassAndPath() {
    try (Sequential m = new Sequential(new Linear(4, 4), new Sequential(new ReLU(), new Embedding(4, 2)))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OnnxExport.toBytes(m, new long[] {1, 4}, 17));
      assertTrue(e.getMessage().contains("dev.fathom.nn.Embedding") && e.getMessage().contains("'1.1'"),
          e.getMessage());
    }
    // A subclass may compute something else: refused rather than exported as its parent.
    try (Sequential m = new Sequential(new ReLU() {
      @Override
      public Tensor forward(Tensor x) {
        return x.neg();
      }
    })) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OnnxExport.toBytes(m, new long[] {1, 4}, 17));
      assertTrue(e.getMessage().contains("'0'"), e.getMessage());
    }
    try (Linear l = new Linear(4, 2)) {
      assertThrows(IllegalArgumentException.class, () -> OnnxExport.toBytes(l, new long[] {1, 4}, 10));
    }
  }
}
