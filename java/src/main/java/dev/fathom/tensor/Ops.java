package dev.fathom.tensor;

import dev.fathom.FathomException;
import dev.fathom.internal.nativ.BinaryOp;
import dev.fathom.internal.nativ.CnnKernels;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import dev.fathom.internal.nativ.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every tensor op: shape checks and the native call of its forward, and, right
 * next to it, the backward closure that autograd records. Backward formulas are
 * written with other tensor ops (one line per input, as in PyTorch's
 * derivatives.yaml); `g` is the gradient of the op's output.
 */
final class Ops {
  private Ops() {}

  // ------------------------------------------------------------------ helpers

  private static Slots desc(Slots s, int slot, Tensor t) {
    return s.set(slot, t.address(), t.dtype.code, t.shape, t.strides);
  }

  private static Slots descAs(Slots s, int slot, Tensor t, long[] target, String op) {
    return s.set(slot, t.address(), t.dtype.code, target,
        Shapes.broadcastStrides(op, t.shape, t.strides, target));
  }

  /**
   * Whether an elementwise op producing `shape` can run on nChw16c storages as
   * they are (see Storage): every operand of exactly that shape is a whole
   * blocked storage, every other one is a single value, and one at least is
   * blocked. Element i of each operand is then the same logical element.
   */
  private static boolean blockedElementwise(long[] shape, Tensor... operands) {
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
  private static Tensor blockedPartner(long[] shape, Tensor a, Tensor b) {
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
  private static Slots flatDesc(Slots s, int slot, Tensor t, long[] shape) {
    long n = Shapes.numel(shape);
    if (Shapes.same(t.shape, shape)) {
      return s.set(slot, t.blockedAddress(), t.dtype.code, new long[] {n}, new long[] {1});
    }
    return s.set(slot, t.address(), t.dtype.code, new long[] {n}, new long[] {0});
  }

  /** The fresh output of a blocked elementwise op: described flat, marked nChw16c. */
  private static Slots flatOut(Slots s, int slot, Tensor out) {
    out.markBlocked();
    return s.set(slot, out.blockedAddress(), out.dtype.code, new long[] {out.numel()}, new long[] {1});
  }

  private static void requireFloat(String op, Tensor t) {
    if (!t.dtype.isFloatingPoint()) {
      throw new IllegalArgumentException(op + ": needs a floating-point tensor, got " + t.dtype
          + " " + Shapes.str(t.shape));
    }
  }

  private static String name(OpName op) {
    return op.name().toLowerCase();
  }

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

  // ------------------------------------------------------------------ creation kernels

  static void fill(Tensor t, double value) {
    Slots s = TensorKernels.slots();
    desc(s, 0, t);
    TensorKernels.unary(UnaryOp.FILL, s, -1, 0, value, 0);
  }

  static void range(Tensor t, double start, double step) {
    Slots s = TensorKernels.slots();
    desc(s, 0, t);
    TensorKernels.unary(UnaryOp.RANGE, s, -1, 0, start, step);
  }

  static Tensor random(int op, Generator gen, double a, double b, DType dtype, long[] shape) {
    if (gen == null) {
      throw new IllegalArgumentException("random: generator is null");
    }
    Tensor t = Tensor.empty(dtype, shape);
    Slots s = TensorKernels.slots();
    desc(s, 0, t);
    long[] seedAndOffset = gen.reserve(t.numel());
    TensorKernels.random(op, seedAndOffset[0], seedAndOffset[1], s, 0, a, b);
    return t;
  }

  // ------------------------------------------------------------------ copies and casts

  /** dst <- src (broadcast and cast); no autograd. */
  static Tensor copyInto(String op, Tensor src, Tensor dst) {
    checkInPlace(op, dst);
    Slots s = TensorKernels.slots();
    descAs(s, 0, src, dst.shape, op);
    desc(s, 1, dst);
    TensorKernels.unary(UnaryOp.COPY, s, 0, 1, 0, 0);
    return dst;
  }

  static Tensor castCopy(Tensor x, DType type) {
    Tensor out = Tensor.empty(type, x.shape);
    Slots s = TensorKernels.slots();
    if (type == DType.FLOAT32 && blockedElementwise(x.shape, x)) {
      flatDesc(s, 0, x, x.shape);
      flatOut(s, 1, out);
      TensorKernels.unary(UnaryOp.COPY, s, 0, 1, 0, 0);
      return out;
    }
    desc(s, 0, x);
    desc(s, 1, out);
    TensorKernels.unary(UnaryOp.COPY, s, 0, 1, 0, 0);
    return out;
  }

  static Tensor cast(Tensor x, DType type) {
    x.ensureOpen("to");
    Tensor out = castCopy(x, type);
    if (type.isFloatingPoint() && x.dtype.isFloatingPoint() && Autograd.needed(x)) {
      DType from = x.dtype;
      Autograd.record(out, OpName.CAST, new Tensor[] {x}, g -> new Tensor[] {g.to(from)});
    }
    return out;
  }

  static Tensor contiguous(Tensor x) {
    Tensor out = castCopy(x, x.dtype);
    if (Autograd.needed(x)) {
      Autograd.record(out, OpName.CONTIGUOUS, new Tensor[] {x}, g -> new Tensor[] {g});
    }
    return out;
  }

  // ------------------------------------------------------------------ unary

  /** The native op of a unary node (OpName carries its row of the op table). */
  private static UnaryOp unaryKernel(OpName op) {
    if (op.unary == null) {
      throw new IllegalArgumentException("not a unary op: " + op);
    }
    return op.unary;
  }

  private static Tensor unaryForward(OpName op, Tensor x, double alpha, double beta) {
    x.ensureOpen(name(op));
    requireFloat(name(op), x);
    Tensor out = Tensor.empty(x.dtype, x.shape);
    Slots s = TensorKernels.slots();
    if (blockedElementwise(x.shape, x)) {
      flatDesc(s, 0, x, x.shape);
      flatOut(s, 1, out);
    } else {
      desc(s, 0, x);
      desc(s, 1, out);
    }
    TensorKernels.unary(unaryKernel(op), s, 0, 1, alpha, beta);
    return out;
  }

  static Tensor affine(Tensor x, double scale, double shift) {
    return unary(OpName.AFFINE, x, scale, shift);
  }

  static Tensor unary(OpName op, Tensor x, double alpha, double beta) {
    Tensor y = unaryForward(op, x, alpha, beta);
    if (!Autograd.needed(x)) {
      return y;
    }
    Tensor[] in = {x};
    switch (op) {
      case NEG:
        Autograd.record(y, op, in, g -> new Tensor[] {g.neg()});
        break;
      case ABS: {
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sx.sign())}, sx);
        break;
      }
      case EXP: {
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sy)}, sy);
        break;
      }
      case LOG: {
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.div(sx)}, sx);
        break;
      }
      case SQRT: { // d sqrt(x) = 1 / (2 sqrt(x))
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.div(sy).mul(0.5)}, sy);
        break;
      }
      case RSQRT: { // d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sy.pow(3)).mul(-0.5)}, sy);
        break;
      }
      case SQUARE: {
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sx).mul(2)}, sx);
        break;
      }
      case RECIPROCAL: { // d 1/x = -1/x^2 = -y^2
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sy.square()).neg()}, sy);
        break;
      }
      case SIGMOID: { // y (1 - y)
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sy.mul(sy.rsub(1)))}, sy);
        break;
      }
      case TANH: { // 1 - y^2
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sy.square().rsub(1))}, sy);
        break;
      }
      case RELU: { // 1 where x > 0
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(mask(sx.gt(0.0), g.dtype))}, sx);
        break;
      }
      case SIGN: // piecewise constant: zero gradient almost everywhere
        Autograd.record(y, op, in, g -> new Tensor[] {Tensor.zeros(g.dtype, x.shape)});
        break;
      case SIN: {
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sx.cos())}, sx);
        break;
      }
      case COS: {
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sx.sin()).neg()}, sx);
        break;
      }
      case LOG1P: {
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.div(sx.add(1.0))}, sx);
        break;
      }
      case EXPM1: { // d (e^x - 1) = e^x = y + 1
        Tensor sy = y.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sy.add(1.0))}, sy);
        break;
      }
      case POW_SCALAR: { // p x^(p-1)
        Tensor sx = x.save();
        double p = alpha;
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sx.pow(p - 1)).mul(p)}, sx);
        break;
      }
      case AFFINE: {
        double scale = alpha;
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(scale)});
        break;
      }
      case CLAMP: { // 1 inside [min, max]
        Tensor sx = x.save();
        double lo = alpha;
        double hi = beta;
        Autograd.record(y, op, in,
            g -> new Tensor[] {g.mul(mask(sx.ge(lo), g.dtype)).mul(mask(sx.le(hi), g.dtype))}, sx);
        break;
      }
      case LEAKY_RELU: { // 1 for x > 0, slope otherwise
        Tensor sx = x.save();
        double slope = alpha;
        Autograd.record(y, op, in,
            g -> new Tensor[] {g.mul(mask(sx.gt(0.0), g.dtype).mul(1 - slope).add(slope))}, sx);
        break;
      }
      case SOFTPLUS: { // sigmoid(x)
        Tensor sx = x.save();
        Autograd.record(y, op, in, g -> new Tensor[] {g.mul(sx.sigmoid())}, sx);
        break;
      }
      default:
        throw new IllegalStateException("no backward for " + op);
    }
    return y;
  }

  private static Tensor mask(Tensor bool, DType type) {
    return castCopy(bool, type);
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

  static Tensor affineInPlace(String op, Tensor t, double scale, double shift) {
    checkInPlace(op, t);
    requireFloat(op, t);
    Slots s = TensorKernels.slots();
    desc(s, 0, t);
    TensorKernels.unary(UnaryOp.AFFINE, s, 0, 0, scale, shift);
    return t;
  }

  static Tensor clampInPlace(Tensor t, double min, double max) {
    checkInPlace("clamp_", t);
    requireFloat("clamp_", t);
    Slots s = TensorKernels.slots();
    desc(s, 0, t);
    TensorKernels.unary(UnaryOp.CLAMP, s, 0, 0, min, max);
    return t;
  }

  static Tensor addScaledInPlace(Tensor t, Tensor other, double alpha) {
    checkInPlace("addScaled_", t);
    try (GradMode.Guard g = GradMode.disable(); Scope scope = Scope.open()) {
      return binaryInPlace(OpName.ADD, "addScaled_", t, other.mul(alpha));
    }
  }

  // ------------------------------------------------------------------ binary

  private static BinaryOp binaryKernel(OpName op) {
    if (op.binary == null) {
      throw new IllegalArgumentException("not a binary op: " + op);
    }
    return op.binary;
  }

  /** Closes the cast copies `promoted` made (graph edges survive closing). */
  private static void closeTemporaries(Tensor[] ab, Tensor a0, Tensor b0) {
    if (ab[0] != a0) {
      ab[0].close();
    }
    if (ab[1] != b0) {
      ab[1].close();
    }
  }

  /** Both operands in their common dtype (a cast copy where needed). */
  private static Tensor[] promoted(String op, Tensor a, Tensor b) {
    a.ensureOpen(op);
    b.ensureOpen(op);
    DType t = DType.promote(a.dtype, b.dtype);
    return new Tensor[] {a.to(t), b.to(t)};
  }

  static Tensor binary(OpName op, Tensor a0, Tensor b0) {
    String opName = name(op);
    Tensor[] ab = promoted(opName, a0, b0);
    Tensor a = ab[0];
    Tensor b = ab[1];
    long[] shape = Shapes.broadcast(opName, a.shape, b.shape);
    if (!a.dtype.isFloatingPoint()) {
      return integerBinary(op, ab, a0, b0);
    }
    Tensor out = Tensor.empty(a.dtype, shape);
    Tensor partner = blockedPartner(shape, a, b);
    try {
      Tensor ka = partner != null && !a.isBlocked() ? partner : a;
      Tensor kb = partner != null && !b.isBlocked() ? partner : b;
      Slots s = TensorKernels.slots();
      if (blockedElementwise(shape, ka, kb)) {
        flatDesc(s, 0, ka, shape);
        flatDesc(s, 1, kb, shape);
        flatOut(s, 2, out);
      } else {
        descAs(s, 0, ka, shape, opName);
        descAs(s, 1, kb, shape, opName);
        desc(s, 2, out);
      }
      TensorKernels.binary(binaryKernel(op), s, 0, 1, 2);
    } finally {
      if (partner != null) {
        partner.close();
      }
    }
    if (!Autograd.needed(a, b)) {
      closeTemporaries(ab, a0, b0);
      return out;
    }
    Tensor[] in = {a, b};
    long[] sa = a.shape;
    long[] sb = b.shape;
    switch (op) {
      case ADD: {
        boolean needA = a.requiresGrad;
        boolean needB = b.requiresGrad;
        Autograd.record(out, op, in,
            g -> new Tensor[] {needA ? sumTo(g, sa) : null, needB ? sumTo(g, sb) : null});
        break;
      }
      case SUB: {
        boolean needA = a.requiresGrad;
        boolean needB = b.requiresGrad;
        Autograd.record(out, op, in,
            g -> new Tensor[] {needA ? sumTo(g, sa) : null, needB ? sumTo(g.neg(), sb) : null});
        break;
      }
      case MUL: {
        Tensor va = a.save();
        Tensor vb = b.save();
        boolean needA = a.requiresGrad;
        boolean needB = b.requiresGrad;
        Autograd.record(out, op, in, g -> new Tensor[] {
            needA ? sumTo(g.mul(vb), sa) : null, needB ? sumTo(g.mul(va), sb) : null}, va, vb);
        break;
      }
      case DIV: { // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        Tensor va = a.save();
        Tensor vb = b.save();
        Autograd.record(out, op, in,
            g -> new Tensor[] {sumTo(g.div(vb), sa), sumTo(g.mul(va).div(vb.square()).neg(), sb)},
            va, vb);
        break;
      }
      case POW: { // d a^b/da = b a^(b-1), d a^b/db = a^b ln a
        Tensor va = a.save();
        Tensor vb = b.save();
        Tensor vy = out.save();
        Autograd.record(out, op, in,
            g -> new Tensor[] {
              sumTo(g.mul(vb).mul(va.pow(vb.sub(Tensor.scalar(1, vb.dtype)))), sa),
              sumTo(g.mul(vy).mul(va.log()), sb)},
            va, vb, vy);
        break;
      }
      case MAXIMUM:
      case MINIMUM: { // the winner takes the gradient; ties split it evenly
        Tensor va = a.save();
        Tensor vb = b.save();
        boolean max = op == OpName.MAXIMUM;
        Autograd.record(out, op, in, g -> {
          Tensor wins = mask(max ? va.gt(vb) : va.lt(vb), g.dtype);
          Tensor ties = mask(va.eq(vb), g.dtype).mul(0.5);
          Tensor wa = wins.add(ties);
          return new Tensor[] {sumTo(g.mul(wa), sa), sumTo(g.mul(wa.rsub(1)), sb)};
        }, va, vb);
        break;
      }
      default:
        throw new IllegalStateException("no backward for " + op);
    }
    closeTemporaries(ab, a0, b0);
    return out;
  }

  /**
   * Integer and bool arithmetic (never differentiable): computed in float64,
   * exact for values below 2^53, then cast back; bool add/mul become or/and;
   * division is true division into float32, as in PyTorch.
   */
  private static Tensor integerBinary(OpName op, Tensor[] ab, Tensor a0, Tensor b0) {
    DType type = ab[0].dtype;
    try (Tensor wa = castCopy(ab[0], DType.FLOAT64); Tensor wb = castCopy(ab[1], DType.FLOAT64);
        GradMode.Guard g = GradMode.disable()) {
      closeTemporaries(ab, a0, b0);
      try (Tensor wide = binary(op, wa, wb)) {
        return castCopy(wide, op == OpName.DIV || op == OpName.POW ? DType.FLOAT32 : type);
      }
    }
  }

  static Tensor binaryInPlace(OpName op, String opName, Tensor t, Tensor other) {
    checkInPlace(opName, t);
    other.ensureOpen(opName);
    Tensor o = other.dtype == t.dtype ? other : castCopy(other, t.dtype);
    try {
      Slots s = TensorKernels.slots();
      desc(s, 0, t);
      descAs(s, 1, o, t.shape, opName);
      desc(s, 2, t);
      TensorKernels.binary(binaryKernel(op), s, 0, 1, 2);
    } finally {
      if (o != other) {
        o.close();
      }
    }
    return t;
  }

  static Tensor compare(BinaryOp code, String op, Tensor a0, Tensor b0) {
    Tensor[] ab = promoted(op, a0, b0);
    if (!ab[0].dtype.isFloatingPoint()) {
      // The kernels compare floating types; float64 holds every int32 and
      // every int64 label/index below 2^53 exactly.
      Tensor[] wide = {castCopy(ab[0], DType.FLOAT64), castCopy(ab[1], DType.FLOAT64)};
      closeTemporaries(ab, a0, b0);
      try {
        return compare(code, op, wide[0], wide[1]);
      } finally {
        wide[0].close();
        wide[1].close();
      }
    }
    long[] shape = Shapes.broadcast(op, ab[0].shape, ab[1].shape);
    Tensor out = Tensor.empty(DType.BOOL, shape);
    Slots s = TensorKernels.slots();
    if (blockedElementwise(shape, ab[0], ab[1])) {
      flatDesc(s, 0, ab[0], shape);
      flatDesc(s, 1, ab[1], shape);
      flatOut(s, 2, out);
    } else {
      descAs(s, 0, ab[0], shape, op);
      descAs(s, 1, ab[1], shape, op);
      desc(s, 2, out);
    }
    TensorKernels.binary(code, s, 0, 1, 2);
    closeTemporaries(ab, a0, b0);
    return out;
  }

  static Tensor compareScalar(BinaryOp code, String op, Tensor a, double v) {
    a.ensureOpen(op);
    try (Tensor sv = Tensor.scalar(v, a.dtype)) {
      return compare(code, op, a, sv);
    }
  }

  static Tensor where(Tensor cond, Tensor a0, Tensor b0) {
    cond.ensureOpen("where");
    if (cond.dtype != DType.BOOL) {
      throw new IllegalArgumentException("where: condition must be bool, got " + cond.dtype);
    }
    Tensor[] ab = promoted("where", a0, b0);
    Tensor a = ab[0];
    Tensor b = ab[1];
    long[] shape = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape, a.shape), b.shape);
    Tensor out = Tensor.empty(a.dtype, shape);
    Slots s = TensorKernels.slots();
    if (blockedElementwise(shape, cond, a, b)) {
      flatDesc(s, 0, cond, shape);
      flatDesc(s, 1, a, shape);
      flatDesc(s, 2, b, shape);
      flatOut(s, 3, out);
    } else {
      descAs(s, 0, cond, shape, "where");
      descAs(s, 1, a, shape, "where");
      descAs(s, 2, b, shape, "where");
      desc(s, 3, out);
    }
    TensorKernels.where(s, 0, 1, 2, 3);
    closeTemporaries(ab, a0, b0);
    if (Autograd.needed(a, b)) {
      Tensor vc = cond.save();
      long[] sa = a.shape;
      long[] sb = b.shape;
      Autograd.record(out, OpName.WHERE, new Tensor[] {a, b}, g -> {
        Tensor zero = Tensor.zeros(g.dtype);
        return new Tensor[] {sumTo(where(vc, g, zero), sa), sumTo(where(vc, zero, g), sb)};
      }, vc);
    }
    return out;
  }

  static Tensor fill(String op, Tensor t, double v) {
    checkInPlace(op, t);
    fill(t, v);
    return t;
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
      try (Tensor wide = castCopy(x, DType.FLOAT64);
          Tensor summed = reduce(op, wide, dims0, keepDim)) {
        return castCopy(summed, DType.INT64);
      }
    }
    int[] dims = x.shape.length == 0 ? new int[0] : normalizeDims(opName, dims0, x.shape.length);
    if (op == OpName.MEAN) {
      requireFloat(opName, x);
    }
    long[] kept = keptShape(x.shape, dims);
    Tensor out = Tensor.empty(x.dtype, kept);
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

  /** A new tensor object over out's storage with another (compatible, contiguous) shape. */
  private static Tensor viewAs(Tensor out, long[] shape) {
    Tensor v = new Tensor(out.storage, out.dtype, shape, Shapes.contiguousStrides(shape), out.offset, false);
    out.close();
    return v;
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
      values = castCopy(x, x.dtype);
      indices = Tensor.zeros(DType.INT64, kept);
    } else {
      values = Tensor.empty(x.dtype, kept);
      indices = Tensor.empty(DType.INT64, kept);
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
          scatterAddRaw(Tensor.zeros(g.dtype, xs), dim, idx.reshape(kept), g.reshape(kept))}, idx);
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
        m = where(isFinite, flatMax, zero);
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

  // ------------------------------------------------------------------ matmul

  static Tensor matmul(Tensor a0, Tensor b0) {
    Tensor[] ab = promoted("matmul", a0, b0);
    Tensor a = ab[0];
    Tensor b = ab[1];
    requireFloat("matmul", a);
    if (a.shape.length == 0 || b.shape.length == 0) {
      throw new IllegalArgumentException("matmul: scalars are not matrices: "
          + Shapes.str(a.shape) + " @ " + Shapes.str(b.shape));
    }
    boolean vecA = a.shape.length == 1;
    boolean vecB = b.shape.length == 1;
    Tensor am = vecA ? a.unsqueeze(0) : a;
    Tensor bm = vecB ? b.unsqueeze(-1) : b;
    long m = am.shape[am.shape.length - 2];
    long k = am.shape[am.shape.length - 1];
    long k2 = bm.shape[bm.shape.length - 2];
    long n = bm.shape[bm.shape.length - 1];
    if (k != k2) {
      throw new IllegalArgumentException("matmul: inner dimensions differ: "
          + Shapes.str(a.shape) + " @ " + Shapes.str(b.shape));
    }
    long[] batch = Shapes.broadcast("matmul",
        Arrays.copyOf(am.shape, am.shape.length - 2), Arrays.copyOf(bm.shape, bm.shape.length - 2));
    long[] outShape = Arrays.copyOf(batch, batch.length + 2);
    outShape[batch.length] = m;
    outShape[batch.length + 1] = n;
    long[] aTarget = Arrays.copyOf(batch, batch.length + 2);
    aTarget[batch.length] = m;
    aTarget[batch.length + 1] = k;
    long[] bTarget = Arrays.copyOf(batch, batch.length + 2);
    bTarget[batch.length] = k;
    bTarget[batch.length + 1] = n;
    Tensor out = Tensor.empty(a.dtype, outShape);
    Slots s = TensorKernels.slots();
    descAs(s, 0, am, aTarget, "matmul");
    descAs(s, 1, bm, bTarget, "matmul");
    desc(s, 2, out);
    TensorKernels.matmul(s, 0, 1, 2);
    closeTemporaries(ab, a0, b0);
    Tensor result = out;
    if (vecA || vecB) {
      long[] rs = vecA && vecB ? new long[0]
          : vecA ? Shapes.remove(outShape, outShape.length - 2)
          : Arrays.copyOf(outShape, outShape.length - 1);
      result = viewAs(out, rs);
    }
    if (Autograd.needed(a, b)) {
      Tensor va = am.save();
      Tensor vb = bm.save();
      long[] sa = a.shape;
      long[] sb = b.shape;
      long[] full = outShape;
      boolean needA = a.requiresGrad;
      boolean needB = b.requiresGrad;
      Autograd.record(result, OpName.MATMUL, new Tensor[] {a, b}, g -> {
        // Only the inputs that need a gradient get one: for a first layer,
        // dL/dinput would cost as much as the weight gradient for nothing.
        Tensor gm = g.reshape(full);
        Tensor ga = needA ? sumTo(matmulLike(gm, vb.transpose(-1, -2), va), va.shape).reshape(sa) : null;
        Tensor gb = needB ? sumTo(matmulLike(va.transpose(-1, -2), gm, vb), vb.shape).reshape(sb) : null;
        return new Tensor[] {ga, gb};
      }, va, vb);
    }
    if (am != a) {
      am.close();
    }
    if (bm != b) {
      bm.close();
    }
    return result;
  }

  /**
   * x @ y, laid out like `like`: when `like` is a transposed view (a Linear
   * layer's W.t()), computes (y^T @ x^T)^T so that the gradient arrives in the
   * parameter's own contiguous layout instead of needing a transposing copy.
   */
  private static Tensor matmulLike(Tensor x, Tensor y, Tensor like) {
    int n = like.shape.length;
    boolean transposed = n >= 2 && like.strides[n - 2] == 1 && like.strides[n - 1] != 1
        && like.shape[n - 2] > 1;
    if (!transposed) {
      return x.matmul(y);
    }
    return y.transpose(-1, -2).matmul(x.transpose(-1, -2)).transpose(-1, -2);
  }

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
      Tensor c = castCopy(x, x.dtype);
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
      Autograd.record(out, OpName.EXPAND, new Tensor[] {x}, g -> new Tensor[] {sumTo(g, xs)});
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
  private static Tensor scatterAddRaw(Tensor base, int dim, Tensor index, Tensor src) {
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
    Tensor out = castCopy(x, x.dtype);
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
      throw new IllegalArgumentException("oneHot: " + e.getMessage() + " (numClasses=" + classes + ")", e);
    }
    return out;
  }
}
