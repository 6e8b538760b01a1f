package dev.fathom.tensor;

import static dev.fathom.tensor.Ops.blockedElementwise;
import static dev.fathom.tensor.Ops.blockedPartner;
import static dev.fathom.tensor.Ops.checkInPlace;
import static dev.fathom.tensor.Ops.closeTemporaries;
import static dev.fathom.tensor.Ops.desc;
import static dev.fathom.tensor.Ops.descAs;
import static dev.fathom.tensor.Ops.flatDesc;
import static dev.fathom.tensor.Ops.flatOut;
import static dev.fathom.tensor.Ops.name;
import static dev.fathom.tensor.Ops.promoted;
import static dev.fathom.tensor.Ops.requireFloat;
import static dev.fathom.tensor.Ops.requireSameDevice;

import dev.fathom.internal.nativ.BinaryOp;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import dev.fathom.internal.nativ.UnaryOp;

/**
 * Elementwise ops: fill, range and random creation, copies and casts, the
 * unary and binary kernels (UnaryOp, BinaryOp: the native op table), the
 * comparisons and where, each forward with its backward next to it.
 */
final class ElementwiseOps {
  private ElementwiseOps() {}

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
    requireSameDevice(op, src, dst);
    Slots s = TensorKernels.slots();
    descAs(s, 0, src, dst.shape, op);
    desc(s, 1, dst);
    TensorKernels.unary(UnaryOp.COPY, s, 0, 1, 0, 0);
    return dst;
  }

  static Tensor castCopy(Tensor x, DType type) {
    Tensor out = Tensor.emptyOn(x.deviceCode(), type, x.shape);
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

  /** x copied into the memory of device `code` (contiguous there); see Tensor.to(Device). */
  static Tensor toDevice(Tensor x, int code) {
    Tensor src = x.isContiguous() ? x : castCopy(x, x.dtype);
    Tensor out;
    try {
      out = Tensor.emptyOn(code, x.dtype, x.shape);
      TensorKernels.deviceCopy(code, out.deviceAddress(), src.deviceCode(), src.deviceAddress(),
          out.numel() * x.dtype.bytes);
    } finally {
      if (src != x) {
        src.close();
      }
    }
    if (x.dtype.isFloatingPoint() && Autograd.needed(x)) {
      dev.fathom.Device from = x.device();
      Autograd.record(out, OpName.TO_DEVICE, new Tensor[] {x}, g -> new Tensor[] {g.to(from)});
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
    Tensor out = Tensor.emptyOn(x.deviceCode(), x.dtype, x.shape);
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

  static Tensor binary(OpName op, Tensor a0, Tensor b0) {
    String opName = name(op);
    requireSameDevice(opName, a0, b0);
    Tensor[] ab = promoted(opName, a0, b0);
    Tensor a = ab[0];
    Tensor b = ab[1];
    long[] shape = Shapes.broadcast(opName, a.shape, b.shape);
    if (!a.dtype.isFloatingPoint()) {
      return integerBinary(op, ab, a0, b0);
    }
    Tensor out = Tensor.emptyOn(a.deviceCode(), a.dtype, shape);
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
            g -> new Tensor[] {needA ? ReduceOps.sumTo(g, sa) : null, needB ? ReduceOps.sumTo(g, sb) : null});
        break;
      }
      case SUB: {
        boolean needA = a.requiresGrad;
        boolean needB = b.requiresGrad;
        Autograd.record(out, op, in,
            g -> new Tensor[] {needA ? ReduceOps.sumTo(g, sa) : null, needB ? ReduceOps.sumTo(g.neg(), sb) : null});
        break;
      }
      case MUL: {
        Tensor va = a.save();
        Tensor vb = b.save();
        boolean needA = a.requiresGrad;
        boolean needB = b.requiresGrad;
        Autograd.record(out, op, in, g -> new Tensor[] {
            needA ? ReduceOps.sumTo(g.mul(vb), sa) : null, needB ? ReduceOps.sumTo(g.mul(va), sb) : null}, va, vb);
        break;
      }
      case DIV: { // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        Tensor va = a.save();
        Tensor vb = b.save();
        Autograd.record(out, op, in,
            g -> new Tensor[] {ReduceOps.sumTo(g.div(vb), sa), ReduceOps.sumTo(g.mul(va).div(vb.square()).neg(), sb)},
            va, vb);
        break;
      }
      case POW: { // d a^b/da = b a^(b-1), d a^b/db = a^b ln a
        Tensor va = a.save();
        Tensor vb = b.save();
        Tensor vy = out.save();
        Autograd.record(out, op, in,
            g -> new Tensor[] {
              ReduceOps.sumTo(g.mul(vb).mul(va.pow(vb.sub(Tensor.scalar(1, vb.dtype)))), sa),
              ReduceOps.sumTo(g.mul(vy).mul(va.log()), sb)},
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
          return new Tensor[] {ReduceOps.sumTo(g.mul(wa), sa), ReduceOps.sumTo(g.mul(wa.rsub(1)), sb)};
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
        return new Tensor[] {ReduceOps.sumTo(where(vc, g, zero), sa), ReduceOps.sumTo(where(vc, zero, g), sb)};
      }, vc);
    }
    return out;
  }

  static Tensor fill(String op, Tensor t, double v) {
    checkInPlace(op, t);
    fill(t, v);
    return t;
  }
}
