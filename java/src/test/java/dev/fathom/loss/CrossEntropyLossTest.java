package dev.fathom.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** CrossEntropyLoss (class indices and probabilities) and Losses.softmax/logSoftmax. */
class CrossEntropyLossTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  /** Logits with extreme rows: +-1000 would overflow a naive exp in any dtype. */
  private static final double[] LOGITS = {
    1000, -1000, 0,
    -1000, 1000, 0,
    0.5, 1.5, -2,
    -1000, -1000, -1000
  };
  private static final long[] LABELS = {1, 1, 0, 2};

  /** Plain-Java log-softmax of one row, max subtracted first. */
  private static double[] logSoftmaxRow(double[] x, int row, int c) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < c; j++) {
      max = Math.max(max, x[row * c + j]);
    }
    double sum = 0;
    for (int j = 0; j < c; j++) {
      sum += Math.exp(x[row * c + j] - max);
    }
    double lse = max + Math.log(sum);
    double[] out = new double[c];
    for (int j = 0; j < c; j++) {
      out[j] = x[row * c + j] - lse;
    }
    return out;
  }

  private static double[] referenceIndices(double[] x, long[] labels, int c) {
    double[] l = new double[labels.length];
    for (int i = 0; i < labels.length; i++) {
      l[i] = -logSoftmaxRow(x, i, c)[(int) labels[i]];
    }
    return l;
  }

  private static double[] referenceProbabilities(double[] x, double[] p, int n, int c) {
    double[] l = new double[n];
    for (int i = 0; i < n; i++) {
      double[] lsm = logSoftmaxRow(x, i, c);
      for (int j = 0; j < c; j++) {
        l[i] -= p[i * c + j] * lsm[j];
      }
    }
    return l;
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s;
  }

  @Test
  void classIndicesMatchReferenceAtExtremeLogits() {
    double[] ref = referenceIndices(LOGITS, LABELS, 3);
    assertEquals(2000, ref[0], 0);   // label 1 against a logit 2000 below the top
    assertEquals(0, ref[1], 1e-12);
    assertEquals(Math.log(3), ref[3], 1e-12);
    for (DType type : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      try (Scope s = Scope.open()) {
        Tensor logits = Tensor.fromArray(LOGITS, 4, 3).to(type);
        Tensor labels = Tensor.fromArray(LABELS, 4);
        double tol = type == DType.FLOAT32 ? 1e-4 : 1e-12;
        Tensor none = new CrossEntropyLoss(Reduction.NONE).apply(logits, labels);
        assertArrayEquals(new long[] {4}, none.shape());
        assertArrayEquals(ref, none.toDoubleArray(), tol * 2000, type.toString());
        assertEquals(sum(ref), new CrossEntropyLoss(Reduction.SUM).apply(logits, labels).item(), tol * 2000);
        assertEquals(sum(ref) / 4, new CrossEntropyLoss().apply(logits, labels).item(), tol * 500);
      }
    }
  }

  @Test
  void gradientsAreFiniteAtExtremeLogits() {
    try (Scope s = Scope.open()) {
      Tensor logits = Tensor.fromArray(LOGITS, 4, 3).to(DType.FLOAT32).requiresGrad(true);
      new CrossEntropyLoss().apply(logits, Tensor.fromArray(LABELS, 4)).backward();
      float[] g = logits.grad().toFloatArray();
      // (softmax - onehot) / N: row 0 puts all mass on class 0 while the label is 1.
      float[] expected = {0.25f, -0.25f, 0, 0, 0, 0, 0, 0, 0, 1 / 12f, 1 / 12f, -1 / 6f};
      for (int i : new int[] {0, 1, 2, 3, 4, 5, 9, 10, 11}) {
        assertEquals(expected[i], g[i], 1e-6, "grad[" + i + "]");
      }
      for (float v : g) {
        assertTrue(Float.isFinite(v));
      }
    }
  }

  @Test
  void probabilityTargetsMatchReferenceAndOneHotEqualsIndices() {
    double[] soft = {0.2, 0.5, 0.3, 0, 1, 0, 0.25, 0.25, 0.5, 1, 0, 0};
    double[] ref = referenceProbabilities(LOGITS, soft, 4, 3);
    try (Scope s = Scope.open()) {
      Tensor logits = Tensor.fromArray(LOGITS, 4, 3);
      Tensor p = Tensor.fromArray(soft, 4, 3);
      assertArrayEquals(ref, new CrossEntropyLoss(Reduction.NONE).apply(logits, p).toDoubleArray(), 1e-9);
      assertEquals(sum(ref), new CrossEntropyLoss(Reduction.SUM).apply(logits, p).item(), 1e-9);
      assertEquals(sum(ref) / 4, new CrossEntropyLoss().apply(logits, p).item(), 1e-9);
      Tensor labels = Tensor.fromArray(LABELS, 4);
      Tensor oneHot = Tensor.oneHot(labels, 3);   // float32 targets against float64 logits
      assertArrayEquals(new CrossEntropyLoss(Reduction.NONE).apply(logits, labels).toDoubleArray(),
          new CrossEntropyLoss(Reduction.NONE).apply(logits, oneHot).toDoubleArray(), 1e-12);
    }
  }

  @Test
  void int32LabelsWork() {
    try (Scope s = Scope.open()) {
      Tensor logits = Tensor.fromArray(LOGITS, 4, 3);
      assertEquals(new CrossEntropyLoss().apply(logits, Tensor.fromArray(LABELS, 4)).item(),
          new CrossEntropyLoss().apply(logits, Tensor.fromArray(new int[] {1, 1, 0, 2}, 4)).item(), 0);
    }
  }

  @Test
  void labelsOutOfRangeAreNamed() {
    try (Scope s = Scope.open()) {
      Tensor logits = Tensor.zeros(3, 4);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new CrossEntropyLoss().apply(logits, Tensor.fromArray(new long[] {0, 4, 1}, 3)));
      assertTrue(e.getMessage().contains("target[1] = 4") && e.getMessage().contains("[0, 4)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class,
          () -> new CrossEntropyLoss().apply(logits, Tensor.fromArray(new long[] {0, 1, -1}, 3)));
      assertTrue(e.getMessage().contains("target[2] = -1"), e.getMessage());
    }
  }

  @Test
  void shapeErrorsNameTheLossAndBothShapes() {
    try (Scope s = Scope.open()) {
      Tensor logits = Tensor.zeros(2, 3);
      String[][] cases = {{"[2,3]", "[3]"}, {"[2,3]", "[2,4]"}, {"[3]", "[1]"}, {"[2,3]", "[2,1]"}};
      Tensor[][] inputs = {
        {logits, Tensor.zeros(DType.INT64, 3)},
        {logits, Tensor.zeros(2, 4)},
        {Tensor.zeros(3), Tensor.zeros(DType.INT64, 1)},
        {logits, Tensor.zeros(DType.INT64, 2, 1)},
      };
      for (int i = 0; i < cases.length; i++) {
        Tensor[] in = inputs[i];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> new CrossEntropyLoss().apply(in[0], in[1]));
        assertTrue(e.getMessage().startsWith("CrossEntropyLoss") && e.getMessage().contains(cases[i][0])
            && e.getMessage().contains(cases[i][1]), e.getMessage());
      }
      assertThrows(IllegalArgumentException.class,
          () -> new CrossEntropyLoss().apply(logits, Tensor.zeros(DType.BOOL, 2)));
    }
  }

  @Test
  void gradcheck() {
    double[] probs = {0.1, 0.6, 0.3, 0.2, 0.2, 0.6, 1, 0, 0};
    for (Reduction r : Reduction.values()) {
      GradCheck.checkFunction("CrossEntropyLoss indices " + r,
          x -> new CrossEntropyLoss(r).apply(x, Tensor.fromArray(new long[] {2, 0, 1}, 3)),
          GradCheck.uniform(4, 9, -3, 3), 3, 3);
      GradCheck.checkFunction("CrossEntropyLoss probabilities " + r,
          x -> new CrossEntropyLoss(r).apply(x, Tensor.fromArray(probs, 3, 3)),
          GradCheck.uniform(5, 9, -3, 3), 3, 3);
    }
    // Large logits: the gradient is still softmax - target.
    double[] big = GradCheck.uniform(6, 6, -3, 3);
    big[0] = 500;
    big[4] = -500;
    GradCheck.checkFunction("CrossEntropyLoss large logits",
        x -> new CrossEntropyLoss().apply(x, Tensor.fromArray(new long[] {1, 2}, 2)), big, 2, 3);
  }

  @Test
  void softmaxAndLogSoftmax() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.fromArray(LOGITS, 4, 3);
      double[] p = Losses.softmax(x, 1).toDoubleArray();
      double[] lp = Losses.logSoftmax(x, 1).toDoubleArray();
      for (int i = 0; i < 4; i++) {
        double[] ref = logSoftmaxRow(LOGITS, i, 3);
        double rowSum = 0;
        for (int j = 0; j < 3; j++) {
          assertEquals(ref[j], lp[i * 3 + j], 1e-12);
          assertEquals(Math.exp(ref[j]), p[i * 3 + j], 1e-15);
          rowSum += p[i * 3 + j];
        }
        assertEquals(1, rowSum, 1e-12);
      }
      // Along dim 0 of a transposed layout.
      double[] col = Losses.softmax(x.t(), 0).t().toDoubleArray();
      assertArrayEquals(p, col, 1e-15);
      assertThrows(IllegalArgumentException.class, () -> Losses.softmax(Tensor.zeros(DType.INT64, 2), 0));
    }
    GradCheck.checkFunction("logSoftmax", x -> Losses.logSoftmax(x, 1), GradCheck.uniform(8, 8, -2, 2), 2, 4);
    GradCheck.checkFunction("softmax", x -> Losses.softmax(x, 0), GradCheck.uniform(9, 8, -2, 2), 2, 4);
  }
}
