package dev.fathom.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Float64 central-difference check of a module's gradients with respect to its
 * input and every parameter, for L = sum(module(x) * r) with random r.
 */
final class ModuleGradCheck {
  private ModuleGradCheck() {}

  static void check(Module module, long[] inputShape, long seed) {
    module.to(DType.FLOAT64);
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] x = new double[(int) java.util.Arrays.stream(inputShape).reduce(1, (a, b) -> a * b)];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextDouble() * 2 - 1;
    }
    try (Scope scope = Scope.open()) {
      Tensor input = Tensor.fromArray(x, inputShape).requiresGrad(true);
      Tensor out = module.forward(input);
      double[] r = new double[(int) out.numel()];
      for (int i = 0; i < r.length; i++) {
        r[i] = rnd.nextDouble() * 2 - 1;
      }
      Tensor weights = Tensor.fromArray(r, out.shape());
      module.zeroGrad();
      out.mul(weights).sum().backward();
      // Input gradient.
      double[] analytic = input.grad().toDoubleArray();
      for (int i = 0; i < x.length; i++) {
        double saved = x[i];
        x[i] = saved + 1e-6;
        double plus = loss(module, x, inputShape, r);
        x[i] = saved - 1e-6;
        double minus = loss(module, x, inputShape, r);
        x[i] = saved;
        double numeric = (plus - minus) / 2e-6;
        assertEquals(numeric, analytic[i], 1e-6 * (1 + Math.abs(numeric)), "d/dinput[" + i + "]");
      }
      parameterGradients(module, () -> loss(module, x, inputShape, r));
    }
  }

  /**
   * Checks every parameter's gradient for L = sum(output.get() * r), for modules whose input is not
   * differentiable (e.g. Embedding's indices). `output` runs the module on a fixed input.
   */
  static void checkParameters(Module module, java.util.function.Supplier<Tensor> output, long seed) {
    module.to(DType.FLOAT64);
    SplittableRandom rnd = new SplittableRandom(seed);
    try (Scope scope = Scope.open()) {
      Tensor out = output.get();
      double[] r = new double[(int) out.numel()];
      for (int i = 0; i < r.length; i++) {
        r[i] = rnd.nextDouble() * 2 - 1;
      }
      Tensor weights = Tensor.fromArray(r, out.shape());
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
  private static void parameterGradients(Module module, java.util.function.DoubleSupplier loss) {
    for (Map.Entry<String, Tensor> e : module.namedParameters().entrySet()) {
      Tensor p = e.getValue();
      assertNotNull(p.grad(), "parameter " + e.getKey() + " got no gradient");
      double[] pa = p.grad().toDoubleArray();
      double[] pv = p.toDoubleArray();
      for (int i = 0; i < pv.length; i++) {
        double saved = pv[i];
        set(p, pv, i, saved + 1e-6);
        double plus = loss.getAsDouble();
        set(p, pv, i, saved - 1e-6);
        double minus = loss.getAsDouble();
        set(p, pv, i, saved);
        double numeric = (plus - minus) / 2e-6;
        assertEquals(numeric, pa[i], 1e-6 * (1 + Math.abs(numeric)), "d/d" + e.getKey() + "[" + i + "]");
      }
    }
    module.zeroGrad();
  }

  private static void set(Tensor p, double[] values, int i, double v) {
    values[i] = v;
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      p.copy_(Tensor.fromArray(values, p.shape()));
    }
  }

  private static double loss(Module module, double[] x, long[] shape, double[] r) {
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      Tensor out = module.forward(Tensor.fromArray(x, shape));
      return out.mul(Tensor.fromArray(r, out.shape())).sum().item();
    }
  }
}
