package dev.fathom.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** clipGradNorm: g <- min(maxNorm / (||g|| + 1e-6), 1) g over all gradients together. */
class ClipGradTest {
  private long baseline;
  private Tensor a;
  private Tensor b;
  private Tensor unused;

  @BeforeEach
  void setUp() {
    baseline = Tensor.liveNativeBytes();
    a = Tensor.zeros(2).requiresGrad(true);
    b = Tensor.zeros(DType.FLOAT64, 1).requiresGrad(true);
    unused = Tensor.zeros(3).requiresGrad(true);
    // Gradients [3, 4] and [12]: global norm 13.
    try (Scope s = Scope.open()) {
      a.mul(Tensor.fromArray(new float[] {3, 4}, 2)).sum().add(b.mul(12.0).sum()).backward();
    }
  }

  @AfterEach
  void noLeaks() {
    a.close();
    b.close();
    unused.close();
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked by the test");
  }

  @Test
  void scalesEveryGradientToTheMaxNorm() {
    double norm = ClipGrad.clipGradNorm(List.of(a, b, unused), 6.5);
    assertEquals(13, norm, 1e-6);
    double scale = 6.5 / (13 + 1e-6);
    assertArrayEquals(new double[] {3 * scale, 4 * scale}, a.grad().toDoubleArray(), 1e-6);
    assertArrayEquals(new double[] {12 * scale}, b.grad().toDoubleArray(), 1e-12);
    assertNull(unused.grad());
    double after = Math.sqrt(Math.pow(a.grad().toDoubleArray()[0], 2) + Math.pow(a.grad().toDoubleArray()[1], 2)
        + Math.pow(b.grad().item(), 2));
    assertEquals(6.5, after, 1e-5);
  }

  @Test
  void leavesSmallGradientsAlone() {
    float[] ga = a.grad().toFloatArray();
    double norm = ClipGrad.clipGradNorm(List.of(a, b), 13.5);
    assertEquals(13, norm, 1e-6);
    assertArrayEquals(ga, a.grad().toFloatArray(), 0f);
    assertEquals(12, b.grad().item(), 0);
    // Exactly at the bound: 13 / (13 + 1e-6) < 1 scales by a hair, as PyTorch does.
    ClipGrad.clipGradNorm(List.of(a, b), 13);
    assertEquals(12 * 13 / (13 + 1e-6), b.grad().item(), 1e-12);
  }

  @Test
  void noGradientsAndBadArguments() {
    assertEquals(0, ClipGrad.clipGradNorm(List.of(unused), 1.0));
    assertThrows(IllegalArgumentException.class, () -> ClipGrad.clipGradNorm(List.of(a), -1));
    assertThrows(IllegalArgumentException.class, () -> ClipGrad.clipGradNorm(List.of(a), Double.NaN));
  }
}
