package dev.fathom.nn.rnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.RnnResult;
import dev.fathom.tensor.ScopedLeakCheck;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Tensor-op reference against a scalar loop written straight from the equations (PyTorch's
 * documentation for RNN, LSTM and GRU_PYTORCH; the notes for GRU), in float64.
 */
@ExtendWith(ScopedLeakCheck.class)
class RnnReferenceTest {
  @ParameterizedTest
  @EnumSource(RnnMode.class)
  void matchesScalarLoop(RnnMode mode) {
    for (int[] cfg : new int[][] {{1, 0}, {1, 1}, {2, 0}, {2, 1}}) {
      int layers = cfg[0];
      boolean bidirectional = cfg[1] == 1;
      int t = 4;
      int n = 3;
      int in = 5;
      int h = 3;
      SplittableRandom rnd = new SplittableRandom(11 + layers * 2L + cfg[1]);
      double[][][] x = random3(rnd, t, n, in);
      int d = bidirectional ? 2 : 1;
      double[][][] h0 = random3(rnd, layers * d, n, h);
      double[][][] c0 = random3(rnd, layers * d, n, h);
      int g = RnnReference.gates(mode);
      List<double[][]> w = new ArrayList<>();
      for (int k = 0; k < layers; k++) {
        for (int dir = 0; dir < d; dir++) {
          w.add(random3(rnd, 1, g * h, k == 0 ? in : d * h)[0]);
          w.add(random3(rnd, 1, g * h, h)[0]);
          w.add(random3(rnd, 1, 1, g * h)[0]);
          w.add(random3(rnd, 1, 1, g * h)[0]);
        }
      }
      boolean lstm = mode == RnnMode.LSTM;
      Naive expected = naive(mode, x, h0, lstm ? c0 : null, w, layers, d);
      List<Tensor> wt = new ArrayList<>();
      for (double[][] m : w) {
        wt.add(m.length == 1 ? Tensor.fromArray(m[0], m[0].length) : Tensor.fromArray(flat(m), m.length, m[0].length));
      }
      RnnResult r = RnnReference.forward(mode, tensor(x), tensor(h0), lstm ? tensor(c0) : null, wt, layers,
          bidirectional);
      String what = mode + " layers=" + layers + " bidirectional=" + bidirectional;
      assertArrayEquals(new long[] {t, n, (long) d * h}, r.output().shape(), what);
      assertArrayEquals(flat3(expected.output), r.output().toDoubleArray(), 1e-12, what + " output");
      assertArrayEquals(flat3(expected.hn), r.hn().toDoubleArray(), 1e-12, what + " hn");
      if (lstm) {
        assertArrayEquals(flat3(expected.cn), r.cn().toDoubleArray(), 1e-12, what + " cn");
      } else {
        assertNull(r.cn(), what);
      }
    }
  }

  /**
   * The fused native op (Functional.rnn: oneDNN in float32, its reference kernel in float64) and
   * this Tensor-op reference give the same outputs and the same gradients for x, h0, c0 and every
   * weight, two layers in both directions.
   */
  @ParameterizedTest
  @EnumSource(RnnMode.class)
  void nativeOpMatchesTensorOpReference(RnnMode mode) {
    for (DType type : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
      double tol = type == DType.FLOAT64 ? 1e-10 : 2e-5;
      Results ref = run(mode, type, false);
      Results fused = run(mode, type, true);
      for (int i = 0; i < ref.values.size(); i++) {
        double[] a = ref.values.get(i);
        double[] b = fused.values.get(i);
        assertEquals(a.length, b.length);
        for (int j = 0; j < a.length; j++) {
          assertEquals(a[j], b[j], tol * (1 + Math.abs(a[j])), mode + " " + type + " " + ref.names.get(i) + "[" + j + "]");
        }
      }
    }
  }

  private record Results(List<String> names, List<double[]> values) {}

