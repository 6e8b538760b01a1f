package dev.fathom.nn;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;

/**
 * In-place weight initialisation (names as torch.nn.init). A given Generator
 * seed reproduces the weights bit for bit.
 *
 * <pre>{@code
 * Generator gen = new Generator(0);
 * model.apply(m -> { if (m instanceof Linear l) { Init.xavierUniform_(l.weight(), gen); Init.zeros_(l.bias()); } });
 * }</pre>
 */
public final class Init {
  private Init() {}

  /** N(mean, std). */
  public static Tensor normal_(Tensor t, double mean, double std, Generator gen) {
    return fill(t, () -> Tensor.normal(gen, mean, std, floating(t), t.shape()));
  }

  /** U(a, b). */
  public static Tensor uniform_(Tensor t, double a, double b, Generator gen) {
    return fill(t, () -> Tensor.uniform(gen, a, b, floating(t), t.shape()));
  }

  /** Xavier/Glorot uniform: U(-sqrt(6 / (fanIn + fanOut)), +sqrt(6 / (fanIn + fanOut))). */
  public static Tensor xavierUniform_(Tensor t, Generator gen) {
    long[] fans = fans(t);
    double bound = Math.sqrt(6.0 / (fans[0] + fans[1]));
    return uniform_(t, -bound, bound, gen);
  }

  /** Xavier/Glorot normal: N(0, 2 / (fanIn + fanOut)). */
  public static Tensor xavierNormal_(Tensor t, Generator gen) {
    long[] fans = fans(t);
    return normal_(t, 0, Math.sqrt(2.0 / (fans[0] + fans[1])), gen);
  }

  public static Tensor zeros_(Tensor t) {
    return constant_(t, 0);
  }

  public static Tensor constant_(Tensor t, double value) {
    try (GradMode.Guard g = GradMode.disable()) {
      return t.fill_(value);
    }
  }

  /**
   * fanIn and fanOut of a weight: [out, in] for Linear, [out, in, kh, kw] for
   * Conv2d (receptive field multiplies both).
   */
  public static long[] fans(Tensor t) {
    long[] s = t.shape();
    if (s.length < 2) {
      throw new IllegalArgumentException("Init: fan in/out needs at least 2 dimensions, got "
          + java.util.Arrays.toString(s));
    }
    long receptive = 1;
    for (int i = 2; i < s.length; i++) {
      receptive *= s[i];
    }
    return new long[] {s[1] * receptive, s[0] * receptive};
  }

  private static DType floating(Tensor t) {
    if (!t.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("Init: needs a floating-point tensor, got " + t.dtype());
    }
    return t.dtype();
  }

  private static Tensor fill(Tensor t, java.util.function.Supplier<Tensor> values) {
    try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
      t.copy_(values.get());
    }
    return t;
  }
}
