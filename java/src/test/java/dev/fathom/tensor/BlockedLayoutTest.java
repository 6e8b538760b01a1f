package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Activations kept in oneDNN's nChw16c layout between layers (see Storage):
 * the same numbers as the NCHW path through convolution, batch norm, pooling,
 * ReLU and residual sums, forward and backward; every plain read converts;
 * conversions neither leak nor keep the old block.
 */
class BlockedLayoutTest {
  private Scope scope;
  private long baseline;

  @BeforeEach
  void open() {
    baseline = Tensor.liveNativeBytes();
    scope = Scope.open();
  }

  @AfterEach
  void closeAndCheckLeaks() {
    Functional.setBlockedLayouts(true);
    scope.close();
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  /**
   * The kernels of this machine keep 32-channel activations blocked (AVX-512; AVX2 blocks by 8). The
   * channel counts here are 32 and up: some CPUs' rule sets keep 16-channel activations NCHW.
   */
  private static void assumeBlockedKernels() {
    try (Scope s = Scope.open()) {
      Tensor y = Functional.conv2d(Tensor.ones(2, 32, 6, 6), Tensor.ones(32, 32, 3, 3), null, 1, 1);
      assumeTrue(y.isBlocked(), "this machine's convolution kernels do not use nChw16c");
    }
  }

  private static void assertClose(float[] want, float[] got, double tol, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      double bound = tol * Math.max(1.0, Math.abs(want[i]));
      if (!(Math.abs(want[i] - got[i]) <= bound)) {
        throw new AssertionError(what + ": element " + i + " is " + got[i] + ", NCHW path gives " + want[i]);
      }
    }
  }

  @Test
  void convolutionOutputIsBlockedAndReadsAsNchw() {
    assumeBlockedKernels();
    Generator gen = new Generator(1);
    Tensor x = Tensor.randn(gen, 4, 32, 7, 7);
    Tensor w = Tensor.randn(gen, 64, 32, 3, 3);
    Tensor y = Functional.conv2d(x, w, null, 1, 1);
    assertTrue(y.isBlocked());
    // The float64 path never blocks: it is the reference.
    float[] want = Functional.conv2d(x.to(DType.FLOAT64), w.to(DType.FLOAT64), null, 1, 1).toFloatArray();
    assertClose(want, y.toFloatArray(), 1e-4, "conv2d output");
    double[] wide = y.toDoubleArray();
    assertEquals(want[100], wide[100], 1e-4 * Math.max(1, Math.abs(want[100])), "read as float64");
    // A view in another shape reads NCHW: the shared storage is converted once,
    // into a fresh block; the blocked one stays until the storage is released,
    // so an op that was handed its address never reads freed memory.
    Tensor z = Functional.conv2d(x, w, null, 1, 1);
    assertTrue(z.isBlocked());
    Tensor flat = z.reshape(4, 64 * 49);
    assertFalse(flat.isBlocked());
    long live = Tensor.liveNativeBytes();
    assertClose(want, flat.toFloatArray(), 1e-4, "reshaped view");
    assertFalse(z.isBlocked(), "the view's read converted the shared storage");
    long block = 4L * 64 * 49 * Float.BYTES;
    assertEquals(live + block, Tensor.liveNativeBytes(), "the conversion adds one plain block");
    assertClose(want, z.toFloatArray(), 1e-4, "the converted tensor");
    flat.close();
    z.close();
    assertEquals(live - block, Tensor.liveNativeBytes(), "both blocks go with the storage");
  }

