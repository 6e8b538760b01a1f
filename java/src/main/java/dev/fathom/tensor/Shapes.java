package dev.fathom.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by the ops: broadcasting, strides, dimension checks. */
final class Shapes {
  static final int MAX_DIMS = 8;

  private Shapes() {}

  static long numel(long[] shape) {
    long n = 1;
    try {
      for (long s : shape) {
        n = Math.multiplyExact(n, s);
      }
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than "
          + Long.MAX_VALUE + " elements");
    }
    return n;
  }

  static long[] contiguousStrides(long[] shape) {
    long[] strides = new long[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      strides[i] = s;
      s *= Math.max(1, shape[i]);
    }
    return strides;
  }

  static String str(long[] shape) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(shape[i]);
    }
    return sb.append(']').toString();
  }

  /** NumPy broadcasting: align right, sizes must match or be 1. */
  static long[] broadcast(String op, long[] a, long[] b) {
    int n = Math.max(a.length, b.length);
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      long da = i < n - a.length ? 1 : a[i - (n - a.length)];
      long db = i < n - b.length ? 1 : b[i - (n - b.length)];
      if (da != db && da != 1 && db != 1) {
        throw new IllegalArgumentException(
            op + ": cannot broadcast " + str(a) + " with " + str(b));
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /** Strides that view `shape`/`strides` as `target` (stride 0 along broadcast dims). */
  static long[] broadcastStrides(String op, long[] shape, long[] strides, long[] target) {
    if (shape.length > target.length) {
      throw new IllegalArgumentException(
          op + ": cannot expand " + str(shape) + " to " + str(target));
    }
    long[] out = new long[target.length];
    int off = target.length - shape.length;
    for (int i = 0; i < target.length; i++) {
      if (i < off) {
        out[i] = 0;
      } else if (shape[i - off] == target[i]) {
        out[i] = target[i] == 1 ? 0 : strides[i - off];
      } else if (shape[i - off] == 1) {
        out[i] = 0;
      } else {
        throw new IllegalArgumentException(
            op + ": cannot expand " + str(shape) + " to " + str(target));
      }
    }
    return out;
  }

  static int dim(String op, int dim, int ndim) {
    int d = dim < 0 ? dim + ndim : dim;
    if (d < 0 || d >= Math.max(ndim, 1) || (ndim == 0)) {
      throw new IllegalArgumentException(
          op + ": dimension " + dim + " out of range for a tensor with " + ndim + " dimensions");
    }
    return d;
  }

  static void checkShape(String op, long[] shape) {
    if (shape.length > MAX_DIMS) {
      throw new IllegalArgumentException(
          op + ": " + shape.length + " dimensions, at most " + MAX_DIMS + " are supported");
    }
    for (long s : shape) {
      if (s < 0) {
        throw new IllegalArgumentException(op + ": negative size in shape " + str(shape));
      }
    }
  }

  static boolean same(long[] a, long[] b) {
    return Arrays.equals(a, b);
  }

  static long[] remove(long[] a, int index) {
    long[] out = new long[a.length - 1];
    System.arraycopy(a, 0, out, 0, index);
    System.arraycopy(a, index + 1, out, index, a.length - index - 1);
    return out;
  }

  static long[] insert(long[] a, int index, long value) {
    long[] out = new long[a.length + 1];
    System.arraycopy(a, 0, out, 0, index);
    out[index] = value;
    System.arraycopy(a, index, out, index + 1, a.length - index);
    return out;
  }
}
