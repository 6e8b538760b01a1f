package dev.fathom.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.ScopedLeakCheck;
import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(ScopedLeakCheck.class)
class NnTest {
  @Test
  void gradientsOfParameterisedModules() {
    Generator g = new Generator(3);
    try (Module m = new Linear(4, 3, true, g)) {
      GradCheck.checkModule(m, new long[] {2, 4}, 1);
    }
    try (Module m = new Sequential(new Linear(5, 6, true, g), new Tanh(), new Linear(6, 2, true, g))) {
      GradCheck.checkModule(m, new long[] {3, 5}, 2);
    }
    try (Module m = new PReLU()) {
      GradCheck.checkModule(m, new long[] {3, 4}, 3);
    }
    try (Module m = new PReLU(4, 0.1)) {
      GradCheck.checkModule(m, new long[] {3, 4, 2}, 4);
    }
    try (Module m = new Sequential(new Linear(4, 6, true, g), new Maxout(3))) {
      GradCheck.checkModule(m, new long[] {2, 4}, 5);
    }
    try (Module m = new Sequential(new Linear(4, 3, true, g), new LogSoftmax())) {
      GradCheck.checkModule(m, new long[] {2, 4}, 6);
    }
    try (Module m = new Sequential(new Linear(4, 3, true, g), new Softmax(1), new AbsRectifier(),
        new LeakyReLU(0.2), new Sigmoid(), new Softplus(), new ReLU())) {
      GradCheck.checkModule(m, new long[] {2, 4}, 7);
    }
  }

  @Test
  void namedParametersFollowPytorch() {
    try (Sequential net = new Sequential(new Flatten(), new Linear(784, 256), new ReLU(), new Linear(256, 10))) {
      assertEquals(List.of("1.weight", "1.bias", "3.weight", "3.bias"),
          List.copyOf(net.namedParameters().keySet()));
      assertEquals(784 * 256 + 256 + 256 * 10 + 10, net.parameterCount());
      assertArrayEquals(new long[] {256, 784}, net.namedParameters().get("1.weight").shape());
      assertTrue(net.namedParameters().get("1.weight").requiresGrad());
      assertTrue(net.toString().contains("(1): Linear(in=784, out=256, bias=true)"), net.toString());
    }
  }

  @Test
  void shapeErrorsNameTheLayer() {
    try (Sequential net = new Sequential(new Linear(4, 3), new Linear(5, 2))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.forward(Tensor.zeros(2, 4)));
      assertTrue(e.getMessage().startsWith("layer 1 (Linear): Linear(5->2): input [2, 3] must end in 5"),
          e.getMessage());
    }
  }

  @Test
  void maxoutTakesGroupMaxima() {
    try (Maxout m = new Maxout(2)) {
      Tensor y = m.forward(Tensor.fromArray(new float[] {1, 5, -3, -1, 2, 2}, 1, 6));
      assertArrayEquals(new float[] {5, -1, 2}, y.toFloatArray());
      assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(1, 5)));
    }
  }

  @Test
  void preluMatchesDefinition() {
    try (PReLU p = new PReLU()) {
      assertArrayEquals(new float[] {2, -0.5f}, p.forward(Tensor.of(2, -2)).toFloatArray());
    }
  }

  @Test
  void dropoutIsInvertedAndOffInEval() {
    try (Dropout d = new Dropout(0.5, new Generator(9))) {
      Tensor x = Tensor.ones(100_000);
      Tensor y = d.forward(x);
      float[] v = y.toFloatArray();
      int zeros = 0;
      for (float f : v) {
        assertTrue(f == 0 || f == 2, "survivors scale by 1/(1-p)");
        zeros += f == 0 ? 1 : 0;
      }
      assertEquals(0.5, zeros / 100_000.0, 0.01);
      assertEquals(1.0, y.mean().item(), 0.02, "expectation preserved");
      d.eval();
      assertArrayEquals(x.toFloatArray(), d.forward(x).toFloatArray());
    }
  }

  @Test
  void trainEvalIsRecursive() {
    try (Sequential net = new Sequential(new Linear(2, 2), new Dropout(0.1))) {
      net.eval();
      assertFalse(net.get(1).isTraining());
      net.train();
      assertTrue(net.get(1).isTraining());
    }
  }

  @Test
  void initIsReproducibleAndFollowsTheFormulas() {
    try (Linear a = new Linear(300, 200, true, new Generator(1));
        Linear b = new Linear(300, 200, true, new Generator(1))) {
      Init.xavierUniform_(a.weight(), new Generator(5));
      Init.xavierUniform_(b.weight(), new Generator(5));
      assertArrayEquals(a.weight().toFloatArray(), b.weight().toFloatArray(), "bit for bit");
      double bound = Math.sqrt(6.0 / 500);
      assertTrue(a.weight().abs().max().item() <= bound);
      assertEquals(bound * bound / 3, a.weight().var().item(), 0.05 * bound * bound / 3);
      Init.xavierNormal_(a.weight(), new Generator(6));
      assertEquals(2.0 / 500, a.weight().var().item(), 0.05 * 2.0 / 500);
      Init.normal_(a.weight(), 1, 0.01, new Generator(7));
      assertEquals(1, a.weight().mean().item(), 1e-3);
      assertEquals(0.01, a.weight().std().item(), 1e-3);
      Init.uniform_(a.bias(), -2, 2, new Generator(8));
      assertTrue(a.bias().max().item() < 2 && a.bias().min().item() >= -2);
      Init.constant_(a.bias(), 0.5);
      assertEquals(0.5, a.bias().mean().item());
      Init.zeros_(a.bias());
      assertEquals(0, a.bias().abs().max().item());
      assertTrue(a.weight().requiresGrad(), "init keeps parameters trainable");
      assertNotEquals(a.weight().toFloatArray()[0], b.weight().toFloatArray()[0]);
    }
  }

  @Test
  void toFloat64ConvertsParameters() {
    try (Linear l = new Linear(3, 2)) {
      l.to(DType.FLOAT64);
      assertEquals(DType.FLOAT64, l.weight().dtype());
      assertTrue(l.weight().requiresGrad());
      assertEquals(DType.FLOAT64, l.forward(Tensor.zeros(DType.FLOAT64, 1, 3)).dtype());
    }
  }
}
