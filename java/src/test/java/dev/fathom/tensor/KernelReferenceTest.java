package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The native kernels against plain Java loops, on data large enough for the
 * parallel paths (100k elements), on transposed (strided) and broadcast
 * operands, in float32 and float64.
 */
class KernelReferenceTest {
  private static final int ROWS = 250;
  private static final int COLS = 400;
  private Scope scope;

  @BeforeEach
  void open() {
    scope = Scope.open();
  }

  @AfterEach
  void close() {
    scope.close();
  }

  private static double[] random(int n, long seed, double lo, double hi) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * r.nextDouble();
    }
    return v;
  }

  private static void unary(String name, Function<Tensor, Tensor> op, DoubleUnaryOperator ref,
      double lo, double hi) {
    double[] x = random(ROWS * COLS, name.hashCode(), lo, hi);
    for (DType type : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
      // Transposed view: exercises the strided path; contiguous: the flat path.
      Tensor base = Tensor.fromArray(x, ROWS, COLS).to(type);
      for (Tensor in : new Tensor[] {base, base.t()}) {
        double[] got = op.apply(in).to(DType.FLOAT64).toDoubleArray();
        double[] xin = in.to(DType.FLOAT64).toDoubleArray();
        double tol = type == DType.FLOAT64 ? 1e-12 : 2e-6;
        for (int i = 0; i < got.length; i++) {
          double want = ref.applyAsDouble(xin[i]);
          assertEquals(want, got[i], tol * Math.max(1, Math.abs(want)),
              name + " " + type + " element " + i + " of x=" + xin[i]);
        }
      }
    }
  }

  @Test
  void unaryKernelsMatchJavaMath() {
    unary("neg", Tensor::neg, v -> -v, -3, 3);
    unary("abs", Tensor::abs, Math::abs, -3, 3);
    unary("exp", Tensor::exp, Math::exp, -10, 10);
    unary("log", Tensor::log, Math::log, 1e-3, 100);
    unary("sqrt", Tensor::sqrt, Math::sqrt, 0, 100);
    unary("rsqrt", Tensor::rsqrt, v -> 1 / Math.sqrt(v), 1e-2, 100);
    unary("square", Tensor::square, v -> v * v, -3, 3);
    unary("reciprocal", Tensor::reciprocal, v -> 1 / v, 0.1, 10);
    unary("sigmoid", Tensor::sigmoid, v -> 1 / (1 + Math.exp(-v)), -50, 50);
    unary("tanh", Tensor::tanh, Math::tanh, -20, 20);
    unary("relu", Tensor::relu, v -> Math.max(v, 0), -3, 3);
    unary("sign", Tensor::sign, Math::signum, -3, 3);
    unary("sin", Tensor::sin, Math::sin, -6, 6);
    unary("cos", Tensor::cos, Math::cos, -6, 6);
    unary("log1p", Tensor::log1p, Math::log1p, -0.5, 10);
    unary("expm1", Tensor::expm1, Math::expm1, -5, 5);
    unary("softplus", Tensor::softplus, v -> Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))), -40, 40);
    unary("pow", t -> t.pow(1.7), v -> Math.pow(v, 1.7), 0, 5);
    unary("affine", t -> t.mul(2.5).add(-1), v -> 2.5 * v - 1, -3, 3);
    unary("clamp", t -> t.clamp(-1, 0.5), v -> Math.min(Math.max(v, -1), 0.5), -3, 3);
    unary("leakyRelu", t -> t.leakyRelu(0.2), v -> v > 0 ? v : 0.2 * v, -3, 3);
  }

  private static void binary(String name, BiFunction<Tensor, Tensor, Tensor> op,
      DoubleBinaryOperator ref, double lo, double hi) {
    double[] x = random(ROWS * COLS, name.hashCode(), lo, hi);
    double[] row = random(COLS, name.hashCode() + 1, lo, hi);
    double[] y = random(ROWS * COLS, name.hashCode() + 2, lo, hi);
    for (DType type : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
      double tol = type == DType.FLOAT64 ? 1e-12 : 2e-6;
      Tensor a = Tensor.fromArray(x, ROWS, COLS).to(type);
      Tensor b = Tensor.fromArray(y, ROWS, COLS).to(type);
      Tensor r = Tensor.fromArray(row, COLS).to(type);
      double[] av = a.to(DType.FLOAT64).toDoubleArray();
      double[] bv = b.to(DType.FLOAT64).toDoubleArray();
      double[] rv = r.to(DType.FLOAT64).toDoubleArray();
      double[] same = op.apply(a, b).to(DType.FLOAT64).toDoubleArray();
      double[] bcast = op.apply(a, r).to(DType.FLOAT64).toDoubleArray();
      double[] scal = op.apply(a, Tensor.scalar(rv[0], type)).to(DType.FLOAT64).toDoubleArray();
      for (int i = 0; i < same.length; i++) {
        double w1 = ref.applyAsDouble(av[i], bv[i]);
        double w2 = ref.applyAsDouble(av[i], rv[i % COLS]);
        double w3 = ref.applyAsDouble(av[i], rv[0]);
        assertEquals(w1, same[i], tol * Math.max(1, Math.abs(w1)), name + " " + type + " same-shape " + i);
        assertEquals(w2, bcast[i], tol * Math.max(1, Math.abs(w2)), name + " " + type + " row-broadcast " + i);
        assertEquals(w3, scal[i], tol * Math.max(1, Math.abs(w3)), name + " " + type + " scalar " + i);
      }
    }
  }

  @Test
  void binaryKernelsMatchJavaLoops() {
    binary("add", Tensor::add, Double::sum, -3, 3);
    binary("sub", Tensor::sub, (p, q) -> p - q, -3, 3);
    binary("mul", Tensor::mul, (p, q) -> p * q, -3, 3);
    binary("div", Tensor::div, (p, q) -> p / q, 0.5, 3);
    binary("pow", Tensor::pow, Math::pow, 0.5, 2);
    binary("maximum", Tensor::maximum, Math::max, -3, 3);
    binary("minimum", Tensor::minimum, Math::min, -3, 3);
  }

  @Test
  void reductionsMatchJavaLoops() {
    double[] x = random(ROWS * COLS, 7, -1, 1);
    Tensor a = Tensor.fromArray(x, ROWS, COLS);
    double[] rowSums = a.sum(1, false).toDoubleArray();
    double[] colMax = a.max(0, false).values().toDoubleArray();
    long[] colArg = a.argmax(0, false).toLongArray();
    double[] tRowSums = a.t().sum(0, false).toDoubleArray();
    for (int r = 0; r < ROWS; r++) {
      double s = 0;
      for (int c = 0; c < COLS; c++) {
        s += x[r * COLS + c];
      }
      assertEquals(s, rowSums[r], 1e-10);
      assertEquals(s, tRowSums[r], 1e-10);
    }
    for (int c = 0; c < COLS; c++) {
      double m = Double.NEGATIVE_INFINITY;
      int arg = -1;
      for (int r = 0; r < ROWS; r++) {
        if (x[r * COLS + c] > m) {
          m = x[r * COLS + c];
          arg = r;
        }
      }
      assertEquals(m, colMax[c]);
      assertEquals(arg, colArg[c]);
    }
    double total = 0;
    for (double v : x) {
      total += v;
    }
    assertEquals(total, a.sum().item(), 1e-9);
    assertEquals(total, a.to(DType.FLOAT32).sum().item(), 1e-2);
    assertEquals(total / x.length, a.mean().item(), 1e-12);
  }

  @Test
  void matmulMatchesNaiveLoop() {
    int m = 37;
    int k = 53;
    int n = 29;
    double[] av = random(m * k, 1, -1, 1);
    double[] bv = random(k * n, 2, -1, 1);
    for (DType type : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
      Tensor a = Tensor.fromArray(av, m, k).to(type);
      Tensor b = Tensor.fromArray(bv, k, n).to(type);
      double[] got = a.matmul(b).to(DType.FLOAT64).toDoubleArray();
      // Same matrices stored transposed (column-major views): the kernel must honour strides.
      double[] strided = a.t().contiguous().t().matmul(b.t().contiguous().t())
          .to(DType.FLOAT64).toDoubleArray();
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int p = 0; p < k; p++) {
            s += av[i * k + p] * bv[p * n + j];
          }
          double tol = type == DType.FLOAT64 ? 1e-12 : 1e-4;
          assertEquals(s, got[i * n + j], tol, type + " (" + i + "," + j + ")");
          assertEquals(s, strided[i * n + j], tol, type + " strided (" + i + "," + j + ")");
        }
      }
    }
  }
}
