package dev.fathom.tensor;

import static dev.fathom.tensor.Ops.desc;
import static dev.fathom.tensor.Ops.descAs;
import static dev.fathom.tensor.Ops.viewAs;

import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import dev.fathom.internal.nativ.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape ops: views (reshape, permute, narrow, expand, squeeze) that share
 * their source's storage, and the copying ones (cat, stack, split, chunk).
 */
final class ShapeOps {
  private ShapeOps() {}

  // ------------------------------------------------------------------ views

  static Tensor reshape(Tensor x, long[] newShape0, boolean viewOnly) {
    String op = viewOnly ? "view" : "reshape";
    x.ensureOpen(op);
    long[] newShape = inferShape(op, x, newShape0);
    long[] strides = viewStrides(x.shape, x.strides, newShape);
    Tensor out;
    if (strides != null) {
      out = new Tensor(x.storage, x.dtype, newShape, strides, x.offset, false);
    } else if (viewOnly) {
      throw new IllegalArgumentException("view: shape " + Shapes.str(newShape)
          + " is not compatible with the strides of " + Shapes.str(x.shape) + "; use reshape");
    } else {
      Tensor c = ElementwiseOps.castCopy(x, x.dtype);
      out = viewAs(c, newShape);
    }
    if (Autograd.needed(x)) {
      long[] xs = x.shape;
      Autograd.record(out, OpName.RESHAPE, new Tensor[] {x}, g -> new Tensor[] {g.reshape(xs)});
    }
    return out;
  }

