package dev.fathom.tensor;

import static dev.fathom.tensor.GradCheck.Input.nonZero;
import static dev.fathom.tensor.GradCheck.Input.of;
import static dev.fathom.tensor.GradCheck.Input.positive;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.Device;
import dev.fathom.tensor.GradCheck.Case;
import dev.fathom.tensor.GradCheck.Input;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A float64 numerical gradient check for every differentiable op. */
class GradCheckTest {
  /** Shapes every elementwise op is checked on: matrix, scalar, size-1 dims, empty. */
  static final long[][] UNARY_SHAPES = {{2, 3}, {}, {1, 4, 1}, {0, 3}};
  /** Broadcasting pairs for binary ops. */
  static final long[][][] BINARY_SHAPES = {
    {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{}, {2, 3}}, {{3, 1, 2}, {4, 1}}, {{0, 3}, {3}}
  };

  static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    unary(c, "neg", Tensor::neg, GradCheck.Input::of);
    unary(c, "abs", Tensor::abs, GradCheck.Input::nonZero);
    unary(c, "exp", Tensor::exp, GradCheck.Input::of);
    unary(c, "log", Tensor::log, GradCheck.Input::positive);
    unary(c, "sqrt", Tensor::sqrt, GradCheck.Input::positive);
    unary(c, "rsqrt", Tensor::rsqrt, GradCheck.Input::positive);
    unary(c, "square", Tensor::square, GradCheck.Input::of);
    unary(c, "reciprocal", Tensor::reciprocal, GradCheck.Input::positive);
    unary(c, "sigmoid", Tensor::sigmoid, GradCheck.Input::of);
    unary(c, "tanh", Tensor::tanh, GradCheck.Input::of);
    unary(c, "relu", Tensor::relu, GradCheck.Input::nonZero);
    unary(c, "sign", Tensor::sign, GradCheck.Input::nonZero);
    unary(c, "sin", Tensor::sin, GradCheck.Input::of);
    unary(c, "cos", Tensor::cos, GradCheck.Input::of);
    unary(c, "log1p", Tensor::log1p, GradCheck.Input::positive);
    unary(c, "expm1", Tensor::expm1, GradCheck.Input::of);
    unary(c, "softplus", Tensor::softplus, GradCheck.Input::of);
    unary(c, "pow2.5", x -> x.pow(2.5), GradCheck.Input::positive);
    unary(c, "pow-1", x -> x.pow(-1), GradCheck.Input::positive);
    unary(c, "affine", x -> x.mul(3).add(-2), GradCheck.Input::of);
    unary(c, "rsub", x -> x.rsub(1.5), GradCheck.Input::of);
    unary(c, "clamp", x -> x.clamp(-0.5, 0.5), GradCheck.Input::nonZero);
    unary(c, "leakyRelu", x -> x.leakyRelu(0.1), GradCheck.Input::nonZero);
    c.add(new Case("cast f64->f32->f64", l -> l.get(0).to(DType.FLOAT32).square().to(DType.FLOAT64),
        List.of(of(2, 3)), 1e-2, 1e-3));

    binary(c, "add", Tensor::add, false);
    binary(c, "sub", Tensor::sub, false);
    binary(c, "mul", Tensor::mul, false);
    binary(c, "div", Tensor::div, true);
    binary(c, "pow", Tensor::pow, true);
    binary(c, "maximum", Tensor::maximum, false);
    binary(c, "minimum", Tensor::minimum, false);
    c.add(GradCheck.of("maximum ties split evenly", l -> l.get(0).maximum(l.get(0).mul(1.0)), of(5)));
    c.add(GradCheck.of("where", l -> Tensor.where(l.get(0).gt(0.0), l.get(1), l.get(2)),
        nonZero(2, 3), of(2, 3), of(3)));

