package dev.fathom.tensor;

import dev.fathom.internal.nativ.CnnKernels;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;

/**
 * What the op families share: operand descriptors, the nChw16c (blocked)
 * elementwise helpers, dtype promotion and the argument checks. The ops
 * themselves are one class per family, each forward with its backward closure
 * next to it: ElementwiseOps (creation, casts, unary, binary, comparisons,
 * where), ReduceOps, LinalgOps (matmul), ShapeOps (views, cat, split),
 * IndexOps; the nn kernels (convolution, pooling, batch norm, recurrent
 * layers) are in Functional and RnnOp. Backward formulas are written with
 * other tensor ops (one line per input, as in PyTorch's derivatives.yaml); `g`
 * is the gradient of the op's output.
 */
final class Ops {
  private Ops() {}

  // ------------------------------------------------------------------ helpers

  // These state the operand's device: an entry point with a GPU kernel runs
  // there, every other one refuses the operand by name.
  static Slots desc(Slots s, int slot, Tensor t) {
    return s.set(slot, t.deviceAddress(), t.dtype.code, t.shape, t.strides,
        CnnKernels.LAYOUT_NCHW, t.deviceCode());
  }

  static Slots descAs(Slots s, int slot, Tensor t, long[] target, String op) {
    return s.set(slot, t.deviceAddress(), t.dtype.code, target,
        Shapes.broadcastStrides(op, t.shape, t.strides, target), CnnKernels.LAYOUT_NCHW,
        t.deviceCode());
  }

  /** "add: operands on cuda:0 and cpu; ..." unless every operand is on one device. */
  static void requireSameDevice(String op, Tensor... operands) {
    int device = operands[0].deviceCode();
    for (Tensor t : operands) {
      if (t.deviceCode() != device) {
        StringBuilder where = new StringBuilder();
        for (Tensor u : operands) {
          where.append(where.length() == 0 ? "" : " and ").append(Shapes.str(u.shape)).append(" on ")
              .append(u.device());
        }
        throw new IllegalArgumentException(op + ": operands " + where
            + " are on different devices; move them to one with to(device)");
      }
    }
  }

  /**
   * Whether an elementwise op producing `shape` can run on nChw16c storages as
   * they are (see Storage): every operand of exactly that shape is a whole
   * blocked storage, every other one is a single value, and one at least is
   * blocked. Element i of each operand is then the same logical element.
   */
  static boolean blockedElementwise(long[] shape, Tensor... operands) {
    if (shape.length != 4) {
      return false;
    }
    boolean any = false;
    for (Tensor t : operands) {
      if (Shapes.same(t.shape, shape)) {
        if (!t.isBlocked()) {
          return false;
        }
        any = true;
      } else if (t.numel() != 1) {
        return false;
      }
    }
    return any;
  }

  /** An nChw16c copy of a contiguous float32 (N, C, H, W) tensor, C % 16 == 0. */
  static Tensor blockedCopy(Tensor t) {
    Tensor out = Tensor.empty(t.dtype, t.shape);
    long src = t.address();
    Slots s = TensorKernels.conversionSlots();
    s.set(0, src, t.dtype.code, t.shape, Shapes.contiguousStrides(t.shape));
    s.set(1, out.blockedAddress(), out.dtype.code, out.shape, out.strides);
    CnnKernels.convertLayout(s, 0, CnnKernels.LAYOUT_NCHW, 1, CnnKernels.LAYOUT_NCHW16C);
    out.markBlocked();
    return out;
  }

  /**
   * For a same-shape float32 op on one nChw16c operand and one row-major one
   * (a residual sum after a projection, or a gradient sum): an nChw16c copy of
   * the row-major one, so that the result stays blocked like the run it joins;
   * null otherwise.
   */
  static Tensor blockedPartner(long[] shape, Tensor a, Tensor b) {
    if (shape.length != 4 || a.dtype != DType.FLOAT32 || b.dtype != DType.FLOAT32
        || !Shapes.same(a.shape, shape) || !Shapes.same(b.shape, shape) || shape[2] * shape[3] == 1
        || !a.isContiguous() || !b.isContiguous()) {
      return null;
    }
    boolean ba = a.isBlocked();
    boolean bb = b.isBlocked();
    if (ba == bb) {
      return null;
    }
    return blockedCopy(ba ? b : a);
  }

  /** Operand t of a blocked elementwise op producing `shape`, as a flat vector. */
  static Slots flatDesc(Slots s, int slot, Tensor t, long[] shape) {
    long n = Shapes.numel(shape);
    if (Shapes.same(t.shape, shape)) {
      return s.set(slot, t.blockedAddress(), t.dtype.code, new long[] {n}, new long[] {1});
    }
    return s.set(slot, t.address(), t.dtype.code, new long[] {n}, new long[] {0});
  }

  /** The fresh output of a blocked elementwise op: described flat, marked nChw16c. */
  static Slots flatOut(Slots s, int slot, Tensor out) {
    out.markBlocked();
    return s.set(slot, out.blockedAddress(), out.dtype.code, new long[] {out.numel()}, new long[] {1});
  }

  static void requireFloat(String op, Tensor t) {
    if (!t.dtype.isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": needs a floating-point tensor, got " + t.dtype
          + " " + Shapes.str(t.shape));
    }
  }

  static String name(OpName op) {
    return op.name().toLowerCase();
  }

  static void checkInPlace(String op, Tensor t) {
    t.ensureOpen(op);
    if (GradMode.isEnabled() && t.requiresGrad) {
      throw new IllegalStateException(op + ": in-place update of a tensor that requires grad "
          + Shapes.str(t.shape) + "; wrap optimizer updates in GradMode.disable()");
    }
    for (int i = 0; i < t.shape.length; i++) {
      if (t.strides[i] == 0 && t.shape[i] > 1) {
        throw new IllegalArgumentException(op + ": cannot write into an expanded (broadcast) view "
            + Shapes.str(t.shape));
      }
    }
  }

  /** Closes the cast copies `promoted` made (graph edges survive closing). */
  static void closeTemporaries(Tensor[] ab, Tensor a0, Tensor b0) {
    if (ab[0] != a0) {
      ab[0].close();
    }
    if (ab[1] != b0) {
      ab[1].close();
    }
  }

  /** Both operands in their common dtype (a cast copy where needed). */
  static Tensor[] promoted(String op, Tensor a, Tensor b) {
    a.ensureOpen(op);
    b.ensureOpen(op);
    DType t = DType.promote(a.dtype, b.dtype);
    return new Tensor[] {a.to(t), b.to(t)};
  }

  /** A new tensor object over out's storage with another (compatible, contiguous) shape. */
  static Tensor viewAs(Tensor out, long[] shape) {
    Tensor v = new Tensor(out.storage, out.dtype, shape, Shapes.contiguousStrides(shape), out.offset, false);
    out.close();
    return v;
  }
}
