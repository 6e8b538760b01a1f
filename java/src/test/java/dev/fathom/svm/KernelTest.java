package dev.fathom.svm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Kernel matrices: blocked = one block = a plain double loop; the polynomial kernel is <phi, phi>. */
class KernelTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void noLeaks() {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  /** The kernels as textbook formulas on one pair of rows. */
  private static double reference(String kind, double[] x, double[] z) {
    double dot = 0;
    double dist = 0;
    for (int d = 0; d < x.length; d++) {
      dot += x[d] * z[d];
      dist += (x[d] - z[d]) * (x[d] - z[d]);
    }
    switch (kind) {
      case "linear":
        return dot;
      case "poly":
        return Math.pow(0.3 * dot + 1.5, 3);
      default:
        return Math.exp(-0.7 * dist);
    }
  }

  private static Kernel kernel(String kind) {
    switch (kind) {
      case "linear":
        return Kernel.linear();
      case "poly":
        return Kernel.polynomial(3, 0.3, 1.5);
      default:
        return Kernel.rbf(0.7);
    }
  }

  private static double[][] rows(Tensor t) {
    double[] flat = t.toDoubleArray();
    int cols = (int) t.size(1);
    double[][] out = new double[(int) t.size(0)][cols];
    for (int i = 0; i < out.length; i++) {
      System.arraycopy(flat, i * cols, out[i], 0, cols);
    }
    return out;
  }

  @Test
  void blockedEqualsUnblockedEqualsDoubleLoop() {
    Generator gen = new Generator(3);
    for (DType dtype : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
      double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-5;
      for (String kind : new String[] {"linear", "poly", "rbf"}) {
        try (Scope s = Scope.open()) {
          // 37 x 5 against 23 x 5: odd sizes, so the last block is partial.
          Tensor x = Tensor.randn(gen, 37, 5).to(dtype);
          Tensor z = Tensor.randn(gen, 23, 5).to(dtype);
          // A row of z equal to a row of x: the RBF distance must come out 0, not negative.
          z.narrow(0, 4, 1).copy_(x.narrow(0, 9, 1));
          Kernel k = kernel(kind);
          Tensor whole = k.block(x, z, Kernel.squaredNorms(z));
          assertArrayEquals(new long[] {37, 23}, whole.shape());
          double[][] xs = rows(x);
          double[][] zs = rows(z);
          double[][] ref = new double[37][23];
          for (int i = 0; i < 37; i++) {
            for (int j = 0; j < 23; j++) {
              ref[i][j] = reference(kind, xs[i], zs[j]);
            }
          }
          assertClose(ref, rows(whole), tol, kind + " one block " + dtype);
          for (int blockRows : new int[] {1, 4, 16, 37, 100}) {
            Tensor blocked = k.matrix(x, z, blockRows);
            // Blocks are the same GEMM on fewer rows: equal to the single block up to rounding.
            assertClose(rows(whole), rows(blocked), tol, kind + " blockRows=" + blockRows + " " + dtype);
          }
          if (kind.equals("rbf")) {
            assertEquals(1.0, whole.toDoubleArray()[9 * 23 + 4], tol, "k(x, x) = 1");
          }
          double[] diag = k.diagonal(x).toDoubleArray();
          for (int i = 0; i < 37; i++) {
            assertEquals(reference(kind, xs[i], xs[i]), diag[i], tol * Math.max(1, Math.abs(diag[i])));
          }
        }
      }
    }
  }

  private static void assertClose(double[][] want, double[][] got, double tol, String what) {
    for (int i = 0; i < want.length; i++) {
      for (int j = 0; j < want[i].length; j++) {
        double scale = Math.max(1, Math.abs(want[i][j]));
        assertTrue(Math.abs(want[i][j] - got[i][j]) <= tol * scale,
            what + ": [" + i + ", " + j + "] expected " + want[i][j] + " got " + got[i][j]);
      }
    }
  }

