package dev.fathom.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fathom.nn.BatchNorm;
import dev.fathom.nn.Module;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;

/** What the export and import tests share: output comparison and non-trivial batch-norm state. */
final class OnnxTestSupport {
  private OnnxTestSupport() {}

  static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length, "output sizes");
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }

  /** Non-trivial running statistics and affine parameters, so that eval-mode BN is really tested. */
  static void randomizeBatchNorm(Module m, Generator gen) {
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      m.apply(k -> {
        if (k instanceof BatchNorm bn) {
          long c = bn.numFeatures();
          bn.runningMean().copy_(Tensor.uniform(gen, -0.5, 0.5, DType.FLOAT32, c));
          bn.runningVar().copy_(Tensor.uniform(gen, 0.5, 2.0, DType.FLOAT32, c));
          bn.weight().copy_(Tensor.uniform(gen, 0.5, 1.5, DType.FLOAT32, c));
          bn.bias().copy_(Tensor.uniform(gen, -0.2, 0.2, DType.FLOAT32, c));
        }
      });
    }
  }
}
