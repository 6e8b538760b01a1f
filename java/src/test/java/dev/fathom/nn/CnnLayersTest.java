package dev.fathom.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Functional;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradCheck;
import dev.fathom.tensor.ScopedLeakCheck;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** CNN layers: shapes, oneDNN (float32) against the reference kernels (float64), modes. */
@ExtendWith(ScopedLeakCheck.class)
class CnnLayersTest {
  @Test
  void outputShapesFollowTheFormula() {
    Tensor x = Tensor.zeros(2, 3, 28, 28);
    // floor((H + 2p - k) / s) + 1
    try (Conv2d c = new Conv2d(3, 6, 5)) {
      assertArrayEquals(new long[] {2, 6, 24, 24}, c.forward(x).shape());
    }
    try (Conv2d c = new Conv2d(3, 8, 3, 2, 1)) {
      assertArrayEquals(new long[] {2, 8, 14, 14}, c.forward(x).shape());
    }
    try (Conv2d c = new Conv2d(3, 4, 7, 3, 2)) {
      assertArrayEquals(new long[] {2, 4, 9, 9}, c.forward(x).shape());
    }
    assertArrayEquals(new long[] {2, 3, 14, 14}, new MaxPool2d(2).forward(x).shape());
    assertArrayEquals(new long[] {2, 3, 14, 14}, new MaxPool2d(3, 2, 1).forward(x).shape());
    assertArrayEquals(new long[] {2, 3, 9, 9}, new AvgPool2d(3).forward(x).shape());
    assertArrayEquals(new long[] {2, 3, 1, 1}, new GlobalAvgPool2d().forward(x).shape());
    assertArrayEquals(new long[] {2, 3, 96, 96}, Functional.resizeBilinear(x, 96, 96).shape());
  }

  @Test
  void float32KernelsMatchTheFloat64Reference() {
    Generator g = new Generator(11);
    Tensor x = Tensor.randn(g, 3, 16, 13, 11);
    Tensor w = Tensor.randn(g, 32, 8, 3, 3);
    Tensor b = Tensor.randn(g, 32);
    Tensor y32 = Functional.conv2d(x, w, b, 2, 2, 1, 1, 1, 1, 2);
    Tensor y64 = Functional.conv2d(x.to(DType.FLOAT64), w.to(DType.FLOAT64), b.to(DType.FLOAT64), 2, 2, 1, 1,
        1, 1, 2);
    assertTrue(y32.allClose(y64, 1e-4, 1e-4), "conv2d float32 (oneDNN) vs float64 (reference)");
    Tensor p32 = Functional.maxPool2d(x, 3, 2, 1);
    assertTrue(p32.allClose(Functional.maxPool2d(x.to(DType.FLOAT64), 3, 2, 1), 0, 0));
    Tensor a32 = Functional.avgPool2d(x, 3, 2, 1, false);
    assertTrue(a32.allClose(Functional.avgPool2d(x.to(DType.FLOAT64), 3, 2, 1, false), 1e-5, 1e-6));
    Tensor r32 = Functional.resizeBilinear(x, 30, 17);
    // float32 follows PyTorch in computing source coordinates in float: ~1e-5 apart from float64.
    assertTrue(r32.allClose(Functional.resizeBilinear(x.to(DType.FLOAT64), 30, 17), 1e-4, 1e-4));
  }

  @Test
  void maxPoolHandComputed() {
    Tensor x = Tensor.fromArray(new float[] {1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16}, 1, 1, 4, 4);
    assertArrayEquals(new float[] {4, 8, 12, 16}, Functional.maxPool2d(x, 2, 2, 0).toFloatArray());
    assertArrayEquals(new float[] {2.5f, 6.5f, 10.5f, 14.5f},
        Functional.avgPool2d(x, 2, 2, 0, true).toFloatArray());
  }