  /**
   * The explicit feature map of (gamma x.z + c)^2: by the multinomial theorem, the monomials
   * of degree <= 2 with weights sqrt(2! / (a! (2 - |a|)!) gamma^|a| c^(2 - |a|)).
   */
  static double[] phi2(double[] x, double gamma, double c) {
    List<Double> f = new ArrayList<>();
    f.add(c);                                                // |a| = 0: c^2 -> c
    for (double xi : x) {
      f.add(Math.sqrt(2 * gamma * c) * xi);                  // |a| = 1: 2 gamma c
    }
    for (int i = 0; i < x.length; i++) {
      f.add(gamma * x[i] * x[i]);                            // x_i^2: gamma^2
      for (int j = i + 1; j < x.length; j++) {
        f.add(Math.sqrt(2) * gamma * x[i] * x[j]);           // x_i x_j: 2 gamma^2
      }
    }
    return f.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The explicit feature map of (gamma x.z + c)^3, coefficients 3! / (a! (3 - |a|)!). */
  static double[] phi3(double[] x, double gamma, double c) {
    List<Double> f = new ArrayList<>();
    int d = x.length;
    double g1 = Math.sqrt(gamma);
    f.add(Math.pow(c, 1.5));                                              // c^3
    for (int i = 0; i < d; i++) {
      f.add(Math.sqrt(3 * c * c) * g1 * x[i]);                            // x_i: 3 gamma c^2
    }
    for (int i = 0; i < d; i++) {
      f.add(Math.sqrt(3 * c) * gamma * x[i] * x[i]);                     // x_i^2: 3 gamma^2 c
      for (int j = i + 1; j < d; j++) {
        f.add(Math.sqrt(6 * c) * gamma * x[i] * x[j]);                   // x_i x_j: 6 gamma^2 c
      }
    }
    double g3 = Math.pow(gamma, 1.5);
    for (int i = 0; i < d; i++) {
      f.add(g3 * x[i] * x[i] * x[i]);                                     // x_i^3: gamma^3
      for (int j = 0; j < d; j++) {
        if (j != i) {
          f.add(Math.sqrt(3) * g3 * x[i] * x[i] * x[j]);                  // x_i^2 x_j: 3 gamma^3
        }
      }
      for (int j = i + 1; j < d; j++) {
        for (int k = j + 1; k < d; k++) {
          f.add(Math.sqrt(6) * g3 * x[i] * x[j] * x[k]);                  // x_i x_j x_k: 6 gamma^3
        }
      }
    }
    return f.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static long binomial(int n, int k) {
    long r = 1;
    for (int i = 1; i <= k; i++) {
      r = r * (n - k + i) / i;
    }
    return r;
  }

  @Test
  void polynomialKernelIsTheInnerProductOfTheFeatureMap() {
    Random rng = new Random(11);
    int n = 9;
    int m = 7;
    int d = 4;
    double[] xs = new double[n * d];
    double[] zs = new double[m * d];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = rng.nextGaussian();
    }
    for (int i = 0; i < zs.length; i++) {
      zs[i] = rng.nextGaussian();
    }
    double[][] params = {{2, 0.5, 1.0}, {2, 1.3, 0.2}, {3, 0.4, 1.0}, {3, 1.1, 2.5}};
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.fromArray(xs, n, d);
      Tensor z = Tensor.fromArray(zs, m, d);
      for (double[] p : params) {
        int degree = (int) p[0];
        double gamma = p[1];
        double c = p[2];
        double[] k = Kernel.polynomial(degree, gamma, c).matrix(x, z, 4).toDoubleArray();
        for (int i = 0; i < n; i++) {
          double[] xi = java.util.Arrays.copyOfRange(xs, i * d, i * d + d);
          double[] fx = degree == 2 ? phi2(xi, gamma, c) : phi3(xi, gamma, c);
          // One feature per monomial of degree <= degree in d variables.
          assertEquals(binomial(d + degree, degree), fx.length);
          for (int j = 0; j < m; j++) {
            double[] zj = java.util.Arrays.copyOfRange(zs, j * d, j * d + d);
            double[] fz = degree == 2 ? phi2(zj, gamma, c) : phi3(zj, gamma, c);
            double inner = 0;
            for (int f = 0; f < fx.length; f++) {
              inner += fx[f] * fz[f];
            }
            assertEquals(inner, k[i * m + j], 1e-10 * Math.max(1, Math.abs(inner)),
                "degree " + degree + " gamma " + gamma + " c " + c + " at [" + i + ", " + j + "]");
          }
        }
      }
    }
  }

  @Test
  void badArgumentsNameTheOpAndShapes() {
    assertThrows(IllegalArgumentException.class, () -> Kernel.rbf(0));
    assertThrows(IllegalArgumentException.class, () -> Kernel.rbf(-1));
    assertThrows(IllegalArgumentException.class, () -> Kernel.rbf(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> Kernel.polynomial(0, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> Kernel.polynomial(2, 0, 1));
    IllegalArgumentException neg = assertThrows(IllegalArgumentException.class, () -> Kernel.polynomial(2, 1, -1));
    assertTrue(neg.getMessage().contains("coef0"), neg.getMessage());
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.zeros(DType.FLOAT64, 3, 4);
      Tensor z = Tensor.zeros(DType.FLOAT64, 2, 5);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernel.rbf(1).matrix(x, z));
      assertTrue(e.getMessage().contains("Kernel.matrix") && e.getMessage().contains("[3, 4]")
          && e.getMessage().contains("[2, 5]"), e.getMessage());
      Tensor v = Tensor.zeros(DType.FLOAT64, 4);
      e = assertThrows(IllegalArgumentException.class, () -> Kernel.linear().block(v, x, null));
      assertTrue(e.getMessage().contains("[4]"), e.getMessage());
      Tensor ints = Tensor.zeros(DType.INT64, 3, 4);
      assertThrows(IllegalArgumentException.class, () -> Kernel.linear().matrix(ints, ints));
      assertThrows(IllegalArgumentException.class, () -> Kernel.linear().matrix(x, x, 0));
      e = assertThrows(IllegalArgumentException.class, () -> Kernel.rbf(1).block(x, x, Tensor.zeros(DType.FLOAT64, 2)));
      assertTrue(e.getMessage().contains("zSquaredNorms"), e.getMessage());
    }
  }
}
