package dev.fathom.tensor;

import java.util.Locale;

/** NumPy-like text for Tensor.toString: values (summarised past 1000 elements), shape, dtype, device. */
final class TensorFormatter {
  private static final int SUMMARIZE_ABOVE = 1000;
  private static final int EDGE_ITEMS = 3;

  private TensorFormatter() {}

  static String format(Tensor t) {
    String meta = "shape=" + Shapes.str(t.shape) + ", dtype=" + t.dtype + ", device=" + t.device();
    if (t.isClosed()) {
      return "tensor(<closed>, " + meta + ")";
    }
    double[] values = t.toDoubleArray();
    boolean summarize = values.length > SUMMARIZE_ABOVE;
    boolean integral = !t.dtype.isFloatingPoint();
    StringBuilder sb = new StringBuilder("tensor(");
    if (t.shape.length == 0) {
      sb.append(num(values[0], integral));
    } else {
      append(sb, t.shape, values, 0, 0, summarize, integral, 7);
    }
    sb.append(", ").append(meta);
    if (t.requiresGrad) {
      sb.append(t.gradFn != null ? ", gradFn=" + t.gradFn.op : ", requiresGrad=true");
    }
    return sb.append(')').toString();
  }

  private static void append(StringBuilder sb, long[] shape, double[] v, int dim, long base,
      boolean summarize, boolean integral, int indent) {
    long n = shape[dim];
    long stride = 1;
    for (int i = dim + 1; i < shape.length; i++) {
      stride *= shape[i];
    }
    sb.append('[');
    for (long i = 0; i < n; i++) {
      if (summarize && n > 2 * EDGE_ITEMS && i == EDGE_ITEMS) {
        sb.append(dim == shape.length - 1 ? "..., " : "...,\n" + " ".repeat(indent + dim + 1));
        i = n - EDGE_ITEMS - 1;
        continue;
      }
      if (dim == shape.length - 1) {
        sb.append(num(v[(int) (base + i)], integral));
      } else {
        append(sb, shape, v, dim + 1, base + i * stride, summarize, integral, indent);
      }
      if (i < n - 1) {
        sb.append(dim == shape.length - 1 ? ", " : ",\n" + " ".repeat(indent + dim + 1));
      }
    }
    sb.append(']');
  }

  private static String num(double x, boolean integral) {
    if (integral) {
      return Long.toString((long) x);
    }
    if (Double.isNaN(x)) {
      return "nan";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "inf" : "-inf";
    }
    double a = Math.abs(x);
    return a != 0 && (a >= 1e6 || a < 1e-4)
        ? String.format(Locale.ROOT, "%.4e", x)
        : String.format(Locale.ROOT, "%.4f", x);
  }
}
