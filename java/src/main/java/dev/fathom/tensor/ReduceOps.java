package dev.fathom.tensor;

import static dev.fathom.tensor.Ops.desc;
import static dev.fathom.tensor.Ops.name;
import static dev.fathom.tensor.Ops.requireFloat;
import static dev.fathom.tensor.Ops.viewAs;

import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reductions (ReduceOp: the native op table) and what is built on them: sum,
 * mean, max/min with indices, logsumexp, var, norm, and sumTo, the backward of
 * broadcasting.
 */
final class ReduceOps {
  private ReduceOps() {}

  // ------------------------------------------------------------------ broadcasting

  /** Sums `g` over broadcast dimensions so that it has `shape` (the backward of broadcasting). */
  static Tensor sumTo(Tensor g, long[] shape) {
    if (Shapes.same(g.shape, shape)) {
      return g;
    }
    int lead = g.shape.length - shape.length;
    List<Integer> dims = new ArrayList<>();
    for (int i = 0; i < g.shape.length; i++) {
      if (i < lead || (shape[i - lead] == 1 && g.shape[i] != 1)) {
        dims.add(i);
      }
    }
    Tensor summed = reduce(OpName.SUM, g, dims.stream().mapToInt(Integer::intValue).toArray(), true);
    return summed.reshape(shape);
  }

  // ------------------------------------------------------------------ reductions

  private static int[] normalizeDims(String op, int[] dims, int ndim) {
    int[] out = new int[dims.length];
    boolean[] seen = new boolean[Math.max(ndim, 1)];
    for (int i = 0; i < dims.length; i++) {
      int d = Shapes.dim(op, dims[i], ndim);
      if (seen[d]) {
        throw new IllegalArgumentException(op + ": dimension " + dims[i] + " repeated");
      }
      seen[d] = true;
      out[i] = d;
    }
    Arrays.sort(out);
    return out;
  }

  private static long[] keptShape(long[] shape, int[] dims) {
    long[] k = shape.clone();
    for (int d : dims) {
      k[d] = 1;
    }
    return k;
  }

  private static long[] droppedShape(long[] shape, int[] dims) {
    long[] out = new long[shape.length - dims.length];
    int j = 0;
    for (int i = 0, k = 0; i < shape.length; i++) {
      if (k < dims.length && dims[k] == i) {
        k++;
      } else {
        out[j++] = shape[i];
      }
    }
    return out;
  }

  static Tensor reduce(OpName op, Tensor x, int[] dims0, boolean keepDim) {
    String opName = name(op);
    x.ensureOpen(opName);
    if (op == OpName.SUM && !x.dtype.isFloatingPoint()) {
      // Integer and bool sums count: accumulate exactly in float64, return int64.
      try (Tensor wide = ElementwiseOps.castCopy(x, DType.FLOAT64);
          Tensor summed = reduce(op, wide, dims0, keepDim)) {
        return ElementwiseOps.castCopy(summed, DType.INT64);
      }
    }
    int[] dims = x.shape.length == 0 ? new int[0] : normalizeDims(opName, dims0, x.shape.length);
    if (op == OpName.MEAN) {
      requireFloat(opName, x);
    }
    long[] kept = keptShape(x.shape, dims);
    Tensor out = Tensor.emptyOn(x.deviceCode(), x.dtype, kept);
    Slots s = TensorKernels.slots();
    desc(s, 0, x);
    desc(s, 1, out);
    // A size-1 dimension "reduced" is already reduced: the kernel sees a copy.
    TensorKernels.reduce(op.reduce, s, 0, 1, -1);
    Tensor result = keepDim ? out : viewAs(out, droppedShape(x.shape, dims));
    if (Autograd.needed(x)) {
      long[] xs = x.shape;
      long n = 1;
      for (int d : dims) {
        n *= xs[d];
      }
      double scale = op == OpName.MEAN ? 1.0 / n : 1.0;
      Autograd.record(result, op, new Tensor[] {x}, g -> {
        Tensor e = g.reshape(kept).expand(xs);
        return new Tensor[] {scale == 1.0 ? e : e.mul(scale)};
      });
    }
    return result;
  }

