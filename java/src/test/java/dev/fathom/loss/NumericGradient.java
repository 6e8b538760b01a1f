package dev.fathom.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Central-difference gradient check in float64 for a function of one tensor: compares the
 * gradient backward() gives for L = sum(f(x) * r), r random (r = 1 for a scalar f), with
 * (L(x + h e_i) - L(x - h e_i)) / 2h for every element of x. The same approach as
 * dev.fathom.tensor.GradCheck (package-private there), for the losses.
 */
public final class NumericGradient {
  private static final double EPS = 1e-6;
  private static final double TOL = 1e-6;

  private NumericGradient() {}

  /** Checks f at x (float64, shape); fails with the name, element and both values. */
  public static void check(String name, Function<Tensor, Tensor> f, double[] x, long... shape) {
    try (Scope scope = Scope.open()) {
      Tensor leaf = Tensor.fromArray(x.clone(), shape).requiresGrad(true);
      Tensor out = f.apply(leaf);
      assertEquals(DType.FLOAT64, out.dtype(), name + ": output dtype");
      double[] r = weights(out.numel());
      Tensor weighted = out.numel() == 1 ? out.sum() : out.mul(Tensor.fromArray(r, out.shape())).sum();
      weighted.backward();
      assertNotNull(leaf.grad(), name + ": no gradient reached the input");
      double[] analytic = leaf.grad().toDoubleArray();
      double[] xs = x.clone();
      for (int i = 0; i < xs.length; i++) {
        double saved = xs[i];
        xs[i] = saved + EPS;
        double plus = value(f, xs, shape, r);
        xs[i] = saved - EPS;
        double minus = value(f, xs, shape, r);
        xs[i] = saved;
        double numeric = (plus - minus) / (2 * EPS);
        assertEquals(numeric, analytic[i], TOL * (1 + Math.abs(numeric)),
            name + ": d/dx[" + i + "] analytic " + analytic[i] + " numeric " + numeric);
      }
    }
  }

  private static double[] weights(long n) {
    SplittableRandom rnd = new SplittableRandom(7);
    double[] r = new double[Math.toIntExact(n)];
    for (int i = 0; i < r.length; i++) {
      r[i] = n == 1 ? 1 : rnd.nextDouble() * 2 - 1;
    }
    return r;
  }

  private static double value(Function<Tensor, Tensor> f, double[] x, long[] shape, double[] r) {
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      double[] y = f.apply(Tensor.fromArray(x.clone(), shape)).toDoubleArray();
      double sum = 0;
      for (int i = 0; i < y.length; i++) {
        sum += y[i] * r[i];
      }
      return sum;
    }
  }

  /** n values uniform in [lo, hi), seeded. */
  public static double[] uniform(long seed, int n, double lo, double hi) {
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * rnd.nextDouble();
    }
    return v;
  }
}
