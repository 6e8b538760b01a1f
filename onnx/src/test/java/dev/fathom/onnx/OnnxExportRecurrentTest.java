package dev.fathom.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.fathom.nn.GRU;
import dev.fathom.nn.LSTM;
import dev.fathom.nn.Linear;
import dev.fathom.nn.Module;
import dev.fathom.nn.RNN;
import dev.fathom.nn.Sequential;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.text.CharLanguageModel;
import dev.fathom.text.CharLanguageModel.Cell;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export of the character language models (RNN, GRU in both cells, LSTM; one-hot or embedding
 * input; one or two layers) with their state as graph inputs and outputs, checked against
 * {@link CharLanguageModel#forward(Tensor, CharLanguageModel.State)} through the importer and
 * ONNX Runtime; and of standalone recurrent modules.
 */
class OnnxExportRecurrentTest {
  @TempDir
  Path dir;

  private static final int VOCAB = 11;
  private static final int HIDDEN = 8;

  /** Fathom's logits, hn (and cn) for tokens (N, T) from a random state. */
  private static Map<String, float[]> fathom(CharLanguageModel lm, Tensor tokens, Tensor h0, Tensor c0) {
    lm.eval();
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      CharLanguageModel.Output out = lm.forward(tokens, new CharLanguageModel.State(h0, c0));
      Map<String, float[]> m = new LinkedHashMap<>();
      m.put("output", out.logits().toFloatArray());
      m.put("hn", out.state().h().toFloatArray());
      if (c0 != null) {
        m.put("cn", out.state().c().toFloatArray());
      }
      return m;
    }
  }

  private static Map<String, float[]> imported(Path file, Map<String, Tensor> inputs) {
    try (OnnxModel model = OnnxModel.load(file); GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      Map<String, float[]> m = new LinkedHashMap<>();
      model.run(inputs).forEach((k, v) -> m.put(k, v.toFloatArray()));
      return m;
    }
  }

  private static Map<String, float[]> onnxRuntime(Path file, Map<String, Tensor> inputs) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(file.toString(), opts)) {
      Map<String, OnnxTensor> in = new HashMap<>();
      try {
        for (var e : inputs.entrySet()) {
          Tensor t = e.getValue();
          in.put(e.getKey(), t.dtype() == DType.INT64
              ? OnnxTensor.createTensor(env, LongBuffer.wrap(t.toLongArray()), t.shape())
              : OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), t.shape()));
        }
        try (OrtSession.Result r = session.run(in)) {
          Map<String, float[]> m = new LinkedHashMap<>();
          for (var e : r) {
            FloatBuffer fb = ((OnnxTensor) e.getValue()).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            m.put(e.getKey(), out);
          }
          return m;
        }
      } finally {
        in.values().forEach(OnnxTensor::close);
      }
    }
  }

  private static Tensor tokens(long seed, int n, int t) {
    java.util.Random r = new java.util.Random(seed);
    long[] v = new long[n * t];
    for (int k = 0; k < v.length; k++) {
      v[k] = r.nextInt(VOCAB);
    }
    return Tensor.fromArray(v, n, t).unscope();
  }

  /** Exports for (1, 4) tokens, runs on (3, 6) tokens and a random state; both runs within 1e-4. */
  private void check(String name, CharLanguageModel.Config config) throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Generator gen = new Generator(name.hashCode());
    boolean lstm = config.cell() == Cell.LSTM;
    try (CharLanguageModel lm = new CharLanguageModel(config, gen);
        Tensor tokens = tokens(name.hashCode(), 3, 6);
        Tensor h0 = Tensor.uniform(gen, -0.8, 0.8, DType.FLOAT32, config.layers(), 3, HIDDEN).unscope();
        Tensor c0 = Tensor.uniform(gen, -0.8, 0.8, DType.FLOAT32, config.layers(), 3, HIDDEN).unscope()) {
      Path file = dir.resolve(name + ".onnx");
      OnnxExport.write(lm, new long[] {1, 4}, file);
      Map<String, Tensor> inputs = lstm ? Map.of("input", tokens, "h0", h0, "c0", c0)
          : Map.of("input", tokens, "h0", h0);
      Map<String, float[]> want = fathom(lm, tokens, h0, lstm ? c0 : null);
      Map<String, float[]> imp = imported(file, inputs);
      Map<String, float[]> ort = onnxRuntime(file, inputs);
      assertEquals(want.keySet(), imp.keySet(), name + ": importer outputs");
      assertEquals(want.keySet(), ort.keySet(), name + ": ONNX Runtime outputs");
      for (String out : want.keySet()) {
        double di = OnnxTestSupport.maxAbsDiff(want.get(out), imp.get(out));
        double dr = OnnxTestSupport.maxAbsDiff(want.get(out), ort.get(out));
        System.out.printf("export %-14s %-6s importer max|diff| %.3g, onnxruntime max|diff| %.3g%n", name, out, di,
            dr);
        assertTrue(di <= 1e-4, name + " " + out + ": importer differs by " + di);
        assertTrue(dr <= 1e-4, name + " " + out + ": ONNX Runtime differs by " + dr);
      }
      ModelProto p = ModelProto.parseFrom(Files.readAllBytes(file));
      // Initializers carry the state-dict names (gate rows reordered), plus OneHot's constants and shapes.
      Set<String> inits = p.getGraph().getInitializerList().stream()
          .filter(t -> t.getDataType() == TensorProto.DataType.FLOAT_VALUE).map(TensorProto::getName)
          .collect(Collectors.toSet());
      Set<String> params = lm.namedParameters().keySet();
      assertTrue(inits.containsAll(params), inits + " has " + params);
      inits.removeAll(params);
      assertEquals(config.embeddingDim() == 0 ? Set.of("one_hot_values") : Set.of(), inits);
      assertEquals("T", p.getGraph().getInput(0).getType().getTensorType().getShape().getDim(1).getDimParam());
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), name + ": native bytes left");
  }

  @Test
  void rnnCharModel() throws Exception {
    check("char-rnn", new CharLanguageModel.Config(Cell.RNN, VOCAB, HIDDEN, 1, 0, false));
  }

  @Test
  void gruCharModelsInBothCells() throws Exception {
    check("char-gru", new CharLanguageModel.Config(Cell.GRU, VOCAB, HIDDEN, 1, 0, false));
    check("char-gru-torch", new CharLanguageModel.Config(Cell.GRU, VOCAB, HIDDEN, 1, 0, true));
  }

  @Test
  void lstmCharModel() throws Exception {
    check("char-lstm", new CharLanguageModel.Config(Cell.LSTM, VOCAB, HIDDEN, 1, 0, false));
  }

  @Test
  void stackedLayersAndEmbeddings() throws Exception {
    check("lstm-2-emb", new CharLanguageModel.Config(Cell.LSTM, VOCAB, HIDDEN, 2, 5, false));
    check("gru-2", new CharLanguageModel.Config(Cell.GRU, VOCAB, HIDDEN, 2, 0, false));
    check("rnn-2-emb", new CharLanguageModel.Config(Cell.RNN, VOCAB, HIDDEN, 2, 4, false));
  }

  @Test
  void gateOrderAndCellAttributes() throws Exception {
    Generator gen = new Generator(3);
    try (CharLanguageModel lm = new CharLanguageModel(new CharLanguageModel.Config(Cell.LSTM, VOCAB, HIDDEN, 1, 0,
        false), gen)) {
      ModelProto p = OnnxExport.toProto(lm, new long[] {2, 3}, 17);
      TensorProto w = p.getGraph().getInitializerList().stream()
          .filter(t -> t.getName().equals("rnn.weight_ih_l0")).findFirst().orElseThrow();
      assertEquals(List.of(1L, 4L * HIDDEN, (long) VOCAB), w.getDimsList());
      // ONNX's row block 1 is the output gate, Fathom's (PyTorch's) block 3.
      float[] raw = new float[4 * HIDDEN * VOCAB];
      w.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(raw);
      float[] fathomRows = lm.namedParameters().get("rnn.weight_ih_l0").toFloatArray();
      for (int k = 0; k < HIDDEN * VOCAB; k++) {
        assertEquals(fathomRows[3 * HIDDEN * VOCAB + k], raw[HIDDEN * VOCAB + k]);
      }
    }
    for (boolean torch : new boolean[] {false, true}) {
      try (CharLanguageModel lm = new CharLanguageModel(new CharLanguageModel.Config(Cell.GRU, VOCAB, HIDDEN, 1, 0,
          torch), gen)) {
        NodeProto gru = OnnxExport.toProto(lm, new long[] {2, 3}, 17).getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("GRU")).findFirst().orElseThrow();
        long lbr = gru.getAttributeList().stream().filter(a -> a.getName().equals("linear_before_reset"))
            .findFirst().orElseThrow().getI();
        assertEquals(torch ? 1 : 0, lbr);
      }
    }
  }

  @Test
  void refusesAnExampleShapeThatIsNotTokens() {
    try (CharLanguageModel lm = new CharLanguageModel(new CharLanguageModel.Config(Cell.RNN, VOCAB, HIDDEN, 1, 0,
        false), new Generator(1))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OnnxExport.toBytes(lm, new long[] {1, 4, VOCAB}, 17));
      assertTrue(e.getMessage().contains("(N, T)"), e.getMessage());
    }
  }

  @Test
  void standaloneRecurrentModules() throws Exception {
    Generator gen = new Generator(5);
    List<Module> nets = List.of(
        new Sequential(LSTM.builder(5, HIDDEN).numLayers(2).generator(gen).build(), new Linear(HIDDEN, 3, true, gen)),
        new Sequential(GRU.builder(5, HIDDEN).bidirectional(true).batchFirst(true).generator(gen).build()),
        new Sequential(RNN.builder(5, HIDDEN).nonlinearity("relu").bidirectional(true).numLayers(2)
            .generator(gen).build()));
    String[] names = {"lstm-2", "gru-bi-bf", "rnn-relu-bi-2"};
    for (int i = 0; i < nets.size(); i++) {
      try (Module m = nets.get(i); Tensor x = Tensor.uniform(gen, -1, 1, DType.FLOAT32, 4, 3, 5).unscope()) {
        Path file = dir.resolve(names[i] + ".onnx");
        OnnxExport.write(m, new long[] {4, 3, 5}, file, i == 0 ? 11 : 17);
        m.eval();
        float[] want;
        try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
          want = m.forward(x).toFloatArray();
        }
        double di = OnnxTestSupport.maxAbsDiff(want, imported(file, Map.of("input", x)).get("output"));
        double dr = OnnxTestSupport.maxAbsDiff(want, onnxRuntime(file, Map.of("input", x)).get("output"));
        System.out.printf("export %-14s importer max|diff| %.3g, onnxruntime max|diff| %.3g%n", names[i], di, dr);
        assertTrue(di <= 1e-4 && dr <= 1e-4, names[i] + ": " + di + ", " + dr);
      }
    }
  }
}
