package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Central-difference gradient check in float64: compares the gradient that
 * backward() computes for L = sum(f(inputs) * r), r random, with
 * (L(x + h e_i) - L(x - h e_i)) / 2h for every input element.
 */
final class GradCheck {
  private GradCheck() {}

  /** One input: shape and the range its values are drawn from (kept away from kinks). */
  record Input(long[] shape, double lo, double hi, boolean awayFromZero) {
    static Input of(long... shape) {
      return new Input(shape, -1, 1, false);
    }

    static Input positive(long... shape) {
      return new Input(shape, 0.2, 2, false);
    }

    /** Values in [-1,-0.1] u [0.1,1]: for kinks at 0 (abs, relu, sign, ...). */
    static Input nonZero(long... shape) {
      return new Input(shape, -1, 1, true);
    }
  }

  record Case(String name, Function<List<Tensor>, Tensor> f, List<Input> inputs, double eps,
      double tol) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case of(String name, Function<List<Tensor>, Tensor> f, Input... inputs) {
    return new Case(name, f, List.of(inputs), 1e-6, 1e-6);
  }

  static double[] values(Input in, SplittableRandom rnd) {
    double[] v = new double[Math.toIntExact(Shapes.numel(in.shape()))];
    for (int i = 0; i < v.length; i++) {
      double x = in.lo() + (in.hi() - in.lo()) * rnd.nextDouble();
      if (in.awayFromZero()) {
        x = (rnd.nextBoolean() ? 1 : -1) * (0.1 + 0.9 * rnd.nextDouble());
      }
      v[i] = x;
    }
    return v;
  }

  /** Runs the check; returns the ops recorded in the graph. */
  static Set<OpName> check(Case c, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<double[]> xs = new ArrayList<>();
    for (Input in : c.inputs()) {
      xs.add(values(in, rnd));
    }
    try (Scope scope = Scope.open()) {
      List<Tensor> leaves = leaves(c, xs, true);
      Tensor out = c.f().apply(leaves);
      Set<OpName> ops = recordedOps(out);
      double[] r = new double[Math.toIntExact(out.numel())];
      for (int i = 0; i < r.length; i++) {
        r[i] = rnd.nextDouble() * 2 - 1;
      }
      Tensor weights = Tensor.fromArray(r, out.shape());
      if (out.requiresGrad()) {
        out.mul(weights).sum().backward();
      }
      for (int k = 0; k < leaves.size(); k++) {
        double[] numeric = numericGrad(c, xs, k, r);
        Tensor g = leaves.get(k).grad();
        double[] analytic = g == null ? new double[numeric.length] : g.toDoubleArray();
        if (numeric.length > 0 && g == null) {
          boolean allZero = true;
          for (double v : numeric) {
            allZero &= Math.abs(v) <= c.tol();
          }
          if (!allZero) {
            fail(c.name() + ": input " + k + " got no gradient");
          }
        }
        assertEquals(numeric.length, analytic.length, c.name() + ": gradient size of input " + k);
        for (int i = 0; i < numeric.length; i++) {
          double err = Math.abs(numeric[i] - analytic[i]);
          if (err > c.tol() * (1 + Math.abs(numeric[i]))) {
            fail(c.name() + ": d/dx" + k + "[" + i + "] analytic " + analytic[i] + " numeric "
                + numeric[i] + " (seed " + seed + ", input " + java.util.Arrays.toString(xs.get(k))
                + ")");
          }
        }
      }
      for (Tensor l : leaves) {
        l.zeroGrad();
      }
      return ops;
    }
  }

  private static List<Tensor> leaves(Case c, List<double[]> xs, boolean grad) {
    List<Tensor> out = new ArrayList<>();
    for (int k = 0; k < xs.size(); k++) {
      Tensor t = Tensor.fromArray(xs.get(k), c.inputs().get(k).shape());
      out.add(grad ? t.requiresGrad(true) : t);
    }
    return out;
  }

  private static double[] numericGrad(Case c, List<double[]> xs, int k, double[] r) {
    double[] x = xs.get(k);
    double[] grad = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double saved = x[i];
      x[i] = saved + c.eps();
      double plus = loss(c, xs, r);
      x[i] = saved - c.eps();
      double minus = loss(c, xs, r);
      x[i] = saved;
      grad[i] = (plus - minus) / (2 * c.eps());
    }
    return grad;
  }

  private static double loss(Case c, List<double[]> xs, double[] r) {
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      double[] y = c.f().apply(leaves(c, xs, false)).to(DType.FLOAT64).toDoubleArray();
      double sum = 0;
      for (int i = 0; i < y.length; i++) {
        sum += y[i] * r[i];
      }
      return sum;
    }
  }

  /** Op names of every node reachable from `out`. */
  static Set<OpName> recordedOps(Tensor out) {
    Set<OpName> ops = EnumSet.noneOf(OpName.class);
    if (out.gradFn == null) {
      return ops;
    }
    Map<Node, Boolean> seen = new IdentityHashMap<>();
    ArrayDeque<Node> todo = new ArrayDeque<>();
    todo.add(out.gradFn);
    while (!todo.isEmpty()) {
      Node n = todo.poll();
      if (seen.put(n, true) != null) {
        continue;
      }
      ops.add(n.op);
      for (Tensor in : n.inputs) {
        if (in != null && in.gradFn != null) {
          todo.add(in.gradFn);
        }
      }
    }
    return Collections.unmodifiableSet(ops);
  }
}