  static Tensor.ValuesIndices maxMin(OpName op, Tensor x, int dim0, boolean keepDim) {
    String opName = op == OpName.MAX_DIM ? "max" : "min";
    x.ensureOpen(opName);
    int dim = Shapes.dim(opName, dim0, x.shape.length);
    if (x.shape[dim] == 0) {
      throw new IllegalArgumentException(opName + ": reducing an empty dimension " + dim0
          + " of " + Shapes.str(x.shape));
    }
    long[] kept = keptShape(x.shape, new int[] {dim});
    Tensor values;
    Tensor indices;
    if (x.shape[dim] == 1) {
      // Nothing to reduce: the kernel wants exactly one reduced dimension.
      values = ElementwiseOps.castCopy(x, x.dtype);
      indices = Tensor.emptyOn(x.deviceCode(), DType.INT64, kept);
      ElementwiseOps.fill(indices, 0);
    } else {
      values = Tensor.emptyOn(x.deviceCode(), x.dtype, kept);
      indices = Tensor.emptyOn(x.deviceCode(), DType.INT64, kept);
      Slots s = TensorKernels.slots();
      desc(s, 0, x);
      desc(s, 1, values);
      desc(s, 2, indices);
      TensorKernels.reduce(op.reduce, s, 0, 1, 2);
    }
    long[] dropped = droppedShape(x.shape, new int[] {dim});
    Tensor v = keepDim ? values : viewAs(values, dropped);
    Tensor i = keepDim ? indices : viewAs(indices, dropped);
    if (Autograd.needed(x)) {
      Tensor idx = i.save();
      long[] xs = x.shape;
      Autograd.record(v, op, new Tensor[] {x}, g -> new Tensor[] {
          IndexOps.scatterAddRaw(Tensor.zeros(g.dtype, xs), dim, idx.reshape(kept), g.reshape(kept))}, idx);
    }
    return new Tensor.ValuesIndices(v, i);
  }

  /** Max or min over all elements (0-d); closes its flattened view and indices at once. */
  static Tensor reduceAll(OpName op, Tensor x) {
    // NOTE: the flattened view would otherwise pin the whole source storage
    // until its scope closes (or forever outside a scope).
    try (Tensor flat = x.reshape(-1)) {
      Tensor.ValuesIndices r = maxMin(op, flat, 0, false);
      r.indices().close();
      return r.values();
    }
  }

  static Tensor argMaxMin(boolean max, Tensor x, int dim, boolean keepDim) {
    try (GradMode.Guard g = GradMode.disable()) {
      Tensor.ValuesIndices r = maxMin(max ? OpName.MAX_DIM : OpName.MIN_DIM, x, dim, keepDim);
      r.values().close();
      return r.indices();
    }
  }

  static Tensor logsumexp(Tensor x, int[] dims, boolean keepDim) {
    requireFloat("logsumexp", x);
    Tensor m;
    try (GradMode.Guard g = GradMode.disable()) {
      // Max over the dims, as a constant shift; -inf rows (all -inf) shift by 0.
      Tensor flatMax = x;
      for (int d : normalizeDims("logsumexp", dims, x.shape.length)) {
        Tensor.ValuesIndices r = maxMin(OpName.MAX_DIM, flatMax, d, true);
        r.indices().close();
        if (flatMax != x) {
          flatMax.close();
        }
        flatMax = r.values();
      }
      try (Tensor finite = flatMax.abs(); Tensor isFinite = finite.lt(Double.POSITIVE_INFINITY);
          Tensor zero = Tensor.zeros(x.dtype)) {
        m = ElementwiseOps.where(isFinite, flatMax, zero);
      }
      if (flatMax != x) {
        flatMax.close();
      }
    }
    Tensor lse = x.sub(m).exp().sum(dims, true).log().add(m);
    return keepDim ? lse : lse.reshape(droppedShape(x.shape, normalizeDims("logsumexp", dims, x.shape.length)));
  }

  static Tensor var(Tensor x, int[] dims, boolean unbiased, boolean keepDim) {
    requireFloat("var", x);
    int[] d = normalizeDims("var", dims, x.shape.length);
    long n = 1;
    for (int i : d) {
      n *= x.shape[i];
    }
    Tensor centered = x.sub(x.mean(d, true));
    Tensor ss = centered.square().sum(d, keepDim);
    return ss.mul(1.0 / Math.max(0, unbiased ? n - 1 : n));
  }

  static Tensor norm(Tensor x, double p, int[] dims, boolean keepDim) {
    requireFloat("norm", x);
    if (p == 2) {
      return x.square().sum(dims, keepDim).sqrt();
    }
    if (p == 1) {
      return x.abs().sum(dims, keepDim);
    }
    if (!(p > 0) || Double.isInfinite(p)) {
      throw new IllegalArgumentException("norm: p=" + p + " is not supported (finite p > 0)");
    }
    return x.abs().pow(p).sum(dims, keepDim).pow(1 / p);
  }
}
