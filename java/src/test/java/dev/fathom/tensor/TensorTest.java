package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Semantics on hand-computed cases (NumPy/PyTorch behaviour), errors and memory ownership. */
class TensorTest {
  private Scope scope;
  private long baseline;

  @BeforeEach
  void open() {
    baseline = Tensor.liveNativeBytes();
    scope = Scope.open();
  }

  @AfterEach
  void closeAndCheckLeaks() {
    scope.close();
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  private static Tensor t(float[] v, long... shape) {
    return Tensor.fromArray(v, shape);
  }

  @Test
  void creation() {
    assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0}, Tensor.zeros(2, 3).toFloatArray());
    assertArrayEquals(new float[] {7, 7}, Tensor.full(7, 2).toFloatArray());
    assertArrayEquals(new long[] {0, 1, 2, 3}, Tensor.arange(4).toLongArray());
    assertArrayEquals(new float[] {1, 1.5f, 2, 2.5f}, Tensor.arange(1, 3, 0.5).toFloatArray());
    assertArrayEquals(new float[] {0, 0.25f, 0.5f, 0.75f, 1}, Tensor.linspace(0, 1, 5).toFloatArray());
    assertArrayEquals(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, Tensor.eye(3).toFloatArray());
    assertEquals(3.5, Tensor.scalar(3.5).item());
    assertEquals(0, Tensor.scalar(1).dim());
    assertArrayEquals(new long[] {0, 3}, Tensor.zeros(0, 3).shape());
    assertEquals(0, Tensor.zeros(0, 3).numel());
  }

  @Test
  void fromArrayChecksCount() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> t(new float[] {1, 2, 3}, 2, 2));
    assertTrue(e.getMessage().contains("fromArray: 3 values do not fill shape [2,2]"), e.getMessage());
  }

  @Test
  void broadcastingFollowsNumpy() {
    Tensor a = t(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    Tensor row = t(new float[] {10, 20, 30}, 3);
    Tensor col = t(new float[] {100, 200}, 2, 1);
    assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, a.add(row).toFloatArray());
    assertArrayEquals(new float[] {101, 102, 103, 204, 205, 206}, a.add(col).toFloatArray());
    Tensor outer = col.mul(row);
    assertArrayEquals(new long[] {2, 3}, outer.shape());
    assertArrayEquals(new float[] {1000, 2000, 3000, 2000, 4000, 6000}, outer.toFloatArray());
    assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, a.mul(Tensor.scalar(2)).toFloatArray());
    Tensor empty = Tensor.zeros(0, 3).add(row);
    assertArrayEquals(new long[] {0, 3}, empty.shape());
  }

  @Test
  void shapeErrorsNameTheOpAndBothShapes() {
    Tensor a = Tensor.zeros(2, 3);
    Tensor b = Tensor.zeros(4);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
    assertEquals("add: cannot broadcast [2,3] with [4]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(2, 3)));
    assertTrue(e.getMessage().contains("matmul: inner dimensions differ: [2,3] @ [2,3]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> a.reshape(4, 2));
    assertTrue(e.getMessage().contains("reshape: cannot reshape [2,3] (6 elements) into [4,2]"));
    e = assertThrows(IllegalArgumentException.class, () -> a.sum(2, false));
    assertTrue(e.getMessage().contains("sum: dimension 2 out of range"), e.getMessage());
  }

  @Test
  void reductionsMatchHandComputedValues() {
    Tensor a = t(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    assertEquals(21, a.sum().item());
    assertArrayEquals(new float[] {5, 7, 9}, a.sum(0, false).toFloatArray());
    assertArrayEquals(new long[] {2, 1}, a.sum(1, true).shape());
    assertArrayEquals(new float[] {6, 15}, a.sum(1, true).toFloatArray());
    assertArrayEquals(new float[] {2, 5}, a.mean(1, false).toFloatArray());
    assertEquals(3.5, a.mean().item(), 1e-6);
    Tensor.ValuesIndices mx = a.max(1, false);
    assertArrayEquals(new float[] {3, 6}, mx.values().toFloatArray());
    assertArrayEquals(new long[] {2, 2}, mx.indices().toLongArray());
    assertEquals(6, a.max().item());
    assertEquals(1, a.min().item());
    assertArrayEquals(new long[] {0, 0}, a.argmin(1, false).toLongArray());
    assertEquals(5, a.argmax().item());
    assertEquals(3.5, a.var().item(), 1e-6); // unbiased: 17.5 / 5
    assertEquals(Math.sqrt(91), a.norm().item(), 1e-5);
    assertEquals(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)),
        a.logsumexp(1, false).toDoubleArray()[0], 1e-5);
    Tensor big = t(new float[] {1000, 1000}, 2);
    assertEquals(1000 + Math.log(2), big.logsumexp(0, false).item(), 1e-3);
    assertEquals(0, Tensor.zeros(0, 3).sum().item());
    assertTrue(Double.isNaN(Tensor.zeros(0).mean().item()));
    assertEquals(2L, t(new float[] {1, 0, 1}, 3).gt(0.5).sum().item());
    assertEquals(DType.INT64, t(new float[] {1, 0, 1}, 3).gt(0.5).sum().dtype());
  }

  @Test
  void maxOverASizeOneDimension() {
    Tensor a = t(new float[] {3, -1}, 2, 1);
    assertArrayEquals(new float[] {3, -1}, a.max(1, false).values().toFloatArray());
    assertArrayEquals(new long[] {0, 0}, a.argmax(1, false).toLongArray());
  }

  @Test
  void argmaxTiesPickTheFirst() {
    assertArrayEquals(new long[] {1}, t(new float[] {0, 5, 5}, 1, 3).argmax(1, false).toLongArray());
  }

  @Test
  void viewsShareStorage() {
    Tensor a = t(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    Tensor tr = a.t();
    assertFalse(tr.isContiguous());
    assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, tr.toFloatArray());
    assertArrayEquals(new float[] {2, 3, 5, 6}, a.narrow(1, 1, 2).toFloatArray());
    assertArrayEquals(new float[] {4, 5, 6}, a.select(0, 1).toFloatArray());
    Tensor v = a.view(3, 2);
    try (GradMode.Guard g = GradMode.disable()) {
      v.fill_(0);
    }
    assertArrayEquals(new float[6], a.toFloatArray());
    assertThrows(IllegalArgumentException.class, () -> tr.view(6));
    assertArrayEquals(new long[] {6}, tr.reshape(-1).shape());
    assertArrayEquals(new long[] {2, 1, 3}, a.unsqueeze(1).shape());
    assertArrayEquals(new long[] {2, 3}, a.unsqueeze(0).squeeze(0).shape());
    assertArrayEquals(new long[] {4, 2, 3}, a.expand(4, 2, 3).shape());
    assertArrayEquals(new long[] {3, 2}, a.permute(1, 0).shape());
    assertArrayEquals(new long[] {2, 3}, a.flatten(1).shape());
  }

  @Test
  void catStackSplitChunk() {
    Tensor a = t(new float[] {1, 2, 3, 4}, 2, 2);
    Tensor b = t(new float[] {5, 6}, 2, 1);
    assertArrayEquals(new float[] {1, 2, 5, 3, 4, 6}, Tensor.cat(List.of(a, b), 1).toFloatArray());
    Tensor s = Tensor.stack(List.of(a, a), 0);
    assertArrayEquals(new long[] {2, 2, 2}, s.shape());
    List<Tensor> parts = Tensor.arange(0, 5, 1).split(2, 0);
    assertEquals(3, parts.size());
    assertArrayEquals(new float[] {4}, parts.get(2).toFloatArray());
    assertEquals(2, Tensor.zeros(4, 2).chunk(2, 0).size());
    assertThrows(IllegalArgumentException.class, () -> Tensor.cat(List.of(a, Tensor.zeros(3, 1)), 1));
  }

  @Test
  void indexing() {
    Tensor a = t(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
    Tensor idx = Tensor.fromArray(new long[] {2, 0}, 2);
    assertArrayEquals(new float[] {5, 6, 1, 2}, a.indexSelect(0, idx).toFloatArray());
    Tensor g = a.gather(1, Tensor.fromArray(new long[] {1, 0, 1}, 3, 1));
    assertArrayEquals(new float[] {2, 3, 6}, g.toFloatArray());
    Tensor oh = Tensor.oneHot(Tensor.fromArray(new long[] {0, 2}, 2), 3);
    assertArrayEquals(new float[] {1, 0, 0, 0, 0, 1}, oh.toFloatArray());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.oneHot(Tensor.fromArray(new long[] {3}, 1), 3));
    assertTrue(e.getMessage().startsWith("oneHot:"), e.getMessage());
    assertThrows(RuntimeException.class, () -> a.indexSelect(0, Tensor.fromArray(new long[] {3}, 1)));
  }

  @Test
  void integerComparisons() {
    Tensor labels = Tensor.fromArray(new long[] {3, 1, 2}, 3);
    Tensor predicted = Tensor.fromArray(new long[] {3, 0, 2}, 3);
    assertArrayEquals(new long[] {1, 0, 1}, labels.eq(predicted).toLongArray());
    assertEquals(2L, labels.eq(predicted).sum().item());
    assertArrayEquals(new long[] {0, 0, 1}, labels.gt(2.5 - 1).mul(labels.eq(2.0)).toLongArray());
    Tensor sum = labels.add(predicted);
    assertEquals(DType.INT64, sum.dtype());
    assertArrayEquals(new long[] {6, 1, 4}, sum.toLongArray());
    Tensor half = labels.div(Tensor.fromArray(new long[] {2}, 1));
    assertEquals(DType.FLOAT32, half.dtype());
    assertArrayEquals(new float[] {1.5f, 0.5f, 1}, half.toFloatArray());
  }

  @Test
  void comparisonsAndWhere() {
    Tensor a = t(new float[] {1, -2, 3}, 3);
    Tensor mask = a.gt(0.0);
    assertEquals(DType.BOOL, mask.dtype());
    assertArrayEquals(new long[] {1, 0, 1}, mask.toLongArray());
    assertArrayEquals(new float[] {1, 0, 3}, Tensor.where(mask, a, Tensor.scalar(0)).toFloatArray());
    assertArrayEquals(new float[] {1, -2, 2}, a.clamp(-5, 2).toFloatArray());
    assertArrayEquals(new float[] {1, -1, 1}, a.sign().toFloatArray());
  }

  @Test
  void dtypePromotion() {
    Tensor f = t(new float[] {1.5f}, 1);
    Tensor d = Tensor.fromArray(new double[] {2}, 1);
    assertEquals(DType.FLOAT64, f.add(d).dtype());
    assertEquals(DType.FLOAT32, f.add(Tensor.fromArray(new long[] {2}, 1)).dtype());
    assertEquals(3.5, f.add(d).item());
  }

  @Test
  void randomIsReproducibleAndSeedZeroIsASeed() {
    float[] a = Tensor.randn(new Generator(0), 1000).toFloatArray();
    float[] b = Tensor.randn(new Generator(0), 1000).toFloatArray();
    float[] c = Tensor.randn(new Generator(1), 1000).toFloatArray();
    assertArrayEquals(a, b);
    assertFalse(java.util.Arrays.equals(a, c));
    Generator g = new Generator(5);
    float[] first = Tensor.rand(g, 10).toFloatArray();
    float[] second = Tensor.rand(g, 10).toFloatArray();
    assertFalse(java.util.Arrays.equals(first, second), "a generator advances between draws");
    Tensor u = Tensor.rand(new Generator(3), 100_000);
    assertEquals(0.5, u.mean().item(), 0.01);
    assertTrue(u.min().item() >= 0 && u.max().item() < 1);
    Tensor n = Tensor.randn(new Generator(3), 100_000);
    assertEquals(0, n.mean().item(), 0.02);
    assertEquals(1, n.std().item(), 0.02);
    assertEquals(0.3, Tensor.bernoulli(new Generator(4), 0.3, DType.FLOAT32, 100_000).mean().item(), 0.01);
  }

  @Test
  void matmulShapes() {
    Tensor a = Tensor.ones(2, 3);
    Tensor b = Tensor.ones(3, 4);
    assertArrayEquals(new float[] {3, 3, 3, 3, 3, 3, 3, 3}, a.matmul(b).toFloatArray());
    assertArrayEquals(new long[] {5, 2, 4}, Tensor.ones(5, 2, 3).matmul(b).shape());
    assertArrayEquals(new long[] {4}, Tensor.ones(3).matmul(b).shape());
    assertArrayEquals(new long[] {}, Tensor.ones(3).matmul(Tensor.ones(3)).shape());
    assertEquals(3, Tensor.ones(3).matmul(Tensor.ones(3)).item());
  }

  @Test
  void autogradBasics() {
    Tensor x = t(new float[] {1, 2, 3}, 3).requiresGrad(true);
    Tensor y = x.mul(x).sum();
    assertEquals("SUM", y.gradFnName());
    y.backward();
    assertArrayEquals(new float[] {2, 4, 6}, x.grad().toFloatArray());
    // Accumulates until zeroGrad.
    x.mul(3).sum().backward();
    assertArrayEquals(new float[] {5, 7, 9}, x.grad().toFloatArray());
    x.zeroGrad();
    assertNull(x.grad());
    Tensor z = x.mul(2);
    z.backward(t(new float[] {1, 0, -1}, 3));
    assertArrayEquals(new float[] {2, 0, -2}, x.grad().toFloatArray());
    x.zeroGrad();
  }

  @Test
  void backwardTwiceNeedsRetainGraph() {
    Tensor x = t(new float[] {1, 2}, 2).requiresGrad(true);
    Tensor y = x.exp().sum();
    y.backward(Tensor.scalar(1), true);
    y.backward(Tensor.scalar(1), false);
    assertArrayEquals(new float[] {(float) (2 * Math.E), (float) (2 * Math.exp(2))},
        x.grad().toFloatArray(), 1e-4f);
    IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
    assertTrue(e.getMessage().contains("backward through the graph a second time"), e.getMessage());
    x.zeroGrad();
  }

  @Test
  void noGradAndDetach() {
    Tensor x = t(new float[] {1}, 1).requiresGrad(true);
    try (GradMode.Guard g = GradMode.disable()) {
      assertFalse(x.mul(2).requiresGrad());
    }
    assertTrue(x.mul(2).requiresGrad());
    assertFalse(x.detach().requiresGrad());
    assertThrows(IllegalStateException.class, () -> x.add_(Tensor.ones(1)));
    assertThrows(IllegalStateException.class, () -> Tensor.scalar(1).backward());
  }

  @Test
  void inPlaceOps() {
    Tensor w = t(new float[] {1, 2}, 2);
    w.add_(t(new float[] {1, 1}, 2)).mul_(2).add_(1.0);
    assertArrayEquals(new float[] {5, 7}, w.toFloatArray());
    w.addScaled_(t(new float[] {1, 1}, 2), -0.5);
    assertArrayEquals(new float[] {4.5f, 6.5f}, w.toFloatArray());
    w.clamp_(5, 6);
    assertArrayEquals(new float[] {5, 6}, w.toFloatArray());
    w.copy_(Tensor.scalar(3));
    assertArrayEquals(new float[] {3, 3}, w.toFloatArray());
    assertThrows(IllegalArgumentException.class, () -> Tensor.ones(1).expand(3).zero_());
  }

  @Test
  void closedTensorThrowsInsteadOfCrashing() {
    Tensor a = Tensor.ones(3);
    Tensor view = a.reshape(3, 1);
    a.close();
    assertArrayEquals(new float[] {1, 1, 1}, view.toFloatArray(), "views keep the storage alive");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.add(a));
    assertTrue(e.getMessage().contains("was closed"), e.getMessage());
    assertThrows(IllegalStateException.class, a::toFloatArray);
    a.close(); // idempotent
  }

  @Test
  void scopesReleaseAndKeep() {
    long before = Tensor.liveNativeBytes();
    Tensor kept;
    try (Scope inner = Scope.open()) {
      Tensor tmp = Tensor.ones(1000);
      kept = inner.keep(tmp.mul(2));
      assertTrue(Tensor.liveNativeBytes() > before);
    }
    assertEquals(2000, kept.sum().item());
    assertFalse(kept.isClosed(), "kept tensors move to the enclosing scope");
    Tensor owned;
    try (Scope inner = Scope.open()) {
      owned = Tensor.ones(10).unscope();
    }
    assertFalse(owned.isClosed());
    owned.close();
  }

  @Test
  void toStringShowsValuesShapeDtypeDevice() {
    String s = t(new float[] {1, 2, 3, 4}, 2, 2).toString();
    assertEquals("tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], shape=[2,2], dtype=float32, device=cpu)", s);
    String big = Tensor.zeros(2000).toString();
    assertTrue(big.contains("..."), big);
    assertTrue(Tensor.arange(3).toString().startsWith("tensor([0, 1, 2]"));
    assertTrue(Tensor.ones(1).requiresGrad(true).mul(2).toString().contains("gradFn=AFFINE"));
  }

  @Test
  void savedTensorsAreReleasedAfterBackward() {
    Tensor x = Tensor.ones(1000).requiresGrad(true);
    long before;
    try (Scope s = Scope.open()) {
      Tensor y = x.exp().mul(x).sum();
      before = Tensor.liveNativeBytes();
      y.backward();
      assertSame(y, y);
    }
    assertTrue(Tensor.liveNativeBytes() < before);
    x.zeroGrad();
    x.close();
  }
}
