package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.fathom.nn.Module;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The gradient-check harness of the tests: central differences in float64. Compares the
 * gradient that backward() computes for L = sum(f(inputs) * r), r random, with
 * (L(x + h e_i) - L(x - h e_i)) / 2h for every input element; h = 1e-6 and a tolerance of
 * 1e-6 * (1 + |numeric|) unless a {@link Case} says otherwise. Entry points: {@link #check(Case, long)}
 * (ops on several inputs; also returns the ops recorded), {@link #checkFunction} (a function of
 * one tensor: the losses), {@link #checkModule} and {@link #checkModuleParameters} (a module's
 * input and parameter gradients).
 */
public final class GradCheck {
  private static final double EPS = 1e-6;
  private static final double TOL = 1e-6;

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
    return new Case(name, f, List.of(inputs), EPS, TOL);
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
    return centralDifferences(xs.get(k), c.eps(), () -> {}, () -> loss(c, xs, r));
  }

  /**
   * (L(x + h e_i) - L(x - h e_i)) / 2h for every element of x, changed in place (and restored);
   * `changed` runs after every change (e.g. to copy x into a parameter), `loss` evaluates L.
   */
  private static double[] centralDifferences(double[] x, double h, Runnable changed, DoubleSupplier loss) {
    double[] grad = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double saved = x[i];
      x[i] = saved + h;
      changed.run();
      double plus = loss.getAsDouble();
      x[i] = saved - h;
      changed.run();
      double minus = loss.getAsDouble();
      x[i] = saved;
      changed.run();
      grad[i] = (plus - minus) / (2 * h);
    }
    return grad;
  }

  /** Fails with `what` when analytic is not within the tolerance of numeric (or either is NaN). */
  private static void assertClose(double[] numeric, double[] analytic, Function<Integer, String> what) {
    assertEquals(numeric.length, analytic.length, what.apply(-1) + ": gradient size");
    for (int i = 0; i < numeric.length; i++) {
      assertEquals(numeric[i], analytic[i], TOL * (1 + Math.abs(numeric[i])), what.apply(i));
    }
  }

  private static double[] randomSigns(SplittableRandom rnd, long n) {
    double[] r = new double[Math.toIntExact(n)];
    for (int i = 0; i < r.length; i++) {
      r[i] = rnd.nextDouble() * 2 - 1;
    }
    return r;
  }

  // ------------------------------------------------------------ a function of one tensor

  /**
   * Checks f at x (float64, shape) for L = sum(f(x) * r), r random with seed 7 (r = 1 for a
   * scalar f); fails with the name, element and both values.
   */
  public static void checkFunction(String name, Function<Tensor, Tensor> f, double[] x, long... shape) {
    try (Scope scope = Scope.open()) {
      Tensor leaf = Tensor.fromArray(x.clone(), shape).requiresGrad(true);
      Tensor out = f.apply(leaf);
      assertEquals(DType.FLOAT64, out.dtype(), name + ": output dtype");
      double[] r = out.numel() == 1 ? new double[] {1} : randomSigns(new SplittableRandom(7), out.numel());
      Tensor weighted = out.numel() == 1 ? out.sum() : out.mul(Tensor.fromArray(r, out.shape())).sum();
      weighted.backward();
      assertNotNull(leaf.grad(), name + ": no gradient reached the input");
      double[] analytic = leaf.grad().toDoubleArray();
      double[] xs = x.clone();
      double[] numeric = centralDifferences(xs, EPS, () -> {}, () -> weightedSum(f, xs, shape, r));
      assertClose(numeric, analytic, i -> name + ": d/dx[" + i + "] analytic " + (i < 0 ? "" : analytic[i])
          + " numeric " + (i < 0 ? "" : numeric[i]));
    }
  }

  private static double weightedSum(Function<Tensor, Tensor> f, double[] x, long[] shape, double[] r) {
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

  // ------------------------------------------------------------ modules

  /**
   * Checks a module's gradients with respect to its input (uniform in [-1, 1), seeded) and every
   * parameter, for L = sum(module(x) * r), r random; the module is moved to float64 first.
   */
  public static void checkModule(Module module, long[] inputShape, long seed) {
    module.to(DType.FLOAT64);
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] x = randomSigns(rnd, Shapes.numel(inputShape));
    try (Scope scope = Scope.open()) {
      Tensor input = Tensor.fromArray(x, inputShape).requiresGrad(true);
      Tensor out = module.forward(input);
      double[] r = randomSigns(rnd, out.numel());
      Tensor weights = Tensor.fromArray(r, out.shape());
      module.zeroGrad();
      out.mul(weights).sum().backward();
      DoubleSupplier loss = () -> {
        try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
          Tensor o = module.forward(Tensor.fromArray(x, inputShape));
          return o.mul(Tensor.fromArray(r, o.shape())).sum().item();
        }
      };
      assertClose(centralDifferences(x, EPS, () -> {}, loss), input.grad().toDoubleArray(),
          i -> "d/dinput[" + i + "]");
      parameterGradients(module, loss);
    }
  }

  /**
   * Checks every parameter's gradient for L = sum(output.get() * r), for modules whose input is not
   * differentiable (e.g. Embedding's indices). `output` runs the module on a fixed input.
   */
  public static void checkModuleParameters(Module module, Supplier<Tensor> output, long seed) {
    module.to(DType.FLOAT64);
    SplittableRandom rnd = new SplittableRandom(seed);
    try (Scope scope = Scope.open()) {
      Tensor out = output.get();
      Tensor weights = Tensor.fromArray(randomSigns(rnd, out.numel()), out.shape());
      module.zeroGrad();
      out.mul(weights).sum().backward();
      parameterGradients(module, () -> {
        try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
          return output.get().mul(weights).sum().item();
        }
      });
    }
  }

  /** Compares each parameter's accumulated gradient with central differences of `loss`, then clears them. */
  private static void parameterGradients(Module module, DoubleSupplier loss) {
    for (Map.Entry<String, Tensor> e : module.namedParameters().entrySet()) {
      Tensor p = e.getValue();
      assertNotNull(p.grad(), "parameter " + e.getKey() + " got no gradient");
      double[] analytic = p.grad().toDoubleArray();
      double[] values = p.toDoubleArray();
      Runnable copy = () -> {
        try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
          p.copy_(Tensor.fromArray(values, p.shape()));
        }
      };
      assertClose(centralDifferences(values, EPS, copy, loss), analytic, i -> "d/d" + e.getKey() + "[" + i + "]");
    }
    module.zeroGrad();
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
