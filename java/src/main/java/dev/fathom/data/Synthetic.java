package dev.fathom.data;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.List;

/**
 * Small seeded 2-D classification sets that no linear classifier can separate, for
 * kernel methods (scikit-learn's {@code make_circles} and {@code make_moons}, with random
 * rather than evenly spaced angles). x is float32 [n, 2], y int64 [n]; labels alternate
 * 0, 1, 0, 1, ... so the classes are balanced and any prefix of the rows holds both.
 *
 * <pre>{@code
 * try (TensorDataset circles = Synthetic.circles(400, 0.05, 0.5, new Generator(0))) { ... }
 * }</pre>
 *
 * <p>The same generator state gives the same points; draw train and test sets one after
 * the other from one generator, or from generators with different seeds.
 */
public final class Synthetic {
  private Synthetic() {}

  /**
   * Two concentric circles: label 0 on radius 1, label 1 on radius {@code factor} in (0, 1),
   * angles uniform in [0, 2 pi), plus N(0, noise^2) on each coordinate.
   */
  public static TensorDataset circles(int n, double noise, double factor, Generator gen) {
    check("circles", n, noise, gen);
    if (!(factor > 0 && factor < 1)) {
      throw new IllegalArgumentException("Synthetic.circles: factor=" + factor + " must be in (0, 1)");
    }
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor y = labels(n);
      Tensor angle = Tensor.uniform(gen, 0, 2 * Math.PI, DType.FLOAT32, n, 1);
      Tensor radius = y.to(DType.FLOAT32).mul(factor - 1).add(1).unsqueeze(1);     // 1 or factor
      Tensor x = Tensor.cat(List.of(angle.cos(), angle.sin()), 1).mul(radius);
      return dataset(scope, addNoise(x, noise, gen), y);
    }
  }

  /**
   * Two interleaving half circles: label 0 on {@code (cos t, sin t)}, label 1 on
   * {@code (1 - cos t, 1/2 - sin t)}, t uniform in [0, pi], plus N(0, noise^2) on each coordinate.
   */
  public static TensorDataset moons(int n, double noise, Generator gen) {
    check("moons", n, noise, gen);
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor y = labels(n);
      Tensor t = Tensor.uniform(gen, 0, Math.PI, DType.FLOAT32, n, 1);
      Tensor upper = Tensor.cat(List.of(t.cos(), t.sin()), 1);
      Tensor lower = Tensor.cat(List.of(t.cos().rsub(1), t.sin().rsub(0.5)), 1);
      Tensor isLower = y.to(DType.FLOAT32).unsqueeze(1).expand(n, 2).ne(0.0);
      return dataset(scope, addNoise(Tensor.where(isLower, lower, upper), noise, gen), y);
    }
  }

  private static void check(String op, int n, double noise, Generator gen) {
    if (n < 2) {
      throw new IllegalArgumentException("Synthetic." + op + ": n=" + n + " must be >= 2 (two classes)");
    }
    if (!(noise >= 0) || !Double.isFinite(noise)) {
      throw new IllegalArgumentException("Synthetic." + op + ": noise=" + noise + " must be finite and >= 0");
    }
    if (gen == null) {
      throw new IllegalArgumentException("Synthetic." + op + ": generator must not be null");
    }
  }

  /** 0, 1, 0, 1, ... as int64 [n]. */
  private static Tensor labels(int n) {
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 2;
    }
    return Tensor.fromArray(y, n);
  }

  private static Tensor addNoise(Tensor x, double noise, Generator gen) {
    return noise == 0 ? x : x.add(Tensor.normal(gen, 0, noise, DType.FLOAT32, x.shape()));
  }

  private static TensorDataset dataset(Scope scope, Tensor x, Tensor y) {
    return new TensorDataset(scope.keep(x.contiguous()), scope.keep(y));
  }
}
