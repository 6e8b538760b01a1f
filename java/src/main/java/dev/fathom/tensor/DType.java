package dev.fathom.tensor;

/** Element types. Floating types are differentiable; integers hold labels and indices. */
public enum DType {
  FLOAT32(0, 4, "float32"),
  FLOAT64(1, 8, "float64"),
  INT32(2, 4, "int32"),
  INT64(3, 8, "int64"),
  BOOL(4, 1, "bool");

  final int code;
  final int bytes;
  private final String label;

  DType(int code, int bytes, String label) {
    this.code = code;
    this.bytes = bytes;
    this.label = label;
  }

  /** Bytes per element. */
  public int byteSize() {
    return bytes;
  }

  public boolean isFloatingPoint() {
    return this == FLOAT32 || this == FLOAT64;
  }

  /** The type both operands are converted to before a binary op (NumPy-like order). */
  public static DType promote(DType a, DType b) {
    return wideness(a) >= wideness(b) ? a : b;
  }

  // bool < int32 < int64 < float32 < float64
  private static int wideness(DType d) {
    switch (d) {
      case BOOL:
        return 0;
      case INT32:
        return 1;
      case INT64:
        return 2;
      case FLOAT32:
        return 3;
      default:
        return 4;
    }
  }

  @Override
  public String toString() {
    return label;
  }
}
