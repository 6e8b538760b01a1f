package dev.fathom.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.RnnResult;
import dev.fathom.tensor.ScopedLeakCheck;
import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** RNN, GRU, LSTM and Embedding modules: PyTorch's parameters, options, gradients, errors. */
@ExtendWith(ScopedLeakCheck.class)
class RecurrentLayersTest {
  @Test
  void parametersAreNamedAndShapedAsPytorch() {
    try (LSTM lstm = LSTM.builder(10, 20).numLayers(2).bidirectional(true).build()) {
      assertEquals(List.of(
          "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
          "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
          "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
          "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"),
          List.copyOf(lstm.namedParameters().keySet()));
      assertArrayEquals(new long[] {80, 10}, lstm.namedParameters().get("weight_ih_l0").shape());
      assertArrayEquals(new long[] {80, 40}, lstm.namedParameters().get("weight_ih_l1_reverse").shape());
      assertArrayEquals(new long[] {80, 20}, lstm.namedParameters().get("weight_hh_l1").shape());
      assertArrayEquals(new long[] {80}, lstm.namedParameters().get("bias_hh_l0_reverse").shape());
      // torch: sum(p.numel() for p in nn.LSTM(10, 20, 2, bidirectional=True).parameters()) == 15040
      assertEquals(15040, lstm.parameterCount());
      assertEquals(RnnMode.LSTM, lstm.mode());
      assertEquals(40, lstm.outputSize());
    }
    try (GRU gru = new GRU(5, 7); RNN rnn = new RNN(5, 7)) {
      assertEquals(3 * 7 * (5 + 7) + 2 * 3 * 7, gru.parameterCount());
      assertEquals(7 * (5 + 7) + 2 * 7, rnn.parameterCount());
    }
  }

  @Test
  void variantsSelectTheCell() {
    try (RNN tanh = new RNN(3, 4); RNN relu = RNN.builder(3, 4).nonlinearity("relu").build();
        GRU notes = new GRU(3, 4); GRU torch = GRU.builder(3, 4).pytorchCompatible().build()) {
      assertEquals(RnnMode.RNN_TANH, tanh.mode());
      assertEquals(RnnMode.RNN_RELU, relu.mode());
      assertEquals(RnnMode.GRU, notes.mode());
      assertEquals(RnnMode.GRU_PYTORCH, torch.mode());
      assertTrue(torch.toString().contains("pytorchCompatible"), torch.toString());
    }
    assertThrows(IllegalArgumentException.class, () -> RNN.builder(3, 4).nonlinearity("sigmoid"));
    assertThrows(IllegalArgumentException.class, () -> LSTM.builder(3, 4).numLayers(0));
    assertThrows(IllegalArgumentException.class, () -> new LSTM(0, 4));
  }

  @Test
  void initialisationIsUniformWithinOneOverSqrtHidden() {
    try (GRU gru = GRU.builder(30, 64).generator(new Generator(5)).build()) {
      double bound = 1 / Math.sqrt(64);
      for (var e : gru.namedParameters().entrySet()) {
        double[] v = e.getValue().toDoubleArray();
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        double sum = 0;
        for (double x : v) {
          min = Math.min(min, x);
          max = Math.max(max, x);
          sum += x;
        }
        assertTrue(min >= -bound && max <= bound, e.getKey() + " outside +-" + bound);
        // U(-b, b) over >= 192 values: the extremes come close to the bound and the mean to 0.
        assertTrue(max > 0.9 * bound && min < -0.9 * bound, e.getKey() + " does not span the range");
        assertEquals(0, sum / v.length, 0.25 * bound, e.getKey() + " mean");
      }
    }
  }

  @Test
  void batchFirstIsTheTransposedLayout() {
    try (GRU timeMajor = GRU.builder(3, 4).generator(new Generator(1)).build();
        GRU batchFirst = GRU.builder(3, 4).batchFirst(true).generator(new Generator(1)).build()) {
      Tensor x = Tensor.uniform(new Generator(2), -1, 1, DType.FLOAT32, 5, 2, 3);   // (T, N, I)
      Tensor h0 = Tensor.uniform(new Generator(3), -1, 1, DType.FLOAT32, 1, 2, 4);
      RnnResult a = timeMajor.forward(x, h0, null);
      RnnResult b = batchFirst.forward(x.transpose(0, 1), h0, null);
      assertArrayEquals(new long[] {2, 5, 4}, b.output().shape());
      // Bitwise: batch-first only transposes around the same time-major computation.
      assertArrayEquals(a.output().transpose(0, 1).toFloatArray(), b.output().toFloatArray());
      assertArrayEquals(a.hn().toFloatArray(), b.hn().toFloatArray());
      assertArrayEquals(timeMajor.forward(x, null, null).output().toFloatArray(),
          timeMajor.forward(x).toFloatArray(), 0f, "forward(x) is forward(x, null, null).output()");
    }
  }

