package dev.fathom.tensor;

import dev.fathom.Device;
import dev.fathom.FathomException;
import dev.fathom.internal.nativ.BinaryOp;
import dev.fathom.internal.nativ.TensorKernels;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array in native memory with reverse-mode autograd. Names
 * follow PyTorch. Arithmetic runs natively, one JNI call per op.
 *
 * <pre>{@code
 * try (Scope scope = Scope.open()) {
 *   Tensor w = Tensor.randn(new Generator(0), 3, 2).requiresGrad(true);
 *   Tensor loss = Tensor.ones(4, 3).matmul(w).relu().sum();
 *   loss.backward();
 *   System.out.println(w.grad());
 * }
 * }</pre>
 *
 * <p>Memory: a tensor owns a reference to its (shared, reference-counted)
 * storage; {@link #close()} drops it. Tensors made inside a {@link Scope} are
 * closed with it. Views (reshape, transpose, narrow, expand, ...) share storage.
 * Using a closed tensor throws {@link IllegalStateException}.
 *
 * <p>Threads: a tensor may be read from several threads; ops that write
 * (in-place ops, backward) need external synchronisation.
 */
public final class Tensor implements AutoCloseable {
  final Storage storage;
  final DType dtype;
  final long[] shape;
  final long[] strides;
  final long offset;
  boolean requiresGrad;
  Tensor grad;
  Node gradFn;
  Scope scope;
  private volatile boolean closed;

  /** A tensor over `storage` (retained here unless `adopt`, which takes the first reference). */
  Tensor(Storage storage, DType dtype, long[] shape, long[] strides, long offset, boolean adopt) {
    if (!adopt) {
      storage.retain();
    }
    this.storage = storage;
    this.dtype = dtype;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    Scope s = Scope.current();
    if (s != null) {
      this.scope = s;
      s.add(this);
    }
  }

  // ---------------------------------------------------------------- creation

  /**
   * Uninitialised contiguous tensor. Every op allocates its result here, so a
   * request over {@link dev.fathom.Fathom#setMemoryLimit} fails here with a
   * {@link FathomException} (OUT_OF_MEMORY) that names the dtype and shape.
   */
  public static Tensor empty(DType dtype, long... shape) {
    return emptyOn(0, dtype, shape);
  }

  /**
   * Uninitialised contiguous tensor in the memory of `device` ({@link
   * Device#cpu()} is {@link #empty(DType, long...)}). A GPU that is not
   * available fails here with a {@link FathomException} (UNSUPPORTED) naming it.
   */
  public static Tensor empty(Device device, DType dtype, long... shape) {
    return emptyOn(device.code(), dtype, shape);
  }

  /**
   * {@link #empty(Device, DType, long...)} by native device code. Allocation
   * failures name the dtype and shape (and a GPU); on the host only running out
   * of memory is reworded, anything else is a bug and passes through as is.
   */
  static Tensor emptyOn(int deviceCode, DType dtype, long... shape) {
    Shapes.checkShape("empty", shape);
    long bytes = Math.multiplyExact(Shapes.numel(shape), (long) dtype.bytes);
    Storage storage;
    try {
      storage = Storage.allocate(deviceCode, bytes);
    } catch (FathomException e) {
      if (deviceCode == 0 && e.status() != FathomException.Status.OUT_OF_MEMORY) {
        throw e;
      }
      throw new FathomException(e.status(), "tensor " + dtype + " " + Arrays.toString(shape)
          + (deviceCode == 0 ? "" : " on " + Device.ofCode(deviceCode)) + ": " + e.getMessage(), e);
    }
    return new Tensor(storage, dtype, shape.clone(), Shapes.contiguousStrides(shape), 0, true);
  }

  public static Tensor zeros(long... shape) {
    return full(0.0, DType.FLOAT32, shape);
  }

  public static Tensor zeros(DType dtype, long... shape) {
    return full(0.0, dtype, shape);
  }

  public static Tensor ones(long... shape) {
    return full(1.0, DType.FLOAT32, shape);
  }

  public static Tensor ones(DType dtype, long... shape) {
    return full(1.0, dtype, shape);
  }

  public static Tensor full(double value, long... shape) {
    return full(value, DType.FLOAT32, shape);
  }

  public static Tensor full(double value, DType dtype, long... shape) {
    Tensor t = empty(dtype, shape);
    t.fillInPlace(value);
    return t;
  }

  /** A 0-dimensional tensor. */
  public static Tensor scalar(double value) {
    return full(value, DType.FLOAT32);
  }

  public static Tensor scalar(double value, DType dtype) {
    return full(value, dtype);
  }

  /** start, start+step, ... below end (float32; int64 for integral arguments via the DType overload). */
  public static Tensor arange(double start, double end, double step) {
    return arange(start, end, step, DType.FLOAT32);
  }

  public static Tensor arange(long end) {
    return arange(0, end, 1, DType.INT64);
  }

  public static Tensor arange(double start, double end, double step, DType dtype) {
    if (step == 0 || !Double.isFinite(start) || !Double.isFinite(end) || !Double.isFinite(step)) {
      throw new IllegalArgumentException(
          "arange: invalid range start=" + start + " end=" + end + " step=" + step);
    }
    long n = Math.max(0, (long) Math.ceil((end - start) / step));
    Tensor t = empty(dtype, n);
    ElementwiseOps.range(t, start, step);
    return t;
  }

  /** `steps` evenly spaced values from start to end inclusive. */
  public static Tensor linspace(double start, double end, long steps) {
    if (steps < 0) {
      throw new IllegalArgumentException("linspace: steps=" + steps + " is negative");
    }
    Tensor t = empty(DType.FLOAT32, steps);
    ElementwiseOps.range(t, start, steps > 1 ? (end - start) / (steps - 1) : 0);
    return t;
  }

  /** n x n identity. */
  public static Tensor eye(long n) {
    return eye(n, DType.FLOAT32);
  }

  public static Tensor eye(long n, DType dtype) {
    Tensor t = zeros(dtype, n, n);
    try (Tensor diagonal = new Tensor(t.storage, dtype, new long[] {n}, new long[] {n + 1}, 0, false)) {
      diagonal.fillInPlace(1.0);
    }
    return t;
  }

  /** Uniform in [0, 1). */
  public static Tensor rand(Generator gen, long... shape) {
    return uniform(gen, 0, 1, DType.FLOAT32, shape);
  }

  public static Tensor uniform(Generator gen, double low, double high, DType dtype, long... shape) {
    if (!(high >= low)) {
      throw new IllegalArgumentException("uniform: high=" + high + " < low=" + low);
    }
    return ElementwiseOps.random(TensorKernels.RANDOM_UNIFORM, gen, low, high, dtype, shape);
  }

  /** Standard normal. */
  public static Tensor randn(Generator gen, long... shape) {
    return normal(gen, 0, 1, DType.FLOAT32, shape);
  }

  public static Tensor normal(Generator gen, double mean, double std, DType dtype, long... shape) {
    if (!(std >= 0)) {
      throw new IllegalArgumentException("normal: std=" + std + " must be >= 0");
    }
    return ElementwiseOps.random(TensorKernels.RANDOM_NORMAL, gen, mean, std, dtype, shape);
  }

  /** 1 with probability p, else 0. */
  public static Tensor bernoulli(Generator gen, double p, DType dtype, long... shape) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("bernoulli: p=" + p + " must be in [0, 1]");
    }
    return ElementwiseOps.random(TensorKernels.RANDOM_BERNOULLI, gen, p, 0, dtype, shape);
  }

  public static Tensor fromArray(float[] data, long... shape) {
    Tensor t = empty(DType.FLOAT32, checkCount("fromArray", data.length, shape));
    t.buffer().asFloatBuffer().put(data);
    return t;
  }

  public static Tensor fromArray(double[] data, long... shape) {
    Tensor t = empty(DType.FLOAT64, checkCount("fromArray", data.length, shape));
    t.buffer().asDoubleBuffer().put(data);
    return t;
  }

  public static Tensor fromArray(int[] data, long... shape) {
    Tensor t = empty(DType.INT32, checkCount("fromArray", data.length, shape));
    t.buffer().asIntBuffer().put(data);
    return t;
  }

  public static Tensor fromArray(long[] data, long... shape) {
    Tensor t = empty(DType.INT64, checkCount("fromArray", data.length, shape));
    t.buffer().asLongBuffer().put(data);
    return t;
  }

  /** 1-D float32 tensor of the given values. */
  public static Tensor of(float... values) {
    return fromArray(values, values.length);
  }

  private static long[] checkCount(String op, int count, long[] shape) {
    long[] s = shape.length == 0 && count != 1 ? new long[] {count} : shape;
    Shapes.checkShape(op, s);
    if (Shapes.numel(s) != count) {
      throw new IllegalArgumentException(
          op + ": " + count + " values do not fill shape " + Shapes.str(s));
    }
    return s;
  }

  // ---------------------------------------------------------------- metadata

  public long[] shape() {
    return shape.clone();
  }

  public long size(int dim) {
    return shape[Shapes.dim("size", dim, shape.length)];
  }

  public int dim() {
    return shape.length;
  }

  public long numel() {
    return Shapes.numel(shape);
  }

  public DType dtype() {
    return dtype;
  }

  public long[] strides() {
    return strides.clone();
  }

  public boolean isContiguous() {
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && strides[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /**
   * Native address of element (0, ..., 0), of row-major data (nChw16c storage
   * is converted first), for the kernels that run on the host only: a tensor
   * on a GPU is refused here, so that no host kernel is handed device memory.
   */
  long address() {
    ensureOpen("address");
    requireHost();
    storage.ensurePlain();
    return storage.address + offset * dtype.bytes;
  }

  /** The address of element (0, ..., 0) in its device's memory, for descriptors that state the device. */
  long deviceAddress() {
    ensureOpen("address");
    if (storage.device == 0) {
      storage.ensurePlain();
    }
    return storage.address + offset * dtype.bytes;
  }

  /** Native device code of this tensor's memory (0: the host). */
  int deviceCode() {
    return storage.device;
  }

  private void requireHost() {
    if (storage.device != 0) {
      throw new IllegalArgumentException("tensor " + dtype + " " + Shapes.str(shape) + " is on "
          + Device.ofCode(storage.device) + ", and this op runs on the CPU only so far"
          + " (on a GPU: elementwise ops and copies); move it with to(Device.cpu())");
    }
  }

  /** Where this tensor's memory lives. */
  public Device device() {
    return Device.ofCode(storage.device);
  }

  /**
   * This tensor in the memory of `device`: itself when it is already there,
   * else a contiguous copy (differentiable: the gradient comes back to this
   * tensor's device).
   */
  public Tensor to(Device device) {
    ensureOpen("to");
    if (device == null) {
      throw new IllegalArgumentException("to: device is null");
    }
    if (device.code() == storage.device) {
      return this;
    }
    return ElementwiseOps.toDevice(this, device.code());
  }

  /**
   * Whether this tensor is a whole storage holding nChw16c data (see
   * {@link Storage}): layout-aware kernels then read {@link #blockedAddress}.
   */
  boolean isBlocked() {
    long[] bs = storage.blockedShape();
    return bs != null && offset == 0 && Arrays.equals(bs, shape) && isContiguous();
  }

  /** The address without conversion, for kernels that take nChw16c operands. */
  long blockedAddress() {
    ensureOpen("address");
    requireHost();
    return storage.address;
  }

  /** Records that a kernel wrote this (whole, contiguous, 4-D) tensor in nChw16c. */
  void markBlocked() {
    storage.markBlocked(shape, dtype.code);
  }

  void ensureOpen(String op) {
    if (closed || storage.isFreed()) {
      throw new IllegalStateException(
          op + ": tensor " + Shapes.str(shape) + " " + dtype + " was closed");
    }
  }

  // ---------------------------------------------------------------- data out

  public float[] toFloatArray() {
    try (Tensor c = readable(DType.FLOAT32)) {
      float[] out = new float[Math.toIntExact(numel())];
      c.buffer().asFloatBuffer().get(out);
      return out;
    }
  }

  public double[] toDoubleArray() {
    try (Tensor c = readable(DType.FLOAT64)) {
      double[] out = new double[Math.toIntExact(numel())];
      c.buffer().asDoubleBuffer().get(out);
      return out;
    }
  }

  public long[] toLongArray() {
    try (Tensor c = readable(DType.INT64)) {
      long[] out = new long[Math.toIntExact(numel())];
      c.buffer().asLongBuffer().get(out);
      return out;
    }
  }

  public int[] toIntArray() {
    try (Tensor c = readable(DType.INT32)) {
      int[] out = new int[Math.toIntExact(numel())];
      c.buffer().asIntBuffer().get(out);
      return out;
    }
  }

  /** The value of a one-element tensor. */
  public double item() {
    if (numel() != 1) {
      throw new IllegalArgumentException(
          "item: tensor " + Shapes.str(shape) + " has " + numel() + " elements, not 1");
    }
    return toDoubleArray()[0];
  }

  /** A contiguous copy (or this data re-viewed) in `type`, owned by the caller. */
  private Tensor readable(DType type) {
    ensureOpen("read");
    try (GradMode.Guard g = GradMode.disable()) {
      Tensor c = ElementwiseOps.castCopy(this, type);
      if (c.storage.device != 0) {  // values are read on the host: one copy back
        try (Tensor onDevice = c) {
          c = ElementwiseOps.toDevice(onDevice, 0);
        }
      }
      c.unscope();
      return c;
    }
  }

  ByteBuffer buffer() {
    return TensorKernels.view(address(), numel() * dtype.bytes);
  }

  // ---------------------------------------------------------------- autograd

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** Marks a leaf as a variable whose gradient backward() accumulates. */
  public Tensor requiresGrad(boolean value) {
    if (gradFn != null && !value) {
      throw new IllegalStateException("requiresGrad(false): only leaves can stop requiring grad; use detach()");
    }
    if (value && !dtype.isFloatingPoint()) {
      throw new IllegalArgumentException("requiresGrad: only floating-point tensors, not " + dtype);
    }
    requiresGrad = value;
    return this;
  }

  /** The accumulated gradient of a leaf, or null. Owned by this tensor. */
  public Tensor grad() {
    return grad;
  }

  public boolean isLeaf() {
    return gradFn == null;
  }

  /** Name of the op that produced this tensor, or null for leaves. */
  public String gradFnName() {
    return gradFn == null ? null : gradFn.op.name();
  }

  /** Backward from a one-element tensor (seed 1). */
  public void backward() {
    if (numel() != 1) {
      throw new IllegalArgumentException(
          "backward: implicit seed needs a one-element tensor, got " + Shapes.str(shape)
              + "; pass a seed gradient");
    }
    try (Tensor seed = Tensor.full(1.0, dtype, shape); Tensor placed = seed.to(device())) {
      Autograd.backward(this, placed, false);
    }
  }

  public void backward(Tensor seed) {
    backward(seed, false);
  }

  /** Backward with an explicit seed; retainGraph keeps saved tensors for another pass. */
  public void backward(Tensor seed, boolean retainGraph) {
    ensureOpen("backward");
    seed.ensureOpen("backward");
    Autograd.backward(this, seed, retainGraph);
  }

  /** Drops the accumulated gradient. */
  public void zeroGrad() {
    if (grad != null) {
      grad.close();
      grad = null;
    }
  }

  /** Same data, cut from the graph. */
  public Tensor detach() {
    ensureOpen("detach");
    return new Tensor(storage, dtype, shape, strides, offset, false);
  }

  /** Removes this tensor from its scope: the caller now owns it. */
  public Tensor unscope() {
    scope = null;
    return this;
  }

  /** A view of the same data, for backward closures (closed after use). */
  Tensor save() {
    return new Tensor(storage, dtype, shape, strides, offset, false);
  }

  // ---------------------------------------------------------------- memory

  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      storage.release();
      if (grad != null) {
        grad.close();
        grad = null;
      }
      // NOTE: gradFn stays: a closed intermediate (e.g. a cast copy) may still
      // be an edge of the graph; backward never reads its storage.
    }
  }

  /** Bytes of native tensor memory currently allocated in this process. */
  public static long liveNativeBytes() {
    return TensorKernels.liveBytes();
  }

  // ---------------------------------------------------------------- elementwise

  public Tensor add(Tensor other) { return ElementwiseOps.binary(OpName.ADD, this, other); }
  public Tensor sub(Tensor other) { return ElementwiseOps.binary(OpName.SUB, this, other); }
  public Tensor mul(Tensor other) { return ElementwiseOps.binary(OpName.MUL, this, other); }
  public Tensor div(Tensor other) { return ElementwiseOps.binary(OpName.DIV, this, other); }
  public Tensor pow(Tensor other) { return ElementwiseOps.binary(OpName.POW, this, other); }
  public Tensor maximum(Tensor other) { return ElementwiseOps.binary(OpName.MAXIMUM, this, other); }
  public Tensor minimum(Tensor other) { return ElementwiseOps.binary(OpName.MINIMUM, this, other); }

  public Tensor add(double v) { return ElementwiseOps.affine(this, 1, v); }
  public Tensor sub(double v) { return ElementwiseOps.affine(this, 1, -v); }
  public Tensor mul(double v) { return ElementwiseOps.affine(this, v, 0); }
  public Tensor div(double v) { return ElementwiseOps.affine(this, 1 / v, 0); }
  /** v - this. */
  public Tensor rsub(double v) { return ElementwiseOps.affine(this, -1, v); }
  public Tensor pow(double exponent) { return ElementwiseOps.unary(OpName.POW_SCALAR, this, exponent, 0); }

  public Tensor neg() { return ElementwiseOps.unary(OpName.NEG, this, 0, 0); }
  public Tensor abs() { return ElementwiseOps.unary(OpName.ABS, this, 0, 0); }
  public Tensor exp() { return ElementwiseOps.unary(OpName.EXP, this, 0, 0); }
  public Tensor log() { return ElementwiseOps.unary(OpName.LOG, this, 0, 0); }
  public Tensor sqrt() { return ElementwiseOps.unary(OpName.SQRT, this, 0, 0); }
  public Tensor rsqrt() { return ElementwiseOps.unary(OpName.RSQRT, this, 0, 0); }
  public Tensor square() { return ElementwiseOps.unary(OpName.SQUARE, this, 0, 0); }
  public Tensor reciprocal() { return ElementwiseOps.unary(OpName.RECIPROCAL, this, 0, 0); }
  public Tensor sigmoid() { return ElementwiseOps.unary(OpName.SIGMOID, this, 0, 0); }
  public Tensor tanh() { return ElementwiseOps.unary(OpName.TANH, this, 0, 0); }
  public Tensor relu() { return ElementwiseOps.unary(OpName.RELU, this, 0, 0); }
  public Tensor sign() { return ElementwiseOps.unary(OpName.SIGN, this, 0, 0); }
  public Tensor sin() { return ElementwiseOps.unary(OpName.SIN, this, 0, 0); }
  public Tensor cos() { return ElementwiseOps.unary(OpName.COS, this, 0, 0); }
  public Tensor log1p() { return ElementwiseOps.unary(OpName.LOG1P, this, 0, 0); }
  public Tensor expm1() { return ElementwiseOps.unary(OpName.EXPM1, this, 0, 0); }
  public Tensor softplus() { return ElementwiseOps.unary(OpName.SOFTPLUS, this, 0, 0); }
  /** x > 0 ? x : slope * x. */
  public Tensor leakyRelu(double slope) { return ElementwiseOps.unary(OpName.LEAKY_RELU, this, slope, 0); }

  public Tensor clamp(double min, double max) {
    if (min > max) {
      throw new IllegalArgumentException("clamp: min=" + min + " > max=" + max);
    }
    return ElementwiseOps.unary(OpName.CLAMP, this, min, max);
  }

  public Tensor clampMin(double min) { return clamp(min, Double.POSITIVE_INFINITY); }
  public Tensor clampMax(double max) { return clamp(Double.NEGATIVE_INFINITY, max); }

  public Tensor eq(Tensor o) { return ElementwiseOps.compare(BinaryOp.EQ, "eq", this, o); }
  public Tensor ne(Tensor o) { return ElementwiseOps.compare(BinaryOp.NE, "ne", this, o); }
  public Tensor lt(Tensor o) { return ElementwiseOps.compare(BinaryOp.LT, "lt", this, o); }
  public Tensor le(Tensor o) { return ElementwiseOps.compare(BinaryOp.LE, "le", this, o); }
  public Tensor gt(Tensor o) { return ElementwiseOps.compare(BinaryOp.GT, "gt", this, o); }
  public Tensor ge(Tensor o) { return ElementwiseOps.compare(BinaryOp.GE, "ge", this, o); }
  public Tensor eq(double v) { return ElementwiseOps.compareScalar(BinaryOp.EQ, "eq", this, v); }
  public Tensor ne(double v) { return ElementwiseOps.compareScalar(BinaryOp.NE, "ne", this, v); }
  public Tensor lt(double v) { return ElementwiseOps.compareScalar(BinaryOp.LT, "lt", this, v); }
  public Tensor le(double v) { return ElementwiseOps.compareScalar(BinaryOp.LE, "le", this, v); }
  public Tensor gt(double v) { return ElementwiseOps.compareScalar(BinaryOp.GT, "gt", this, v); }
  public Tensor ge(double v) { return ElementwiseOps.compareScalar(BinaryOp.GE, "ge", this, v); }

  /** condition ? a : b, broadcasting all three. */
  public static Tensor where(Tensor condition, Tensor a, Tensor b) {
    return ElementwiseOps.where(condition, a, b);
  }

  /** Converts to another dtype (differentiable between floating types). */
  public Tensor to(DType type) {
    return type == dtype ? this : ElementwiseOps.cast(this, type);
  }

  // ---------------------------------------------------------------- in place (no autograd)

  public Tensor add_(Tensor other) { return ElementwiseOps.binaryInPlace(OpName.ADD, "add_", this, other); }
  public Tensor sub_(Tensor other) { return ElementwiseOps.binaryInPlace(OpName.SUB, "sub_", this, other); }
  public Tensor mul_(Tensor other) { return ElementwiseOps.binaryInPlace(OpName.MUL, "mul_", this, other); }
  public Tensor div_(Tensor other) { return ElementwiseOps.binaryInPlace(OpName.DIV, "div_", this, other); }
  public Tensor add_(double v) { return ElementwiseOps.affineInPlace("add_", this, 1, v); }
  public Tensor mul_(double v) { return ElementwiseOps.affineInPlace("mul_", this, v, 0); }
  /** this += alpha * other (the optimizer update). */
  public Tensor addScaled_(Tensor other, double alpha) { return ElementwiseOps.addScaledInPlace(this, other, alpha); }
  public Tensor clamp_(double min, double max) { return ElementwiseOps.clampInPlace(this, min, max); }
  public Tensor fill_(double value) {
    Ops.checkInPlace("fill_", this);
    return fillInPlace(value);
  }
  public Tensor zero_() { return fill_(0.0); }
  /** Copies `src` (broadcast, cast) into this tensor. */
  public Tensor copy_(Tensor src) { return ElementwiseOps.copyInto("copy_", src, this); }

  Tensor fillInPlace(double value) {
    ElementwiseOps.fill(this, value);
    return this;
  }

  // ---------------------------------------------------------------- reductions

  public Tensor sum() { return ReduceOps.reduce(OpName.SUM, this, allDims(), false); }
  public Tensor sum(int dim, boolean keepDim) { return ReduceOps.reduce(OpName.SUM, this, new int[] {dim}, keepDim); }
  public Tensor sum(int[] dims, boolean keepDim) { return ReduceOps.reduce(OpName.SUM, this, dims, keepDim); }
  public Tensor mean() { return ReduceOps.reduce(OpName.MEAN, this, allDims(), false); }
  public Tensor mean(int dim, boolean keepDim) { return ReduceOps.reduce(OpName.MEAN, this, new int[] {dim}, keepDim); }
  public Tensor mean(int[] dims, boolean keepDim) { return ReduceOps.reduce(OpName.MEAN, this, dims, keepDim); }

  /** Largest element (0-d). */
  public Tensor max() { return ReduceOps.reduceAll(OpName.MAX_DIM, this); }
  public Tensor min() { return ReduceOps.reduceAll(OpName.MIN_DIM, this); }
  public ValuesIndices max(int dim, boolean keepDim) { return ReduceOps.maxMin(OpName.MAX_DIM, this, dim, keepDim); }
  public ValuesIndices min(int dim, boolean keepDim) { return ReduceOps.maxMin(OpName.MIN_DIM, this, dim, keepDim); }

  public Tensor argmax(int dim, boolean keepDim) { return ReduceOps.argMaxMin(true, this, dim, keepDim); }
  public Tensor argmin(int dim, boolean keepDim) { return ReduceOps.argMaxMin(false, this, dim, keepDim); }
  /** Index of the largest element of the flattened tensor. */
  public Tensor argmax() {
    try (Tensor flat = reshape(-1)) {
      return ReduceOps.argMaxMin(true, flat, 0, false);
    }
  }

  /** log(sum(exp(x))) over dims, computed stably (max subtracted first). */
  public Tensor logsumexp(int[] dims, boolean keepDim) { return ReduceOps.logsumexp(this, dims, keepDim); }
  public Tensor logsumexp(int dim, boolean keepDim) { return ReduceOps.logsumexp(this, new int[] {dim}, keepDim); }

  /** exp(x) / sum(exp(x)) along dim, computed as exp(x - logsumexp(x)) so large logits do not overflow. */
  public Tensor softmax(int dim) { checkDim("softmax", dim); return logSoftmax(dim).exp(); }
  /** x - logsumexp(x) along dim. */
  public Tensor logSoftmax(int dim) { checkDim("logSoftmax", dim); return sub(logsumexp(dim, true)); }

  /** Names the op the user called, not the one it is built from. */
  private void checkDim(String op, int dim) {
    ensureOpen(op);
    if (dim < -shape.length || dim >= shape.length) {
      throw new IllegalArgumentException(op + ": dimension " + dim + " out of range for a tensor of shape "
          + Shapes.str(shape));
    }
  }

  /** Variance; unbiased divides by n - 1. */
  public Tensor var(int[] dims, boolean unbiased, boolean keepDim) { return ReduceOps.var(this, dims, unbiased, keepDim); }
  public Tensor var() { return var(allDims(), true, false); }
  public Tensor std(int[] dims, boolean unbiased, boolean keepDim) { return var(dims, unbiased, keepDim).sqrt(); }
  public Tensor std() { return var().sqrt(); }

  /** p-norm over all elements. */
  public Tensor norm(double p) { return ReduceOps.norm(this, p, allDims(), false); }
  public Tensor norm() { return norm(2); }
  public Tensor norm(double p, int[] dims, boolean keepDim) { return ReduceOps.norm(this, p, dims, keepDim); }

  int[] allDims() {
    int[] d = new int[shape.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = i;
    }
    return d;
  }

  // ---------------------------------------------------------------- linear algebra

  /** Matrix product with batching and broadcasting of leading dimensions (1-D operands as in NumPy). */
  public Tensor matmul(Tensor other) { return LinalgOps.matmul(this, other); }

  // ---------------------------------------------------------------- views and shape

  /** Same data in a new shape (one dimension may be -1); copies only when strides forbid a view. */
  public Tensor reshape(long... newShape) { return ShapeOps.reshape(this, newShape, false); }
  /** Like reshape, but fails instead of copying. */
  public Tensor view(long... newShape) { return ShapeOps.reshape(this, newShape, true); }
  public Tensor flatten() { return reshape(-1); }
  /** Keeps dims before startDim, flattens the rest. */
  public Tensor flatten(int startDim) {
    int d = Shapes.dim("flatten", startDim, shape.length);
    long[] s = Arrays.copyOf(shape, d + 1);
    s[d] = -1;
    return reshape(s);
  }
  public Tensor permute(int... dims) { return ShapeOps.permute(this, dims); }
  public Tensor transpose(int dim0, int dim1) { return ShapeOps.transpose(this, dim0, dim1); }
  /** Transpose of a 2-D tensor. */
  public Tensor t() {
    if (shape.length != 2) {
      throw new IllegalArgumentException("t: expects 2 dimensions, got " + Shapes.str(shape));
    }
    return transpose(0, 1);
  }
  public Tensor narrow(int dim, long start, long length) { return ShapeOps.narrow(this, dim, start, length); }
  /** Elements [start, end) along dim. */
  public Tensor slice(int dim, long start, long end) { return narrow(dim, start, end - start); }
  /** Index `index` along dim, removing that dim. */
  public Tensor select(int dim, long index) {
    int d = Shapes.dim("select", dim, shape.length);
    return narrow(d, index, 1).squeeze(d);
  }
  public Tensor squeeze(int dim) { return ShapeOps.squeeze(this, dim); }
  public Tensor squeeze() { return ShapeOps.squeezeAll(this); }
  public Tensor unsqueeze(int dim) { return ShapeOps.unsqueeze(this, dim); }
  public Tensor expand(long... newShape) { return ShapeOps.expand(this, newShape); }
  /** This data in a contiguous layout (this tensor itself when it already is). */
  public Tensor contiguous() { return isContiguous() ? this : ElementwiseOps.contiguous(this); }

  Tensor contiguousCopy() { return ElementwiseOps.contiguous(this); }

  public static Tensor cat(List<Tensor> tensors, int dim) { return ShapeOps.cat(tensors, dim); }
  public static Tensor stack(List<Tensor> tensors, int dim) { return ShapeOps.stack(tensors, dim); }
  /** Pieces of `size` along dim (the last may be smaller); views. */
  public List<Tensor> split(long size, int dim) { return ShapeOps.split(this, size, dim); }
  /** `chunks` nearly equal pieces along dim; views. */
  public List<Tensor> chunk(int chunks, int dim) { return ShapeOps.chunk(this, chunks, dim); }

  // ---------------------------------------------------------------- indexing

  public Tensor indexSelect(int dim, Tensor index) { return IndexOps.indexSelect(this, dim, index); }
  public Tensor gather(int dim, Tensor index) { return IndexOps.gather(this, dim, index); }
  /** A copy of this with src added at index positions along dim. */
  public Tensor scatterAdd(int dim, Tensor index, Tensor src) { return IndexOps.scatterAdd(this, dim, index, src); }
  /** One-hot encoding of int64 class indices: shape + [numClasses], float32. */
  public static Tensor oneHot(Tensor indices, long numClasses) { return IndexOps.oneHot(indices, numClasses); }

  // ---------------------------------------------------------------- misc

  /** |this - other| <= atol + rtol * |other| everywhere (shapes must match). */
  public boolean allClose(Tensor other, double rtol, double atol) {
    if (!Shapes.same(shape, other.shape)) {
      return false;
    }
    double[] a = toDoubleArray();
    double[] b = other.toDoubleArray();
    for (int i = 0; i < a.length; i++) {
      if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))
          && !(Double.isNaN(a[i]) && Double.isNaN(b[i]))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return TensorFormatter.format(this);
  }

  /** The result of max/min along a dimension. */
  public record ValuesIndices(Tensor values, Tensor indices) {}
}