  @Test
  void elementwiseOpsKeepTheLayoutAndMixedOperandsAgree() {
    assumeBlockedKernels();
    Generator gen = new Generator(2);
    Tensor x = Tensor.randn(gen, 2, 64, 5, 5);
    Tensor w = Tensor.randn(gen, 64, 64, 3, 3);
    Tensor plainY = Functional.conv2d(x.to(DType.FLOAT64), w.to(DType.FLOAT64), null, 1, 1).to(DType.FLOAT32);
    Tensor other = Tensor.randn(gen, 2, 64, 5, 5);
    float[] wantRelu = plainY.relu().toFloatArray();
    float[] wantSum = plainY.add(other).toFloatArray();
    float[] wantScaled = plainY.mul(3.0).sub(1.0).toFloatArray();
    float[] wantMask = plainY.gt(0.0).to(DType.FLOAT32).toFloatArray();

    Tensor r = Functional.conv2d(x, w, null, 1, 1).relu();
    assertTrue(r.isBlocked(), "relu of a blocked tensor stays blocked");
    assertClose(wantRelu, r.toFloatArray(), 1e-4, "relu");
    Tensor sum = Functional.conv2d(x, w, null, 1, 1).add(other);
    assertTrue(sum.isBlocked(), "blocked + NCHW: the NCHW operand is copied into the run's layout");
    assertFalse(other.isBlocked());
    assertClose(wantSum, sum.toFloatArray(), 1e-4, "blocked + NCHW");
    Tensor sum2 = other.add(Functional.conv2d(x, w, null, 1, 1));
    assertClose(wantSum, sum2.toFloatArray(), 1e-4, "NCHW + blocked");
    Tensor scaled = Functional.conv2d(x, w, null, 1, 1).mul(3.0).sub(1.0);
    assertTrue(scaled.isBlocked(), "scalar operands keep the layout");
    assertClose(wantScaled, scaled.toFloatArray(), 1e-4, "scalar ops");
    Tensor mask = Functional.conv2d(x, w, null, 1, 1).gt(0.0);
    assertTrue(mask.isBlocked(), "a comparison's bool mask follows its operand");
    assertArrayEquals(wantMask, mask.to(DType.FLOAT32).toFloatArray(), "mask");
    // Per-channel broadcasting reads NCHW.
    Tensor bias = Tensor.randn(gen, 1, 64, 1, 1);
    assertClose(plainY.add(bias).toFloatArray(), Functional.conv2d(x, w, null, 1, 1).add(bias).toFloatArray(),
        1e-4, "broadcast add");
  }

  /** One residual block (conv, BN, ReLU, conv, BN, max pool skip, sum, ReLU) and its gradients. */
  private static List<float[]> residualBlock(boolean blocked, boolean training, List<Boolean> sawBlocked) {
    Functional.setBlockedLayouts(blocked);
    try (Scope s = Scope.open()) {
      Generator gen = new Generator(3);
      Tensor x = Tensor.randn(gen, 4, 32, 8, 8).requiresGrad(true);
      Tensor w1 = Tensor.randn(gen, 32, 32, 3, 3).mul(0.2).detach().requiresGrad(true);
      Tensor w2 = Tensor.randn(gen, 64, 32, 3, 3).mul(0.2).detach().requiresGrad(true);
      Tensor wp = Tensor.randn(gen, 64, 32, 1, 1).mul(0.2).detach().requiresGrad(true);
      Tensor gamma = Tensor.rand(gen, 32).add(0.5).detach().requiresGrad(true);
      Tensor beta = Tensor.randn(gen, 32).detach().requiresGrad(true);
      Tensor mean = Tensor.zeros(32);
      Tensor var = Tensor.ones(32);
      Tensor c1 = Functional.conv2d(x, w1, null, 1, 1);
      sawBlocked.add(c1.isBlocked());
      Tensor h = Functional.batchNorm(c1, mean, var, gamma, beta, training, 0.1, 1e-5).relu();
      Tensor p = Functional.maxPool2d(h, 2, 2, 0);
      Tensor y = Functional.conv2d(p, w2, null, 1, 1);
      Tensor skip = Functional.conv2d(Functional.avgPool2d(h, 2, 2, 0, true), wp, null, 1, 0);
      Tensor out = y.add(skip).relu();
      Tensor seed = Tensor.randn(gen, out.shape());
      out.mul(seed).sum().backward();
      List<float[]> values = new ArrayList<>();
      for (Tensor t : new Tensor[] {out, x.grad(), w1.grad(), w2.grad(), wp.grad(), gamma.grad(), beta.grad(),
          mean, var}) {
        values.add(t.toFloatArray());
      }
      for (Tensor t : new Tensor[] {x, w1, w2, wp, gamma, beta}) {
        t.grad().close();
      }
      return values;
    } finally {
      Functional.setBlockedLayouts(true);
    }
  }