  @Test
  void batchNormTrainingAndEval() {
    try (BatchNorm2d bn = new BatchNorm2d(2)) {
      Tensor x = Tensor.randn(new Generator(3), 8, 2, 4, 4).mul(3).add(5);
      Tensor y = bn.forward(x);
      // Normalised per channel: mean 0, biased variance 1.
      Tensor mean = y.mean(new int[] {0, 2, 3}, false);
      assertTrue(mean.abs().max().item() < 1e-5, mean.toString());
      Tensor var = y.var(new int[] {0, 2, 3}, false, false);
      assertTrue(var.sub(1).abs().max().item() < 1e-3, var.toString());
      // Running stats moved 10% towards the batch statistics.
      Tensor batchMean = x.mean(new int[] {0, 2, 3}, false);
      assertTrue(bn.runningMean().allClose(batchMean.mul(0.1), 1e-4, 1e-5));
      Tensor batchVar = x.var(new int[] {0, 2, 3}, true, false);
      assertTrue(bn.runningVar().allClose(batchVar.mul(0.1).add(0.9), 1e-4, 1e-4));
      bn.eval();
      Tensor ye = bn.forward(x);
      Tensor expected = x.sub(bn.runningMean().reshape(1, 2, 1, 1))
          .div(bn.runningVar().add(1e-5).sqrt().reshape(1, 2, 1, 1));
      assertTrue(ye.allClose(expected, 1e-4, 1e-4), "eval uses the running statistics");
    }
    try (BatchNorm1d bn = new BatchNorm1d(3)) {
      assertArrayEquals(new long[] {4, 3}, bn.forward(Tensor.randn(new Generator(4), 4, 3)).shape());
      assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(4, 5)));
    }
  }

  @Test
  void layerGradientsOnTheReferencePath() {
    Generator g = new Generator(8);
    try (Module m = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, g), new BatchNorm2d(3), new ReLU(),
        new MaxPool2d(2), new Conv2d(3, 2, 1, 1, 0, true, g), new GlobalAvgPool2d(), new Flatten())) {
      GradCheck.checkModule(m, new long[] {2, 2, 4, 4}, 9);
    }
  }

  @Test
  void fusedConvReluInInferenceMatchesTheUnfusedLayers() {
    Generator g = new Generator(21);
    try (Sequential net = new Sequential(new Conv2d(3, 8, 3, 1, 1, true, g), new ReLU(), new MaxPool2d(2))) {
      Tensor x = Tensor.randn(g, 2, 3, 9, 9);
      Tensor unfused = net.forward(x);   // grad mode on: layer by layer
      Tensor fused;
      try (dev.fathom.tensor.GradMode.Guard off = dev.fathom.tensor.GradMode.disable()) {
        fused = net.forward(x);
      }
      assertTrue(fused.allClose(unfused, 1e-5, 1e-6));
      assertTrue(fused.min().item() >= 0);
    }
  }

  @Test
  void badInputNamesTheOp() {
    try (Conv2d c = new Conv2d(3, 4, 3)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.forward(Tensor.zeros(1, 2, 8, 8)));
      assertTrue(e.getMessage().contains("Conv2d(3->4, k=3)"), e.getMessage());
    }
    assertThrows(RuntimeException.class, () -> Functional.conv2d(Tensor.zeros(1, 1, 2, 2), Tensor.zeros(1, 1, 3, 3),
        null, 1, 0));
    // Shapes against each other are checked once, natively, naming the pass and every operand.
    RuntimeException mismatch = assertThrows(RuntimeException.class,
        () -> Functional.conv2d(Tensor.zeros(2, 3, 8, 8), Tensor.zeros(4, 2, 3, 3), null, 1, 0));
    assertTrue(mismatch.getMessage().contains("conv2d_forward: weights [4,2,3,3] has 2 input channels per group "
        + "but c=3 with groups=1 needs 3"), mismatch.getMessage());
    assertTrue(mismatch.getMessage().contains("src [2,3,8,8]"), mismatch.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2));
  }
}