    c.add(GradCheck.of("sum all", l -> l.get(0).sum(), of(2, 3)));
    c.add(GradCheck.of("sum dim keep", l -> l.get(0).sum(1, true), of(2, 3, 2)));
    c.add(GradCheck.of("sum dims", l -> l.get(0).sum(new int[] {0, 2}, false), of(2, 3, 2)));
    c.add(GradCheck.of("sum empty", l -> l.get(0).sum(0, false), of(0, 3)));
    c.add(GradCheck.of("sum scalar", l -> l.get(0).sum(), of()));
    c.add(GradCheck.of("mean all", l -> l.get(0).mean(), of(3, 4)));
    c.add(GradCheck.of("mean dim", l -> l.get(0).mean(-1, false), of(3, 4)));
    c.add(GradCheck.of("max dim", l -> l.get(0).max(1, false).values(), of(3, 4)));
    c.add(GradCheck.of("max keep", l -> l.get(0).max(0, true).values(), of(3, 4)));
    c.add(GradCheck.of("max all", l -> l.get(0).max(), of(3, 4)));
    c.add(GradCheck.of("min dim", l -> l.get(0).min(1, false).values(), of(3, 4)));
    c.add(GradCheck.of("logsumexp", l -> l.get(0).logsumexp(1, false), of(3, 4)));
    c.add(GradCheck.of("var", l -> l.get(0).var(new int[] {1}, true, false), of(3, 4)));
    c.add(GradCheck.of("std", l -> l.get(0).std(), of(3, 4)));
    c.add(GradCheck.of("norm2", l -> l.get(0).norm(), of(3, 4)));
    c.add(GradCheck.of("norm3", l -> l.get(0).norm(3, new int[] {1}, false), nonZero(3, 4)));

    c.add(GradCheck.of("matmul", l -> l.get(0).matmul(l.get(1)), of(2, 3), of(3, 4)));
    c.add(GradCheck.of("matmul batched broadcast", l -> l.get(0).matmul(l.get(1)), of(2, 2, 3), of(3, 4)));
    c.add(GradCheck.of("matmul batch both", l -> l.get(0).matmul(l.get(1)), of(2, 1, 2, 3), of(3, 3, 2)));
    c.add(GradCheck.of("matmul vector-matrix", l -> l.get(0).matmul(l.get(1)), of(3), of(3, 4)));
    c.add(GradCheck.of("matmul matrix-vector", l -> l.get(0).matmul(l.get(1)), of(2, 3), of(3)));
    c.add(GradCheck.of("matmul transposed", l -> l.get(0).t().matmul(l.get(1).t()), of(3, 2), of(4, 3)));