  @Test
  void residualBlockMatchesTheNchwPathForwardAndBackward() {
    assumeBlockedKernels();
    String[] names = {"output", "x.grad", "w1.grad", "w2.grad", "wp.grad", "gamma.grad", "beta.grad",
        "running_mean", "running_var"};
    for (boolean training : new boolean[] {true, false}) {
      List<Boolean> saw = new ArrayList<>();
      List<float[]> plain = residualBlock(false, training, saw);
      List<float[]> blocked = residualBlock(true, training, saw);
      assertEquals(List.of(false, true), saw, "the NCHW run kept NCHW and the other blocked");
      for (int i = 0; i < names.length; i++) {
        assertClose(plain.get(i), blocked.get(i), 2e-4, names[i] + (training ? " (training)" : " (eval)"));
      }
    }
  }

  /** A dense block's concatenations (DenseNet, Inception), forward and backward. */
  private static List<float[]> denseBlock(boolean blocked, List<Boolean> sawBlocked) {
    Functional.setBlockedLayouts(blocked);
    try (Scope s = Scope.open()) {
      Generator gen = new Generator(4);
      Tensor x = Tensor.randn(gen, 2, 32, 6, 6).requiresGrad(true);
      Tensor w1 = Tensor.randn(gen, 64, 32, 3, 3).mul(0.2).detach().requiresGrad(true);
      Tensor w2 = Tensor.randn(gen, 32, 96, 3, 3).mul(0.2).detach().requiresGrad(true);
      Tensor a = Functional.conv2d(x, Tensor.eye(32).reshape(32, 32, 1, 1), null, 1, 0);
      Tensor b = Functional.conv2d(x, w1, null, 1, 1).relu();
      Tensor cat = Tensor.cat(List.of(a, b), 1);
      sawBlocked.add(cat.isBlocked());
      Tensor y = Functional.conv2d(cat, w2, null, 1, 1);
      Tensor seed = Tensor.randn(gen, y.shape());
      y.mul(seed).sum().backward();
      List<float[]> values = List.of(y.toFloatArray(), x.grad().toFloatArray(), w1.grad().toFloatArray(),
          w2.grad().toFloatArray());
      for (Tensor t : new Tensor[] {x, w1, w2}) {
        t.grad().close();
      }
      return values;
    } finally {
      Functional.setBlockedLayouts(true);
    }
  }

  @Test
  void channelConcatenationMatchesTheNchwPath() {
    assumeBlockedKernels();
    List<Boolean> saw = new ArrayList<>();
    List<float[]> plain = denseBlock(false, saw);
    List<float[]> blocked = denseBlock(true, saw);
    assertEquals(List.of(false, true), saw, "blocked inputs give a blocked concatenation");
    String[] names = {"output", "x.grad", "w1.grad", "w2.grad"};
    for (int i = 0; i < names.length; i++) {
      assertClose(plain.get(i), blocked.get(i), 2e-4, names[i]);
    }
  }

  @Test
  void blockedAndNchwPathsAgreeOnAResNetStep() {
    assumeBlockedKernels();
    // Whole models: the zoo's ResNet-18 in the ModelsTest; here, that a training
    // step's loss is the same number either way.
    float[] losses = new float[2];
    for (int run = 0; run < 2; run++) {
      Functional.setBlockedLayouts(run == 1);
      try (Scope s = Scope.open()) {
        Generator gen = new Generator(5);
        Tensor x = Tensor.randn(gen, 8, 32, 12, 12);
        Tensor w = Tensor.randn(gen, 32, 32, 3, 3).mul(0.1).detach().requiresGrad(true);
        Tensor h = x;
        for (int layer = 0; layer < 4; layer++) {
          h = Functional.conv2d(h, w, null, 1, 1).relu().add(h);
        }
        Tensor loss = h.square().mean();
        loss.backward();
        losses[run] = loss.toFloatArray()[0] + w.grad().sum().toFloatArray()[0];
        w.grad().close();
      }
    }
    Functional.setBlockedLayouts(true);
    assertEquals(losses[0], losses[1], 1e-4 * Math.abs(losses[0]));
  }
}
