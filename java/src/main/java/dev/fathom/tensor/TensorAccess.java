package dev.fathom.tensor;

/** Internal accessors for Fathom's own benchmarks and integration code; not a user API. */
public final class TensorAccess {
  private TensorAccess() {}

  /** Native address of element (0, ..., 0) of a tensor. */
  public static long address(Tensor t) {
    return t.address();
  }
}
