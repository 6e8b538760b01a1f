package dev.fathom.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Circles and moons: on their curves without noise, balanced, seeded. */
class SyntheticTest {
  @Test
  void circlesLieOnTheirRadii() {
    long before = NativeMemory.baseline();
    try (TensorDataset d = Synthetic.circles(101, 0, 0.3, new Generator(1))) {
      assertArrayEquals(new long[] {101, 2}, d.features().shape());
      assertEquals(DType.FLOAT32, d.features().dtype());
      assertEquals(DType.INT64, d.labels().dtype());
      double[] x = d.features().toDoubleArray();
      long[] y = d.labels().toLongArray();
      assertEquals(50, Arrays.stream(y).sum());
      double[] angles = new double[101];
      for (int i = 0; i < 101; i++) {
        assertEquals(i % 2, y[i]);
        double r = Math.hypot(x[2 * i], x[2 * i + 1]);
        assertEquals(y[i] == 0 ? 1 : 0.3, r, 1e-6, "radius of point " + i);
        angles[i] = Math.atan2(x[2 * i + 1], x[2 * i]);
      }
      // Angles cover the circle (not all in one quadrant).
      assertTrue(Arrays.stream(angles).min().getAsDouble() < -2 && Arrays.stream(angles).max().getAsDouble() > 2);
    }
    NativeMemory.assertBackTo(before);
  }

  @Test
  void moonsLieOnTheirHalfCircles() {
    long before = NativeMemory.baseline();
    try (TensorDataset d = Synthetic.moons(60, 0, new Generator(2))) {
      double[] x = d.features().toDoubleArray();
      long[] y = d.labels().toLongArray();
      for (int i = 0; i < 60; i++) {
        double a = x[2 * i];
        double b = x[2 * i + 1];
        if (y[i] == 0) {
          assertEquals(1, Math.hypot(a, b), 1e-6);
          assertTrue(b >= -1e-6, "upper moon: y >= 0");
        } else {
          assertEquals(1, Math.hypot(1 - a, 0.5 - b), 1e-6);
          assertTrue(b <= 0.5 + 1e-6, "lower moon: y <= 1/2");
        }
      }
    }
    NativeMemory.assertBackTo(before);
  }

  @Test
  void seededAndNoisy() {
    long before = NativeMemory.baseline();
    try (TensorDataset a = Synthetic.moons(50, 0.1, new Generator(5));
        TensorDataset b = Synthetic.moons(50, 0.1, new Generator(5));
        TensorDataset c = Synthetic.moons(50, 0.1, new Generator(6));
        TensorDataset clean = Synthetic.moons(50, 0, new Generator(5))) {
      assertArrayEquals(a.features().toDoubleArray(), b.features().toDoubleArray(), 0);
      assertFalse(Arrays.equals(a.features().toDoubleArray(), c.features().toDoubleArray()));
      // Noise moves the points off the curves, by about its standard deviation.
      double[] noisy = a.features().toDoubleArray();
      double[] exact = clean.features().toDoubleArray();
      double sq = 0;
      for (int i = 0; i < noisy.length; i++) {
        sq += (noisy[i] - exact[i]) * (noisy[i] - exact[i]);
      }
      double rms = Math.sqrt(sq / noisy.length);
      assertTrue(rms > 0.07 && rms < 0.13, "noise rms " + rms);
    }
    NativeMemory.assertBackTo(before);
  }

  @Test
  void badArguments() {
    Generator g = new Generator(0);
    assertThrows(IllegalArgumentException.class, () -> Synthetic.circles(1, 0, 0.5, g));
    assertThrows(IllegalArgumentException.class, () -> Synthetic.circles(10, -0.1, 0.5, g));
    assertThrows(IllegalArgumentException.class, () -> Synthetic.circles(10, 0, 1, g));
    assertThrows(IllegalArgumentException.class, () -> Synthetic.circles(10, 0, 0, g));
    assertThrows(IllegalArgumentException.class, () -> Synthetic.moons(10, Double.NaN, g));
    assertThrows(IllegalArgumentException.class, () -> Synthetic.moons(10, 0.1, null));
  }
}
