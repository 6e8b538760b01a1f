package dev.fathom.svm;

import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Class labels of a training set: the sorted distinct label values and, per sample, the
 * index of its class. How labels become machines and +-1 targets is decided here once:
 * <ul>
 *   <li>two classes: one machine; the larger label is the positive class (+1), the smaller
 *       -1. So {0, 1} maps 0 -> -1, 1 -> +1 and {-1, +1} maps to itself.
 *   <li>K > 2 classes: K one-vs-rest machines; machine k has class k as +1, the rest -1.
 * </ul>
 */
final class Labels {
  final long[] classes;
  final int[] index;

  private Labels(long[] classes, int[] index) {
    this.classes = classes;
    this.index = index;
  }

  /** Reads and checks labels y ([N] or [N, 1], integer-valued) for the N rows of x. */
  static Labels of(String op, Tensor x, Tensor y) {
    long[] values = values(op, x, y);
    TreeSet<Long> distinct = new TreeSet<>();
    for (long v : values) {
      distinct.add(v);
    }
    if (distinct.size() < 2) {
      throw new IllegalArgumentException(op + ": y " + Inputs.shape(y) + " holds a single class ("
          + distinct.first() + "); an SVM needs at least two");
    }
    long[] classes = distinct.stream().mapToLong(Long::longValue).toArray();
    int[] index = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      index[i] = Arrays.binarySearch(classes, values[i]);
    }
    return new Labels(classes, index);
  }

  /** Label values of y, checked: as many as x has rows, finite and integer-valued. */
  static long[] values(String op, Tensor x, Tensor y) {
    if (y == null) {
      throw new IllegalArgumentException(op + ": y must not be null");
    }
    boolean column = y.dim() == 2 && y.size(1) == 1;
    if (y.dim() != 1 && !column) {
      throw new IllegalArgumentException(op + ": y must be labels [N] (or [N, 1]), got " + Inputs.shape(y));
    }
    if (y.size(0) != x.size(0)) {
      throw new IllegalArgumentException(op + ": x " + Inputs.shape(x) + " has " + x.size(0) + " rows but y "
          + Inputs.shape(y) + " has " + y.size(0) + " labels");
    }
    if (!y.dtype().isFloatingPoint()) {
      return y.toLongArray();
    }
    double[] d = y.toDoubleArray();
    long[] out = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      if (!Double.isFinite(d[i])) {
        throw new IllegalArgumentException(op + ": y " + Inputs.shape(y) + " has a non-finite label " + d[i]
            + " at [" + i + "]");
      }
      if (d[i] != Math.rint(d[i]) || Math.abs(d[i]) > 1L << 53) {
        throw new IllegalArgumentException(op + ": y " + Inputs.shape(y) + " has label " + d[i] + " at [" + i
            + "]; labels must be integer class ids (such as 0/1, -1/+1 or 0..K-1)");
      }
      out[i] = (long) d[i];
    }
    return out;
  }

  int numClasses() {
    return classes.length;
  }

  /** One machine for two classes, one per class (one-vs-rest) otherwise. */
  int machines() {
    return classes.length == 2 ? 1 : classes.length;
  }

  /** The class that machine m treats as +1. */
  int positiveClass(int machine) {
    return classes.length == 2 ? 1 : machine;
  }

  /** Targets of machine m: +1 for its positive class, -1 for every other sample. */
  double[] signs(int machine) {
    int positive = positiveClass(machine);
    double[] s = new double[index.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = index[i] == positive ? 1 : -1;
    }
    return s;
  }
}
