package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Functional.rnn: float32 (oneDNN) against float64 (the reference kernel) for
 * outputs and every gradient, shapes, partial gradients, bad input and native
 * memory. The float64 gradient checks are in GradCheckTest.
 */
class RnnOpTest {
  private long baseline;
  private Scope scope;

  @BeforeEach
  void open() {
    baseline = Tensor.liveNativeBytes();
    scope = Scope.open();
  }

  @AfterEach
  void close() {
    scope.close();
    assertEquals(baseline, Tensor.liveNativeBytes(), "leaked native bytes");
  }

  private static int gates(RnnMode mode) {
    return mode == RnnMode.LSTM ? 4 : mode == RnnMode.GRU || mode == RnnMode.GRU_PYTORCH ? 3 : 1;
  }

  /** PyTorch-layout weights in U(-1/sqrt(H), 1/sqrt(H)), as torch.nn.LSTM initialises them. */
  private static List<Tensor> weights(Generator g, RnnMode mode, long input, long hidden, int layers, int d,
      DType type) {
    double bound = 1 / Math.sqrt(hidden);
    long rows = gates(mode) * hidden;
    List<Tensor> w = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      for (int dir = 0; dir < d; dir++) {
        w.add(Tensor.uniform(g, -bound, bound, type, rows, k == 0 ? input : d * hidden));
        w.add(Tensor.uniform(g, -bound, bound, type, rows, hidden));
        w.add(Tensor.uniform(g, -bound, bound, type, rows));
        w.add(Tensor.uniform(g, -bound, bound, type, rows));
      }
    }
    return w;
  }

  private static List<Tensor> as(List<Tensor> ts, DType type) {
    List<Tensor> out = new ArrayList<>();
    for (Tensor t : ts) {
      out.add(t.to(type).detach().requiresGrad(true));
    }
    return out;
  }

  /** Runs forward and backward of sum(output * r) + sum(hn * r') (+ cn) and returns every gradient. */
  private static List<Tensor> gradients(RnnMode mode, Tensor x, Tensor h0, Tensor c0, List<Tensor> w, int layers,
      boolean bidirectional, List<Tensor> outputs) {
    RnnResult r = Functional.rnn(mode, x, h0, c0, w, layers, bidirectional);
    Generator g = new Generator(99);
    Tensor loss = r.output().mul(Tensor.uniform(g, -1, 1, x.dtype(), r.output().shape())).sum()
        .add(r.hn().mul(Tensor.uniform(g, -1, 1, x.dtype(), r.hn().shape())).sum());
    if (r.cn() != null) {
      loss = loss.add(r.cn().mul(Tensor.uniform(g, -1, 1, x.dtype(), r.cn().shape())).sum());
    }
    loss.backward();
    outputs.add(r.output());
    outputs.add(r.hn());
    List<Tensor> grads = new ArrayList<>(List.of(x.grad(), h0.grad()));
    if (c0 != null) {
      grads.add(c0.grad());
    }
    for (Tensor t : w) {
      grads.add(t.grad());
    }
    return grads;
  }

  @ParameterizedTest
  @EnumSource(RnnMode.class)
  void float32OneDnnMatchesFloat64Reference(RnnMode mode) {
    Generator g = new Generator(7);
    long t = 6;
    long n = 3;
    long in = 5;
    long h = 7;
    int layers = 2;
    boolean bidirectional = true;
    boolean lstm = mode == RnnMode.LSTM;
    Tensor x = Tensor.uniform(g, -1, 1, DType.FLOAT64, t, n, in);
    Tensor h0 = Tensor.uniform(g, -1, 1, DType.FLOAT64, 2 * layers, n, h);
    Tensor c0 = lstm ? Tensor.uniform(g, -1, 1, DType.FLOAT64, 2 * layers, n, h) : null;
    List<Tensor> w = weights(g, mode, in, h, layers, 2, DType.FLOAT64);
    List<Tensor> out32 = new ArrayList<>();
    List<Tensor> out64 = new ArrayList<>();
    List<Tensor> g32 = gradients(mode, x.to(DType.FLOAT32).detach().requiresGrad(true),
        h0.to(DType.FLOAT32).detach().requiresGrad(true),
        lstm ? c0.to(DType.FLOAT32).detach().requiresGrad(true) : null, as(w, DType.FLOAT32), layers,
        bidirectional, out32);
    List<Tensor> g64 = gradients(mode, x.detach().requiresGrad(true), h0.detach().requiresGrad(true),
        lstm ? c0.detach().requiresGrad(true) : null, as(w, DType.FLOAT64), layers, bidirectional, out64);
    assertArrayEquals(new long[] {t, n, 2 * h}, out32.get(0).shape());
    assertArrayEquals(new long[] {2 * layers, n, h}, out32.get(1).shape());
    assertEquals(DType.FLOAT32, out32.get(0).dtype());
    for (int k = 0; k < out32.size(); k++) {
      assertTrue(out32.get(k).allClose(out64.get(k), 1e-4, 1e-5), mode + " output " + k);
    }
    assertEquals(g64.size(), g32.size());
    for (int k = 0; k < g32.size(); k++) {
      assertNotNull(g32.get(k), mode + " gradient " + k);
      assertTrue(g32.get(k).allClose(g64.get(k), 1e-4, 1e-5), mode + " gradient " + k);
    }
  }

  @Test
  void gradientsReachOnlyWhatRequiresThemAndStatesMayBeNull() {
    Generator g = new Generator(3);
    Tensor x = Tensor.randn(g, 4, 2, 3);
    List<Tensor> w = weights(g, RnnMode.GRU, 3, 5, 1, 1, DType.FLOAT32);
    w.get(0).requiresGrad(true);
    w.get(3).requiresGrad(true);
    RnnResult r = Functional.rnn(RnnMode.GRU, x, null, null, w, 1, false);
    assertNull(r.cn());
    // Only hn feeds the loss: the gradient still flows back through every step.
    r.hn().sum().backward();
    assertNotNull(w.get(0).grad());
    assertNotNull(w.get(3).grad());
    assertNull(w.get(1).grad());
    assertNull(x.grad());
    assertTrue(w.get(0).grad().abs().sum().item() > 0);
    // hn is the last step of output for a single forward layer.
    assertTrue(r.hn().allClose(r.output().narrow(0, 3, 1), 0, 0));
  }

  @Test
  void inferenceNeedsNoGraphAndMatchesTraining() {
    Generator g = new Generator(5);
    Tensor x = Tensor.randn(g, 5, 3, 4);
    List<Tensor> w = weights(g, RnnMode.LSTM, 4, 6, 1, 1, DType.FLOAT32);
    RnnResult eval;
    try (GradMode.Guard guard = GradMode.disable()) {
      eval = Functional.rnn(RnnMode.LSTM, x, null, null, w, 1, false);
    }
    assertFalse(eval.output().requiresGrad());
    List<Tensor> trainable = as(w, DType.FLOAT32);
    RnnResult train = Functional.rnn(RnnMode.LSTM, x, null, null, trainable, 1, false);
    assertTrue(train.output().requiresGrad());
    assertTrue(eval.output().allClose(train.output(), 1e-6, 1e-7));
    assertTrue(eval.cn().allClose(train.cn(), 1e-6, 1e-7));
  }

  @Test
  void badInputNamesTheOpAndTheShapes() {
    Generator g = new Generator(1);
    Tensor x = Tensor.randn(g, 4, 2, 3);
    List<Tensor> w = weights(g, RnnMode.LSTM, 3, 5, 1, 1, DType.FLOAT32);
    Tensor h0 = Tensor.zeros(1, 2, 5);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, x, h0, null, w.subList(0, 3), 1, false));
    assertTrue(e.getMessage().startsWith("rnn(LSTM): expected 4 weights"), e.getMessage());

    List<Tensor> wrong = new ArrayList<>(w);
    wrong.set(0, Tensor.zeros(20, 4));
    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, x, h0, null, wrong, 1, false));
    assertTrue(e.getMessage().contains("weight 0 (weight_ih_l0) has shape [20,4] but [20,3] is expected"),
        e.getMessage());
    assertTrue(e.getMessage().contains("input [4,2,3], hidden_size 5"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.GRU, x, h0, null, w, 1, false));
    assertTrue(e.getMessage().contains("rnn(GRU): weight 0 (weight_ih_l0) has shape [20,3] but [15,3]"),
        e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, x, Tensor.zeros(2, 2, 5), null, w, 1, false));
    assertTrue(e.getMessage().contains("h0 has shape [2,2,5] but [1,2,5] is expected"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, x.to(DType.FLOAT64), h0, null, w, 1, false));
    assertTrue(e.getMessage().contains("weight 0 (weight_ih_l0) is float32 but input is float64"), e.getMessage());

    List<Tensor> gru = weights(g, RnnMode.GRU, 3, 5, 1, 1, DType.FLOAT32);
    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.GRU, x, h0, Tensor.zeros(1, 2, 5), gru, 1, false));
    assertTrue(e.getMessage().contains("rnn(GRU): c0 is given but only LSTM has a cell state"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, Tensor.zeros(2, 3), null, null, w, 1, false));
    assertTrue(e.getMessage().contains("input must be (T, N, input_size), got [2,3]"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, x, null, null, w, 1, true));
    assertTrue(e.getMessage().contains("expected 8 weights"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, x, null, null, w, 0, false));
    assertTrue(e.getMessage().contains("layers must be >= 1"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class,
        () -> Functional.rnn(RnnMode.LSTM, Tensor.zeros(DType.INT64, 4, 2, 3), null, null, w, 1, false));
    assertTrue(e.getMessage().contains("float32 or float64"), e.getMessage());

    Tensor closed = Tensor.zeros(1, 2, 5);
    closed.close();
    assertThrows(IllegalStateException.class, () -> Functional.rnn(RnnMode.LSTM, x, closed, null, w, 1, false));
  }

  @Test
  void nonContiguousInputsAreCopiedAndStillGetGradients() {
    Generator g = new Generator(4);
    Tensor xt = Tensor.randn(g, 2, 4, 3).requiresGrad(true);  // (N, T, I), transposed to (T, N, I)
    List<Tensor> w = weights(g, RnnMode.RNN_TANH, 3, 4, 1, 1, DType.FLOAT32);
    RnnResult r = Functional.rnn(RnnMode.RNN_TANH, xt.transpose(0, 1), null, null, w, 1, false);
    r.output().sum().backward();
    assertArrayEquals(new long[] {2, 4, 3}, xt.grad().shape());
    assertTrue(xt.grad().abs().sum().item() > 0);
  }

  /** Native memory returns to its baseline without a scope, after training and inference calls. */
  @Test
  void noNativeMemoryLeaksWithoutAScope() {
    scope.close();
    long before = Tensor.liveNativeBytes();
    Generator g = new Generator(8);
    for (RnnMode mode : RnnMode.values()) {
      try (Tensor x = Tensor.randn(g, 5, 2, 3).requiresGrad(true);
          Tensor h0 = Tensor.randn(g, 2, 2, 4).requiresGrad(true)) {
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : weights(g, mode, 3, 4, 2, 1, DType.FLOAT32)) {
          w.add(t.unscope().requiresGrad(true));
        }
        for (int step = 0; step < 3; step++) {
          try (RnnResult r = Functional.rnn(mode, x, h0, null, w, 2, false);
              Tensor loss = r.output().sum()) {
            loss.backward();
          }
          try (GradMode.Guard guard = GradMode.disable();
              RnnResult r = Functional.rnn(mode, x, h0, null, w, 2, false)) {
            assertEquals(DType.FLOAT32, r.output().dtype());
          }
        }
        for (Tensor t : w) {
          t.close();
        }
      }
      assertEquals(before, Tensor.liveNativeBytes(), mode + ": leaked native bytes");
    }
    scope = Scope.open();
  }
}