  private static long[] inferShape(String op, Tensor x, long[] shape) {
    long[] s = shape.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == -1) {
        if (infer >= 0) {
          throw new IllegalArgumentException(op + ": only one dimension can be -1 in " + Shapes.str(shape));
        }
        infer = i;
      } else if (s[i] < 0) {
        throw new IllegalArgumentException(op + ": invalid size in " + Shapes.str(shape));
      } else {
        known *= s[i];
      }
    }
    long n = x.numel();
    if (infer >= 0) {
      if (known == 0 || n % known != 0) {
        throw new IllegalArgumentException(op + ": cannot reshape " + Shapes.str(x.shape)
            + " into " + Shapes.str(shape));
      }
      s[infer] = n / known;
    } else if (known != n) {
      throw new IllegalArgumentException(op + ": cannot reshape " + Shapes.str(x.shape)
          + " (" + n + " elements) into " + Shapes.str(shape));
    }
    Shapes.checkShape(op, s);
    return s;
  }

  /** Strides viewing (shape, strides) as newShape without a copy, or null. */
  private static long[] viewStrides(long[] shape, long[] strides, long[] newShape) {
    // Drop size-1 dims, then match groups of old dims that are contiguous with each other.
    long numel = Shapes.numel(shape);
    long[] out = new long[newShape.length];
    if (numel == 0) {
      return Shapes.contiguousStrides(newShape);
    }
    int oi = 0;
    int ni = 0;
    while (ni < newShape.length || oi < shape.length) {
      // Skip size-1 dims on both sides (their stride is free).
      if (ni < newShape.length && newShape[ni] == 1) {
        out[ni] = 1;
        ni++;
        continue;
      }
      if (oi < shape.length && shape[oi] == 1) {
        oi++;
        continue;
      }
      if (ni >= newShape.length || oi >= shape.length) {
        return null;
      }
      // Grow an old group [oStart, oi) and a new group [nStart, ni) with equal products.
      int oStart = oi;
      int nStart = ni;
      long oProd = shape[oi++];
      long nProd = newShape[ni++];
      while (oProd != nProd) {
        if (oProd < nProd) {
          while (oi < shape.length && shape[oi] == 1) {
            oi++;
          }
          if (oi >= shape.length) {
            return null;
          }
          oProd *= shape[oi++];
        } else {
          while (ni < newShape.length && newShape[ni] == 1) {
            out[ni++] = 1;
          }
          if (ni >= newShape.length) {
            return null;
          }
          nProd *= newShape[ni++];
        }
      }
      // The old group must be contiguous among its non-1 dims.
      int last = -1;
      for (int i = oi - 1; i >= oStart; i--) {
        if (shape[i] == 1) {
          continue;
        }
        if (last >= 0 && strides[i] != strides[last] * shape[last]) {
          return null;
        }
        last = i;
      }
      long base = strides[lastNonOne(shape, oStart, oi)];
      long st = base;
      for (int i = ni - 1; i >= nStart; i--) {
        out[i] = st;
        st *= newShape[i];
      }
    }
    return out;
  }

  private static int lastNonOne(long[] shape, int from, int to) {
    for (int i = to - 1; i >= from; i--) {
      if (shape[i] != 1) {
        return i;
      }
    }
    return to - 1;
  }

  static Tensor permute(Tensor x, int[] dims) {
    x.ensureOpen("permute");
    int n = x.shape.length;
    if (dims.length != n) {
      throw new IllegalArgumentException("permute: " + dims.length + " dims given for "
          + Shapes.str(x.shape));
    }
    long[] shape = new long[n];
    long[] strides = new long[n];
    int[] inverse = new int[n];
    boolean[] seen = new boolean[n];
    for (int i = 0; i < n; i++) {
      int d = Shapes.dim("permute", dims[i], n);
      if (seen[d]) {
        throw new IllegalArgumentException("permute: dimension " + dims[i] + " repeated");
      }
      seen[d] = true;
      shape[i] = x.shape[d];
      strides[i] = x.strides[d];
      inverse[d] = i;
    }
    Tensor out = new Tensor(x.storage, x.dtype, shape, strides, x.offset, false);
    if (Autograd.needed(x)) {
      Autograd.record(out, OpName.PERMUTE, new Tensor[] {x}, g -> new Tensor[] {g.permute(inverse)});
    }
    return out;
  }

  static Tensor transpose(Tensor x, int d0, int d1) {
    int n = x.shape.length;
    int a = Shapes.dim("transpose", d0, n);
    int b = Shapes.dim("transpose", d1, n);
    int[] dims = new int[n];
    for (int i = 0; i < n; i++) {
      dims[i] = i;
    }
    dims[a] = b;
    dims[b] = a;
    return permute(x, dims);
  }

  static Tensor narrow(Tensor x, int dim0, long start, long length) {
    x.ensureOpen("narrow");
    int dim = Shapes.dim("narrow", dim0, x.shape.length);
    if (start < 0 || length < 0 || start + length > x.shape[dim]) {
      throw new IllegalArgumentException("narrow: [" + start + ", " + (start + length)
          + ") out of range for dimension " + dim0 + " of " + Shapes.str(x.shape));
    }
    long[] shape = x.shape.clone();
    shape[dim] = length;
    Tensor out = new Tensor(x.storage, x.dtype, shape, x.strides.clone(),
        x.offset + start * x.strides[dim], false);
    if (Autograd.needed(x)) {
      long[] xs = x.shape;
      Autograd.record(out, OpName.NARROW, new Tensor[] {x}, g -> {
        Tensor full = Tensor.zeros(g.dtype, xs);
        try (Tensor window = narrowView(full, dim, start, length)) {
          copyIntoRaw(g, window);
        }
        return new Tensor[] {full};
      });
    }
    return out;
  }

  private static Tensor narrowView(Tensor x, int dim, long start, long length) {
    long[] shape = x.shape.clone();
    shape[dim] = length;
    return new Tensor(x.storage, x.dtype, shape, x.strides.clone(),
        x.offset + start * x.strides[dim], false).unscope();
  }

  private static void copyIntoRaw(Tensor src, Tensor dst) {
    Slots s = TensorKernels.slots();
    descAs(s, 0, src, dst.shape, "copy");
    desc(s, 1, dst);
    TensorKernels.unary(UnaryOp.COPY, s, 0, 1, 0, 0);
  }

  static Tensor squeeze(Tensor x, int dim0) {
    int dim = Shapes.dim("squeeze", dim0, x.shape.length);
    if (x.shape[dim] != 1) {
      return x;
    }
    return reshape(x, Shapes.remove(x.shape, dim), false);
  }

  static Tensor squeezeAll(Tensor x) {
    return reshape(x, Arrays.stream(x.shape).filter(v -> v != 1).toArray(), false);
  }

  static Tensor unsqueeze(Tensor x, int dim0) {
    int n = x.shape.length + 1;
    int dim = dim0 < 0 ? dim0 + n : dim0;
    if (dim < 0 || dim >= n) {
      throw new IllegalArgumentException("unsqueeze: dimension " + dim0 + " out of range for "
          + Shapes.str(x.shape));
    }
    return reshape(x, Shapes.insert(x.shape, dim, 1), false);
  }

  static Tensor expand(Tensor x, long[] target0) {
    x.ensureOpen("expand");
    long[] target = target0.clone();
    int off = target.length - x.shape.length;
    for (int i = 0; i < target.length; i++) {
      if (target[i] == -1) {
        if (i < off) {
          throw new IllegalArgumentException("expand: -1 not allowed for new leading dimension in "
              + Shapes.str(target0));
        }
        target[i] = x.shape[i - off];
      }
    }
    Shapes.checkShape("expand", target);
    long[] strides = Shapes.broadcastStrides("expand", x.shape, x.strides, target);
    Tensor out = new Tensor(x.storage, x.dtype, target, strides, x.offset, false);
    if (Autograd.needed(x)) {
      long[] xs = x.shape;
      Autograd.record(out, OpName.EXPAND, new Tensor[] {x}, g -> new Tensor[] {ReduceOps.sumTo(g, xs)});
    }
    return out;
  }

  static Tensor cat(List<Tensor> ts, int dim0) {
    if (ts == null || ts.isEmpty()) {
      throw new IllegalArgumentException("cat: no tensors given");
    }
    Tensor first = ts.get(0);
    first.ensureOpen("cat");
    int n = first.shape.length;
    int dim = Shapes.dim("cat", dim0, n);
    DType type = first.dtype;
    long total = 0;
    for (Tensor t : ts) {
      t.ensureOpen("cat");
      type = DType.promote(type, t.dtype);
      if (t.shape.length != n) {
        throw new IllegalArgumentException("cat: tensors have different numbers of dimensions: "
            + Shapes.str(first.shape) + " and " + Shapes.str(t.shape));
      }
      for (int i = 0; i < n; i++) {
        if (i != dim && t.shape[i] != first.shape[i]) {
          throw new IllegalArgumentException("cat: shapes " + Shapes.str(first.shape) + " and "
              + Shapes.str(t.shape) + " differ outside dimension " + dim0);
        }
      }
      total += t.shape[dim];
    }
    long[] shape = first.shape.clone();
    shape[dim] = total;
    Tensor out = Tensor.empty(type, shape);
    long pos = 0;
    long[] sizes = new long[ts.size()];
    boolean blocked = blockedChannelCat(dim, type, ts);
    for (int i = 0; i < ts.size(); i++) {
      Tensor t = ts.get(i);
      sizes[i] = t.shape[dim];
      if (blocked) {
        copyChannels(t, 0, out, pos, sizes[i]);
      } else {
        try (Tensor window = narrowView(out, dim, pos, sizes[i])) {
          copyIntoRaw(t, window);
        }
      }
      pos += sizes[i];
    }
    if (blocked) {
      out.markBlocked();
    }
    Tensor[] inputs = ts.toArray(new Tensor[0]);
    DType outType = type;
    if (Autograd.needed(inputs)) {
      Autograd.record(out, OpName.CONCAT, inputs, g -> {
        Tensor[] grads = new Tensor[sizes.length];
        boolean blockedGrad = blocked && g.isBlocked() && g.dtype == outType;
        long p = 0;
        for (int i = 0; i < sizes.length; i++) {
          if (blockedGrad && inputs[i].dtype == outType) {
            grads[i] = Tensor.empty(outType, inputs[i].shape);
            copyChannels(g, p, grads[i], 0, sizes[i]);
            grads[i].markBlocked();
          } else {
            grads[i] = g.narrow(dim, p, sizes[i]).to(inputs[i].dtype);
          }
          p += sizes[i];
        }
        return grads;
      });
    }
    return out;
  }

  /**
   * Whether a concatenation can run on nChw16c inputs as they are: along
   * channels, every input blocked and of the result's dtype. Per image, each
   * input's channels are one contiguous chunk in nChw16c as in NCHW (their
   * counts are multiples of 16), so the copies move bytes as for NCHW.
   */
  private static boolean blockedChannelCat(int dim, DType type, List<Tensor> ts) {
    if (dim != 1) {
      return false;
    }
    for (Tensor t : ts) {
      if (t.dtype != type || !t.isBlocked()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Copies `count` channels of blocked `src` from channel `srcAt` into blocked
   * `dst` from channel `dstAt` (both nChw16c with the same N, H, W; channel
   * offsets multiples of 16), described as the NCHW copy of the same bytes.
   */
  private static void copyChannels(Tensor src, long srcAt, Tensor dst, long dstAt, long count) {
    long plane = src.shape[2] * src.shape[3];
    long[] shape = {src.shape[0], count, src.shape[2], src.shape[3]};
    long bytes = src.dtype.bytes;
    Slots s = TensorKernels.slots();
    s.set(0, src.blockedAddress() + srcAt * plane * bytes, src.dtype.code, shape, src.strides);
    s.set(1, dst.blockedAddress() + dstAt * plane * bytes, dst.dtype.code, shape, dst.strides);
    TensorKernels.unary(UnaryOp.COPY, s, 0, 1, 0, 0);
  }

  static Tensor stack(List<Tensor> ts, int dim) {
    if (ts == null || ts.isEmpty()) {
      throw new IllegalArgumentException("stack: no tensors given");
    }
    List<Tensor> expanded = new ArrayList<>();
    for (Tensor t : ts) {
      if (!Shapes.same(t.shape, ts.get(0).shape)) {
        throw new IllegalArgumentException("stack: shapes differ: " + Shapes.str(ts.get(0).shape)
            + " and " + Shapes.str(t.shape));
      }
      expanded.add(t.unsqueeze(dim < 0 ? dim + t.shape.length + 1 : dim));
    }
    return cat(expanded, dim < 0 ? dim + ts.get(0).shape.length + 1 : dim);
  }

  static List<Tensor> split(Tensor x, long size, int dim0) {
    int dim = Shapes.dim("split", dim0, x.shape.length);
    if (size <= 0) {
      throw new IllegalArgumentException("split: size=" + size + " must be positive");
    }
    List<Tensor> out = new ArrayList<>();
    for (long start = 0; start < x.shape[dim]; start += size) {
      out.add(narrow(x, dim, start, Math.min(size, x.shape[dim] - start)));
    }
    return out;
  }

  static List<Tensor> chunk(Tensor x, int chunks, int dim0) {
    int dim = Shapes.dim("chunk", dim0, x.shape.length);
    if (chunks <= 0) {
      throw new IllegalArgumentException("chunk: chunks=" + chunks + " must be positive");
    }
    long size = Math.max(1, (x.shape[dim] + chunks - 1) / chunks);
    return split(x, size, dim);
  }
}
