package dev.fathom.tensor;

import static dev.fathom.tensor.Ops.desc;

import dev.fathom.FathomException;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import java.util.Arrays;

/** Indexing along one dimension: indexSelect, gather, scatterAdd, oneHot. */
final class IndexOps {
  private IndexOps() {}

  // ------------------------------------------------------------------ indexing

  private static void requireIndex(String op, Tensor index) {
    index.ensureOpen(op);
    if (index.dtype != DType.INT64) {
      throw new IllegalArgumentException(op + ": index must be int64, got " + index.dtype);
    }
  }

  static Tensor indexSelect(Tensor x, int dim0, Tensor index) {
    x.ensureOpen("indexSelect");
    requireIndex("indexSelect", index);
    int dim = Shapes.dim("indexSelect", dim0, x.shape.length);
    if (index.shape.length != 1) {
      throw new IllegalArgumentException("indexSelect: index must be 1-D, got " + Shapes.str(index.shape));
    }
    long[] shape = x.shape.clone();
    shape[dim] = index.shape[0];
    Tensor out = Tensor.empty(x.dtype, shape);
    Slots s = TensorKernels.slots();
    desc(s, 0, x);
    desc(s, 1, index);
    desc(s, 2, out);
    TensorKernels.indexSelect(s, 0, dim, 1, 2);
    if (Autograd.needed(x)) {
      Tensor vi = index.save();
      long[] xs = x.shape;
      Autograd.record(out, OpName.INDEX_SELECT, new Tensor[] {x}, g -> {
        Tensor full = Tensor.zeros(g.dtype, xs);
        Tensor gc = g.contiguous();
        Slots s2 = TensorKernels.slots();
        desc(s2, 0, full);
        desc(s2, 1, vi);
        desc(s2, 2, gc);
        TensorKernels.indexAdd(s2, 0, dim, 1, 2);
        return new Tensor[] {full};
      }, vi);
    }
    return out;
  }

  static Tensor gather(Tensor x, int dim0, Tensor index) {
    x.ensureOpen("gather");
    requireIndex("gather", index);
    int dim = Shapes.dim("gather", dim0, x.shape.length);
    if (index.shape.length != x.shape.length) {
      throw new IllegalArgumentException("gather: index " + Shapes.str(index.shape)
          + " must have as many dimensions as input " + Shapes.str(x.shape));
    }
    Tensor out = Tensor.empty(x.dtype, index.shape);
    Slots s = TensorKernels.slots();
    desc(s, 0, x);
    desc(s, 1, index);
    desc(s, 2, out);
    TensorKernels.gather(s, 0, dim, 1, 2);
    if (Autograd.needed(x)) {
      Tensor vi = index.save();
      long[] xs = x.shape;
      Autograd.record(out, OpName.GATHER, new Tensor[] {x},
          g -> new Tensor[] {scatterAddRaw(Tensor.zeros(g.dtype, xs), dim, vi, g)}, vi);
    }
    return out;
  }

  /** base (owned, modified in place) [index] += src along dim; returns base. */
  static Tensor scatterAddRaw(Tensor base, int dim, Tensor index, Tensor src) {
    Slots s = TensorKernels.slots();
    desc(s, 0, base);
    desc(s, 1, index);
    desc(s, 2, src);
    TensorKernels.scatterAdd(s, 0, dim, 1, 2);
    return base;
  }

  static Tensor scatterAdd(Tensor x, int dim0, Tensor index, Tensor src0) {
    x.ensureOpen("scatterAdd");
    requireIndex("scatterAdd", index);
    int dim = Shapes.dim("scatterAdd", dim0, x.shape.length);
    if (!Shapes.same(index.shape, src0.shape)) {
      throw new IllegalArgumentException("scatterAdd: index " + Shapes.str(index.shape)
          + " and src " + Shapes.str(src0.shape) + " must have the same shape");
    }
    Tensor src = src0.to(x.dtype);
    Tensor out = ElementwiseOps.castCopy(x, x.dtype);
    scatterAddRaw(out, dim, index, src);
    if (Autograd.needed(x, src)) {
      Tensor vi = index.save();
      Autograd.record(out, OpName.SCATTER_ADD, new Tensor[] {x, src},
          g -> new Tensor[] {g, g.gather(dim, vi)}, vi);
    }
    return out;
  }

  static Tensor oneHot(Tensor indices, long classes) {
    requireIndex("oneHot", indices);
    if (classes <= 0) {
      throw new IllegalArgumentException("oneHot: numClasses=" + classes + " must be positive");
    }
    long[] shape = Arrays.copyOf(indices.shape, indices.shape.length + 1);
    shape[indices.shape.length] = classes;
    Tensor out = Tensor.zeros(DType.FLOAT32, shape);
    long[] idxShape = Arrays.copyOf(indices.shape, indices.shape.length + 1);
    idxShape[indices.shape.length] = 1;
    try (GradMode.Guard g = GradMode.disable();
        Tensor idx = indices.reshape(idxShape);
        Tensor one = Tensor.ones(idxShape)) {
      scatterAddRaw(out, shape.length - 1, idx, one);
    } catch (FathomException e) {
      out.close();
      if (e.status() != FathomException.Status.INVALID_ARGUMENT) {
        throw e;
      }
      throw new IllegalArgumentException("oneHot: " + e.getMessage() + " (numClasses=" + classes + ")", e);
    }
    return out;
  }
}