  @Test
  void carriedStateContinuesTheSequence() {
    // Two calls with the state carried equal one call over the whole sequence: what sequential
    // sampling relies on.
    try (LSTM lstm = LSTM.builder(3, 4).numLayers(2).generator(new Generator(4)).build()) {
      Tensor x = Tensor.uniform(new Generator(5), -1, 1, DType.FLOAT32, 6, 2, 3);
      RnnResult whole = lstm.forward(x, null, null);
      RnnResult first = lstm.forward(x.narrow(0, 0, 4), null, null);
      RnnResult second = lstm.forward(x.narrow(0, 4, 2), first.hn(), first.cn());
      assertArrayEquals(whole.output().narrow(0, 4, 2).toFloatArray(), second.output().toFloatArray(), 1e-6f);
      assertArrayEquals(whole.hn().toFloatArray(), second.hn().toFloatArray(), 1e-6f);
      assertArrayEquals(whole.cn().toFloatArray(), second.cn().toFloatArray(), 1e-6f);
    }
  }

  @Test
  void gradientsOfRecurrentModules() {
    Generator g = new Generator(9);
    try (Module m = RNN.builder(3, 2).nonlinearity("relu").generator(g).build()) {
      GradCheck.checkModule(m, new long[] {3, 2, 3}, 1);
    }
    try (Module m = GRU.builder(2, 3).pytorchCompatible().batchFirst(true).generator(g).build()) {
      GradCheck.checkModule(m, new long[] {2, 3, 2}, 2);
    }
    try (Module m = GRU.builder(2, 2).numLayers(2).generator(g).build()) {
      GradCheck.checkModule(m, new long[] {3, 1, 2}, 3);
    }
    try (Module m = LSTM.builder(2, 2).bidirectional(true).generator(g).build()) {
      GradCheck.checkModule(m, new long[] {3, 2, 2}, 4);
    }
  }

  @Test
  void shapeErrorsNameTheLayer() {
    try (LSTM lstm = new LSTM(3, 4); GRU gru = GRU.builder(3, 4).batchFirst(true).build()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> lstm.forward(Tensor.zeros(5, 2, 4)));
      assertEquals("LSTM(3->4): input [5, 2, 4] must be (T, N, 3)", e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> gru.forward(Tensor.zeros(5, 3)));
      assertEquals("GRU(3->4): input [5, 3] must be (N, T, 3)", e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> gru.forward(Tensor.zeros(2, 5, 3), null, Tensor.zeros(1, 2, 4)));
      assertTrue(e.getMessage().contains("only LSTM has a cell state"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> lstm.forward(Tensor.zeros(5, 2, 3), Tensor.zeros(2, 2, 4), null));
      assertTrue(e.getMessage().startsWith("rnn(LSTM): h0") && e.getMessage().replace(" ", "").contains("[1,2,4]"),
          e.getMessage());
    }
  }

  @Test
  void embeddingLooksUpRows() {
    try (Embedding emb = new Embedding(5, 3, new Generator(7))) {
      assertArrayEquals(new long[] {5, 3}, emb.namedParameters().get("weight").shape());
      Tensor idx = Tensor.fromArray(new long[] {4, 0, 4, 2}, 2, 2);
      Tensor out = emb.forward(idx);
      assertArrayEquals(new long[] {2, 2, 3}, out.shape());
      float[] w = emb.weight().toFloatArray();
      float[] o = out.toFloatArray();
      long[] ids = idx.toLongArray();
      for (int i = 0; i < ids.length; i++) {
        for (int j = 0; j < 3; j++) {
          assertEquals(w[(int) ids[i] * 3 + j], o[i * 3 + j]);
        }
      }
      // oneHot(idx) W is the same function.
      assertArrayEquals(Tensor.oneHot(idx, 5).matmul(emb.weight()).toFloatArray(), o, 1e-6f);
      assertArrayEquals(o, emb.forward(idx.to(DType.INT32)).toFloatArray());
    }
  }

  @Test
  void embeddingGradientAddsIntoLookedUpRows() {
    try (Embedding emb = new Embedding(4, 3, new Generator(8))) {
      Tensor idx = Tensor.fromArray(new long[] {1, 3, 1, 1, 0}, 5);   // repeats accumulate; row 2 gets 0
      GradCheck.checkModuleParameters(emb, () -> emb.forward(idx).tanh(), 5);
    }
  }

  @Test
  void embeddingRejectsBadIndices() {
    try (Embedding emb = new Embedding(4, 2)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> emb.forward(Tensor.fromArray(new long[] {1, 4}, 2)));
      assertTrue(e.getMessage().startsWith("Embedding(4, 2): indices [2] must lie in [0, 4)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensor.zeros(2)));
      assertTrue(e.getMessage().contains("must be int64 or int32"), e.getMessage());
      assertNotEquals(0, emb.weight().norm().item());
    }
  }
}
