package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** A tiny problem for optimizer tests and the comparison loop against a Java reference. */
final class OptimizerTesting {
  private OptimizerTesting() {}

  /** Two float64 parameters, w [3,2] and b [2], as leaves the caller owns. */
  static List<Tensor> params() {
    List<Tensor> ps = new ArrayList<>();
    ps.add(Tensor.fromArray(new double[] {0.5, -1.2, 2.0, 0.1, -0.7, 1.3}, 3, 2).requiresGrad(true));
    ps.add(Tensor.fromArray(new double[] {0.2, -0.4}, 2).requiresGrad(true));
    return ps;
  }

  /** A non-quadratic loss of w and b (gradients change every step): mean((tanh(x w + b) - y)^2). */
  static Tensor loss(List<Tensor> ps) {
    Tensor x = Tensor.fromArray(new double[] {1, 2, -1, 0.5, -0.3, 0.8, 2, -1, 0.1, 0, 1, -2}, 4, 3);
    Tensor y = Tensor.fromArray(new double[] {0.3, -0.6, 0.9, 0.1, -0.2, 0.4, 0.5, -0.5}, 4, 2);
    return x.matmul(ps.get(0)).add(ps.get(1)).tanh().sub(y).square().mean();
  }

  /** The loss's value, computed without a graph. */
  static double lossValue(List<Tensor> ps) {
    try (Scope s = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      return loss(ps).item();
    }
  }

  static void close(List<Tensor> ps) {
    for (Tensor p : ps) {
      p.close();
    }
  }

  /**
   * Runs `steps` steps of `opt` on the tiny problem and of `ref` (one instance per parameter)
   * on copies of the values, feeding both the same gradients, and checks they agree.
   */
  static <R> void compare(String name, Function<List<Tensor>, Optimizer> make,
      Function<Integer, R> makeRef, StepFn<R> refStep, int steps, double tol) {
    List<Tensor> ps = params();
    try (Optimizer opt = make.apply(ps)) {
      List<double[]> values = new ArrayList<>();
      List<R> refs = new ArrayList<>();
      for (int i = 0; i < ps.size(); i++) {
        values.add(ps.get(i).toDoubleArray());
        refs.add(makeRef.apply(i));
      }
      for (int s = 0; s < steps; s++) {
        try (Scope scope = Scope.open()) {
          loss(ps).backward();
          for (int i = 0; i < ps.size(); i++) {
            refStep.step(refs.get(i), values.get(i), ps.get(i).grad().toDoubleArray());
          }
          opt.step();
          opt.zeroGrad();
        }
        for (int i = 0; i < ps.size(); i++) {
          double[] actual = ps.get(i).toDoubleArray();
          double[] expected = values.get(i);
          for (int k = 0; k < actual.length; k++) {
            assertEquals(expected[k], actual[k], tol * Math.max(1, Math.abs(expected[k])),
                name + ": step " + (s + 1) + " param " + i + "[" + k + "]");
          }
        }
      }
    } finally {
      close(ps);
    }
  }

  interface StepFn<R> {
    void step(R ref, double[] p, double[] grad);
  }

}