    c.add(GradCheck.of("reshape", l -> l.get(0).reshape(3, -1).mul(l.get(0).reshape(3, 2)), of(2, 3)));
    c.add(GradCheck.of("reshape of transpose (copy)", l -> l.get(0).t().reshape(-1).square(), of(2, 3)));
    c.add(GradCheck.of("permute", l -> l.get(0).permute(2, 0, 1).square(), of(2, 3, 2)));
    c.add(GradCheck.of("transpose", l -> l.get(0).transpose(0, 1).matmul(l.get(1)), of(3, 2), of(3, 2)));
    c.add(GradCheck.of("narrow", l -> l.get(0).narrow(1, 1, 2).square(), of(3, 4)));
    c.add(GradCheck.of("select", l -> l.get(0).select(0, 1).square(), of(3, 4)));
    c.add(GradCheck.of("expand", l -> l.get(0).expand(3, 2, 4).square(), of(2, 1)));
    c.add(GradCheck.of("unsqueeze/squeeze", l -> l.get(0).unsqueeze(1).squeeze(1).square(), of(2, 3)));
    c.add(GradCheck.of("contiguous", l -> l.get(0).t().contiguous().square(), of(2, 3)));
    if (Device.cudaDeviceCount() > 0) {
      Device gpu = Device.cuda(0);
      c.add(GradCheck.of("to cuda and back",
          l -> l.get(0).to(gpu).mul(l.get(1).to(gpu)).to(Device.cpu()), of(2, 3), of(2, 3)));
    }
    c.add(GradCheck.of("cat", l -> Tensor.cat(List.of(l.get(0), l.get(1)), 1).square(), of(2, 3), of(2, 1)));
    c.add(GradCheck.of("stack", l -> Tensor.stack(List.of(l.get(0), l.get(1)), 0).square(), of(2, 3), of(2, 3)));
    c.add(GradCheck.of("split", l -> l.get(0).split(2, 1).get(1).square(), of(2, 5)));
    c.add(GradCheck.of("chunk", l -> l.get(0).chunk(2, 0).get(0).exp(), of(3, 2)));
    c.add(GradCheck.of("indexSelect repeated", l -> l.get(0).indexSelect(0,
        Tensor.fromArray(new long[] {2, 0, 2}, 3)).square(), of(3, 2)));
    c.add(GradCheck.of("gather", l -> l.get(0).gather(1,
        Tensor.fromArray(new long[] {0, 2, 1, 1}, 2, 2)).square(), of(2, 3)));
    c.add(GradCheck.of("scatterAdd", l -> l.get(0).scatterAdd(0,
        Tensor.fromArray(new long[] {1, 0, 1}, 1, 3), l.get(1)).square(), of(2, 3), of(1, 3)));
    c.add(GradCheck.of("conv2d 3x3 p1 + bias", l -> Functional.conv2d(l.get(0), l.get(1), l.get(2), 1, 1),
        of(2, 3, 5, 5), of(4, 3, 3, 3), of(4)));
    c.add(GradCheck.of("conv2d s2 no bias", l -> Functional.conv2d(l.get(0), l.get(1), null, 2, 0),
        of(1, 2, 7, 6), of(3, 2, 3, 2)));
    c.add(GradCheck.of("conv2d groups + dilation", l -> Functional.conv2d(l.get(0), l.get(1), l.get(2),
        1, 1, 2, 2, 2, 2, 3), of(1, 3, 6, 6), of(6, 1, 3, 3), of(6)));
    c.add(GradCheck.of("maxPool2d 2x2/2", l -> Functional.maxPool2d(l.get(0), 2, 2, 0), of(2, 2, 4, 6)));
    c.add(GradCheck.of("maxPool2d 3x3/2 p1 overlapping", l -> Functional.maxPool2d(l.get(0), 3, 2, 1),
        of(1, 2, 5, 5)));
    c.add(GradCheck.of("avgPool2d include pad", l -> Functional.avgPool2d(l.get(0), 3, 2, 1, true), of(1, 2, 5, 5)));
    c.add(GradCheck.of("avgPool2d exclude pad", l -> Functional.avgPool2d(l.get(0), 3, 1, 1, false), of(2, 1, 4, 3)));
    c.add(GradCheck.of("batchNorm2d training", l -> batchNorm(l.get(0), l.get(1), l.get(2)),
        of(3, 2, 2, 3), positive(2), of(2)));
    c.add(GradCheck.of("batchNorm1d training", l -> batchNorm(l.get(0), l.get(1), l.get(2)),
        of(5, 3), positive(3), of(3)));
    rnn(c, RnnMode.RNN_TANH, 2, 1, false, true);
    rnn(c, RnnMode.RNN_RELU, 4, 1, false, false);  // more units: fewer of them are cut off by relu
    rnn(c, RnnMode.GRU, 2, 1, false, true);
    rnn(c, RnnMode.GRU_PYTORCH, 2, 1, false, true);
    rnn(c, RnnMode.LSTM, 2, 1, false, true);
    rnn(c, RnnMode.LSTM, 2, 2, true, true);
    rnn(c, RnnMode.GRU, 2, 2, true, false);
    c.add(GradCheck.of("softmax composed", l -> {
      Tensor x = l.get(0);
      return x.sub(x.logsumexp(1, true)).exp();
    }, of(2, 4)));
    return c;
  }

  /** Training-mode batch norm with fresh running statistics (they do not affect the output). */
  private static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta) {
    long c = x.shape()[1];
    return Functional.batchNorm(x, Tensor.zeros(DType.FLOAT64, c), Tensor.ones(DType.FLOAT64, c), gamma, beta,
        true, 0.1, 1e-5);
  }

  /**
   * Functional.rnn on T=3, N=2, I=3 and hidden size h (float64: the reference
   * kernel), the loss over output, hn and cn together; inputs x, [h0, c0,] then
   * the weights.
   */
  private static void rnn(List<Case> c, RnnMode mode, long h, int layers, boolean bidirectional,
      boolean withState) {
    long t = 3;
    long n = 2;
    long i = 3;
    int d = bidirectional ? 2 : 1;
    long rows = (mode == RnnMode.LSTM ? 4 : mode == RnnMode.GRU || mode == RnnMode.GRU_PYTORCH ? 3 : 1) * h;
    boolean lstm = mode == RnnMode.LSTM;
    int states = withState ? (lstm ? 2 : 1) : 0;
    List<Input> inputs = new ArrayList<>();
    inputs.add(of(t, n, i));
    for (int s = 0; s < states; s++) {
      inputs.add(of(layers * d, n, h));
    }
    for (int k = 0; k < layers; k++) {
      for (int dir = 0; dir < d; dir++) {
        inputs.add(of(rows, k == 0 ? i : d * h));
        inputs.add(of(rows, h));
        inputs.add(of(rows));
        inputs.add(of(rows));
      }
    }
    String name = "rnn " + mode + " H=" + h + " layers=" + layers + (bidirectional ? " bidirectional" : "")
        + (withState ? " with h0" : " zero state");
    c.add(new Case(name, l -> {
      Tensor h0 = states > 0 ? l.get(1) : null;
      Tensor c0 = states > 1 ? l.get(2) : null;
      RnnResult r = Functional.rnn(mode, l.get(0), h0, c0, l.subList(1 + states, l.size()), layers, bidirectional);
      List<Tensor> parts = new ArrayList<>(List.of(r.output().flatten(), r.hn().flatten()));
      if (r.cn() != null) {
        parts.add(r.cn().flatten());
      }
      return Tensor.cat(parts, 0);
    }, inputs, 1e-6, 1e-6));
  }

  private static void unary(List<Case> c, String name, Function<Tensor, Tensor> f,
      Function<long[], Input> input) {
    for (long[] shape : UNARY_SHAPES) {
      c.add(GradCheck.of(name + " " + Shapes.str(shape), l -> f.apply(l.get(0)), input.apply(shape)));
    }
  }

  private static void binary(List<Case> c, String name,
      java.util.function.BiFunction<Tensor, Tensor, Tensor> f, boolean positive) {
    for (long[][] pair : BINARY_SHAPES) {
      Input a = positive ? positive(pair[0]) : of(pair[0]);
      Input b = positive ? positive(pair[1]) : of(pair[1]);
      c.add(GradCheck.of(name + " " + Shapes.str(pair[0]) + " " + Shapes.str(pair[1]),
          l -> f.apply(l.get(0), l.get(1)), a, b));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void gradcheck(Case c) {
    GradCheck.check(c, 1234);
  }

  /** Fails when an op that records a graph node has no gradient check above. */
  @Test
  void everyDifferentiableOpHasAGradientCheck() {
    Set<OpName> covered = EnumSet.noneOf(OpName.class);
    for (Case c : cases()) {
      try (Scope s = Scope.open()) {
        List<Tensor> leaves = new ArrayList<>();
        for (Input in : c.inputs()) {
          leaves.add(Tensor.zeros(DType.FLOAT64, in.shape()).add(0.5).requiresGrad(true));
        }
        covered.addAll(GradCheck.recordedOps(c.f().apply(leaves)));
      }
    }
    Set<OpName> missing = EnumSet.allOf(OpName.class);
    missing.removeAll(covered);
    if (Device.cudaDeviceCount() == 0) {
      missing.remove(OpName.TO_DEVICE);  // a copy between devices needs a second device
    }
    assertTrue(missing.isEmpty(), "ops without a gradient check: " + missing);
  }
}