  /** Outputs and gradients of L = sum(output * r1) + sum(hn * r2) (+ sum(cn * r3)), on fixed data. */
  private static Results run(RnnMode mode, DType type, boolean fused) {
    int layers = 2;
    long t = 5;
    long n = 3;
    long in = 4;
    long h = 3;
    boolean lstm = mode == RnnMode.LSTM;
    long rows = RnnReference.gates(mode) * h;
    dev.fathom.tensor.Generator g = new dev.fathom.tensor.Generator(21);
    Tensor x = Tensor.uniform(g, -1, 1, type, t, n, in).requiresGrad(true);
    Tensor h0 = Tensor.uniform(g, -1, 1, type, 2 * layers, n, h).requiresGrad(true);
    Tensor c0 = lstm ? Tensor.uniform(g, -1, 1, type, 2 * layers, n, h).requiresGrad(true) : null;
    List<Tensor> w = new ArrayList<>();
    for (int k = 0; k < layers; k++) {
      for (int dir = 0; dir < 2; dir++) {
        w.add(Tensor.uniform(g, -0.6, 0.6, type, rows, k == 0 ? in : 2 * h).requiresGrad(true));
        w.add(Tensor.uniform(g, -0.6, 0.6, type, rows, h).requiresGrad(true));
        w.add(Tensor.uniform(g, -0.6, 0.6, type, rows).requiresGrad(true));
        w.add(Tensor.uniform(g, -0.6, 0.6, type, rows).requiresGrad(true));
      }
    }
    RnnResult r = fused ? dev.fathom.tensor.Functional.rnn(mode, x, h0, c0, w, layers, true)
        : RnnReference.forward(mode, x, h0, c0, w, layers, true);
    Tensor loss = r.output().mul(Tensor.uniform(g, -1, 1, type, r.output().shape())).sum()
        .add(r.hn().mul(Tensor.uniform(g, -1, 1, type, r.hn().shape())).sum());
    if (lstm) {
      loss = loss.add(r.cn().mul(Tensor.uniform(g, -1, 1, type, r.cn().shape())).sum());
    }
    loss.backward();
    List<String> names = new ArrayList<>(List.of("output", "hn", "dx", "dh0"));
    List<double[]> values = new ArrayList<>(List.of(r.output().toDoubleArray(), r.hn().toDoubleArray(),
        x.grad().toDoubleArray(), h0.grad().toDoubleArray()));
    if (lstm) {
      names.addAll(List.of("cn", "dc0"));
      values.addAll(List.of(r.cn().toDoubleArray(), c0.grad().toDoubleArray()));
    }
    List<String> weightNames = RnnReference.weightNames(layers, true);
    for (int i = 0; i < w.size(); i++) {
      names.add("d" + weightNames.get(i));
      values.add(w.get(i).grad().toDoubleArray());
    }
    return new Results(names, values);
  }

  @Test
  void nullStatesAreZerosAndFloat32Works() {
    SplittableRandom rnd = new SplittableRandom(3);
    Tensor x = tensor(random3(rnd, 3, 2, 4)).to(DType.FLOAT32);
    List<Tensor> w = new ArrayList<>();
    for (long[] s : new long[][] {{8, 4}, {8, 2}, {8}, {8}}) {
      w.add(Tensor.uniform(new dev.fathom.tensor.Generator(s.length), -0.5, 0.5, DType.FLOAT32, s));
    }
    RnnResult implicit = RnnReference.forward(RnnMode.LSTM, x, null, null, w, 1, false);
    RnnResult explicit = RnnReference.forward(RnnMode.LSTM, x, Tensor.zeros(1, 2, 2), Tensor.zeros(1, 2, 2), w, 1,
        false);
    assertEquals(DType.FLOAT32, implicit.output().dtype());
    // Bitwise: a null state is a zero state fed to the same loops.
    assertArrayEquals(explicit.output().toFloatArray(), implicit.output().toFloatArray());
    assertArrayEquals(explicit.cn().toFloatArray(), implicit.cn().toFloatArray());
    // The last output step of a forward-only layer is its final hidden state.
    assertArrayEquals(implicit.output().select(0, 2).toFloatArray(), implicit.hn().select(0, 0).toFloatArray());
  }

  @Test
  void badShapesNameTheWeightAndTheShapes() {
    Tensor x = Tensor.zeros(DType.FLOAT64, 3, 2, 4);
    List<Tensor> w = new ArrayList<>(List.of(Tensor.zeros(DType.FLOAT64, 6, 4), Tensor.zeros(DType.FLOAT64, 6, 2),
        Tensor.zeros(DType.FLOAT64, 6), Tensor.zeros(DType.FLOAT64, 6)));
    RnnReference.forward(RnnMode.GRU, x, null, null, w, 1, false);   // valid as given
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RnnReference.forward(RnnMode.LSTM, x, null, null, w, 1, false));
    assertTrue(e.getMessage().contains("rnn(LSTM): weight_ih_l0 must be [8, 4] float64"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RnnReference.forward(RnnMode.GRU, x, null, null, w, 2, false));
    assertTrue(e.getMessage().contains("expected 8 weights"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RnnReference.forward(RnnMode.GRU, x, Tensor.zeros(DType.FLOAT64, 1, 3, 2), null, w, 1, false));
    assertTrue(e.getMessage().contains("h0 must be (L*D, N, H) = [1, 2, 2]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RnnReference.forward(RnnMode.GRU, x, null, Tensor.zeros(DType.FLOAT64, 1, 2, 2), w, 1, false));
    assertTrue(e.getMessage().contains("c0 is only for LSTM"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RnnReference.forward(RnnMode.GRU, x.to(DType.FLOAT32), null, null, w, 1, false));
    assertTrue(e.getMessage().contains("weight_ih_l0 must be [6, 4] float32"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RnnReference.forward(RnnMode.GRU, Tensor.zeros(DType.FLOAT64, 3, 4), null, null, w, 1, false));
    assertTrue(e.getMessage().contains("x must be floating-point (T, N, I)"), e.getMessage());
  }

  // ------------------------------------------------------------------ the scalar loop

  private record Naive(double[][][] output, double[][][] hn, double[][][] cn) {}

  private static Naive naive(RnnMode mode, double[][][] x, double[][][] h0, double[][][] c0, List<double[][]> w,
      int layers, int d) {
    int steps = x.length;
    int n = x[0].length;
    int h = h0[0][0].length;
    double[][][] hn = new double[layers * d][][];
    double[][][] cn = new double[layers * d][][];
    double[][][] input = x;
    for (int k = 0; k < layers; k++) {
      double[][][] out = new double[steps][n][d * h];
      for (int dir = 0; dir < d; dir++) {
        int s = k * d + dir;
        double[][] wih = w.get(4 * s);
        double[][] whh = w.get(4 * s + 1);
        double[] bih = w.get(4 * s + 2)[0];
        double[] bhh = w.get(4 * s + 3)[0];
        for (int b = 0; b < n; b++) {
          double[] hPrev = h0[s][b].clone();
          double[] cPrev = c0 == null ? null : c0[s][b].clone();
          for (int i = 0; i < steps; i++) {
            int t = dir == 0 ? i : steps - 1 - i;
            double[] xt = input[t][b];
            double[] hNext = new double[h];
            double[] cNext = cPrev == null ? null : new double[h];
            for (int j = 0; j < h; j++) {
              switch (mode) {
                case RNN_TANH, RNN_RELU: {
                  double a = dot(wih[j], xt) + bih[j] + dot(whh[j], hPrev) + bhh[j];
                  hNext[j] = mode == RnnMode.RNN_TANH ? Math.tanh(a) : Math.max(0, a);
                  break;
                }
                case LSTM: {
                  double ig = sigmoid(dot(wih[j], xt) + bih[j] + dot(whh[j], hPrev) + bhh[j]);
                  double fg = sigmoid(dot(wih[h + j], xt) + bih[h + j] + dot(whh[h + j], hPrev) + bhh[h + j]);
                  double gg = Math.tanh(dot(wih[2 * h + j], xt) + bih[2 * h + j] + dot(whh[2 * h + j], hPrev)
                      + bhh[2 * h + j]);
                  double og = sigmoid(dot(wih[3 * h + j], xt) + bih[3 * h + j] + dot(whh[3 * h + j], hPrev)
                      + bhh[3 * h + j]);
                  cNext[j] = fg * cPrev[j] + ig * gg;
                  hNext[j] = og * Math.tanh(cNext[j]);
                  break;
                }
                default: {   // GRU, GRU_PYTORCH
                  double z = sigmoid(dot(wih[h + j], xt) + bih[h + j] + dot(whh[h + j], hPrev) + bhh[h + j]);
                  double cand;
                  if (mode == RnnMode.GRU) {
                    double[] rh = new double[h];
                    for (int m = 0; m < h; m++) {
                      rh[m] = sigmoid(dot(wih[m], xt) + bih[m] + dot(whh[m], hPrev) + bhh[m]) * hPrev[m];
                    }
                    cand = Math.tanh(dot(wih[2 * h + j], xt) + bih[2 * h + j] + dot(whh[2 * h + j], rh)
                        + bhh[2 * h + j]);
                  } else {
                    double r = sigmoid(dot(wih[j], xt) + bih[j] + dot(whh[j], hPrev) + bhh[j]);
                    cand = Math.tanh(dot(wih[2 * h + j], xt) + bih[2 * h + j]
                        + r * (dot(whh[2 * h + j], hPrev) + bhh[2 * h + j]));
                  }
                  hNext[j] = z * hPrev[j] + (1 - z) * cand;
                }
              }
            }
            hPrev = hNext;
            cPrev = cNext;
            System.arraycopy(hNext, 0, out[t][b], dir * h, h);
          }
          if (hn[s] == null) {
            hn[s] = new double[n][];
            cn[s] = new double[n][];
          }
          hn[s][b] = hPrev;
          cn[s][b] = cPrev;
        }
      }
      input = out;
    }
    return new Naive(input, hn, cn);
  }

  private static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  private static double[][][] random3(SplittableRandom rnd, int a, int b, int c) {
    double[][][] v = new double[a][b][c];
    for (double[][] m : v) {
      for (double[] row : m) {
        for (int i = 0; i < c; i++) {
          row[i] = rnd.nextDouble() * 2 - 1;
        }
      }
    }
    return v;
  }

  private static double[] flat(double[][] m) {
    double[] out = new double[m.length * m[0].length];
    for (int i = 0; i < m.length; i++) {
      System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
    }
    return out;
  }

  private static double[] flat3(double[][][] v) {
    List<Double> out = new ArrayList<>();
    for (double[][] m : v) {
      for (double[] row : m) {
        for (double e : row) {
          out.add(e);
        }
      }
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static Tensor tensor(double[][][] v) {
    return Tensor.fromArray(flat3(v), v.length, v[0].length, v[0][0].length);
  }
}
