package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_tensor_desc;
import dev.fathom.bindings.global.fathom;
import dev.fathom.bindings.global.fathom_bench;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.BytePointer;

/**
 * Tensor entry points of the C ABI. Operands are described in per-thread
 * native fathom_tensor_desc slots that Java fills through a ByteBuffer view
 * (plain memory stores, no JNI per field), so an op costs one JNI call.
 */
public final class TensorKernels {
  private TensorKernels() {}

  static {
    NativeLibrary.ensureLoaded();
    long size = Loader.sizeof(fathom_tensor_desc.class);
    if (size != Slots.DESC_BYTES) {
      throw new IllegalStateException("fathom_tensor_desc is " + size + " bytes, expected " + Slots.DESC_BYTES);
    }
  }

  public static final int MAX_DIMS = fathom.FATHOM_MAX_DIMS;

  /**
   * Descriptor slots, one contiguous native array per thread, so that a run of
   * slots is also a C array of descriptors (the RNN weights). Nine suffice for
   * every fixed-arity op (batch norm backward: 8).
   */
  public static final class Slots {
    static final int DESC_BYTES = 16 + 16 * 8 + 8;
    private static final int LAYOUT_AT = 16 + 16 * 8;
    private final fathom_tensor_desc block;
    private final fathom_tensor_desc[] descs;
    private final ByteBuffer view;

    private Slots(int capacity) {
      block = new fathom_tensor_desc(capacity);
      descs = new fathom_tensor_desc[capacity];
      for (int i = 0; i < capacity; i++) {
        descs[i] = block.getPointer(i);
      }
      view = view(block.address(), (long) capacity * DESC_BYTES);
    }

    public int capacity() {
      return descs.length;
    }

    /** Describes operand `slot`: element (0..0) at `address`, strides in elements, NCHW on the host. */
    public Slots set(int slot, long address, int dtype, long[] shape, long[] strides) {
      return set(slot, address, dtype, shape, strides, fathom.FATHOM_LAYOUT_NCHW);
    }

    /** The same, with the fathom_layout of the bytes (the descriptor's layout field). */
    public Slots set(int slot, long address, int dtype, long[] shape, long[] strides, int layout) {
      int at = slot * DESC_BYTES;
      ByteBuffer v = view;
      v.putLong(at, address);
      v.putInt(at + 8, dtype);
      v.putInt(at + 12, shape.length);
      for (int i = 0; i < shape.length; i++) {
        v.putLong(at + 16 + 8 * i, shape[i]);
        v.putLong(at + 80 + 8 * i, strides[i]);
      }
      v.putInt(at + LAYOUT_AT, layout);
      v.putInt(at + LAYOUT_AT + 4, fathom.FATHOM_DEVICE_CPU);
      return this;
    }

    /** Sets the layout field of an already described slot. */
    public Slots setLayout(int slot, int layout) {
      view.putInt(slot * DESC_BYTES + LAYOUT_AT, layout);
      return this;
    }

    /** Describes operand `slot` as `t` says. */
    public Slots set(int slot, NativeTensor t) {
      return set(slot, t.address(), t.dtype(), t.shape(), t.strides(), t.layout());
    }

    /** Slot `slot` (null for -1); slots slot, slot+1, ... follow it in memory. */
    fathom_tensor_desc get(int slot) {
      return slot < 0 ? null : descs[slot];
    }
  }

  private static final ThreadLocal<Slots> SLOTS = ThreadLocal.withInitial(() -> new Slots(9));
  private static final ThreadLocal<Slots> WIDE_SLOTS = new ThreadLocal<>();

  public static Slots slots() {
    return SLOTS.get();
  }

  private static final ThreadLocal<Slots> CONVERSION_SLOTS = ThreadLocal.withInitial(() -> new Slots(2));

  /**
   * Two slots of their own for layout conversions, which run while an op is
   * filling {@link #slots()} (an operand's address converts it on first use).
   */
  public static Slots conversionSlots() {
    return CONVERSION_SLOTS.get();
  }

  /** At least `capacity` slots (grown per thread as needed), for ops with operand lists. */
  public static Slots slots(int capacity) {
    Slots s = WIDE_SLOTS.get();
    if (s == null || s.capacity() < capacity) {
      s = new Slots(Math.max(capacity, 32));
      WIDE_SLOTS.set(s);
    }
    return s;
  }

  public static long alloc(long bytes) {
    long[] address = new long[1];
    Kernels.check(fathom.fathom_alloc(bytes, address));
    return address[0];
  }

  public static void free(long address) {
    Kernels.check(fathom.fathom_free(address));
  }

  public static long liveBytes() {
    long[] out = new long[1];
    Kernels.check(fathom.fathom_live_bytes(out));
    return out[0];
  }

  public static void unary(UnaryOp op, Slots s, int src, int dst, double alpha, double beta) {
    unary(op.code, s, src, dst, alpha, beta);
  }

  public static void binary(BinaryOp op, Slots s, int a, int b, int dst) {
    binary(op.code, s, a, b, dst);
  }

  public static void reduce(ReduceOp op, Slots s, int src, int dst, int indices) {
    reduce(op.code, s, src, dst, indices);
  }

  /** The native name of op `code` of family `family` (UnaryOp.FAMILY, ...). */
  public static String opName(int family, int code) {
    byte[] name = new byte[64];
    Kernels.check(fathom.fathom_op_name(family, code, name, name.length));
    int n = 0;
    while (n < name.length && name[n] != 0) {
      n++;
    }
    return new String(name, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
  }

  public static void unary(int op, Slots s, int src, int dst, double alpha, double beta) {
    Kernels.check(
        fathom.fathom_unary(op, src < 0 ? null : s.get(src), s.get(dst), alpha, beta));
  }

  public static void binary(int op, Slots s, int a, int b, int dst) {
    Kernels.check(fathom.fathom_binary(op, s.get(a), s.get(b), s.get(dst)));
  }

  public static void where(Slots s, int cond, int a, int b, int dst) {
    Kernels.check(fathom.fathom_where(s.get(cond), s.get(a), s.get(b), s.get(dst)));
  }

  public static void reduce(int op, Slots s, int src, int dst, int indices) {
    Kernels.check(
        fathom.fathom_reduce(op, s.get(src), s.get(dst), indices < 0 ? null : s.get(indices)));
  }

  public static void indexSelect(Slots s, int src, int dim, int index, int dst) {
    Kernels.check(fathom.fathom_index_select(s.get(src), dim, s.get(index), s.get(dst)));
  }

  public static void indexAdd(Slots s, int dst, int dim, int index, int src) {
    Kernels.check(fathom.fathom_index_add(s.get(dst), dim, s.get(index), s.get(src)));
  }

  public static void gather(Slots s, int src, int dim, int index, int dst) {
    Kernels.check(fathom.fathom_gather(s.get(src), dim, s.get(index), s.get(dst)));
  }

  public static void scatterAdd(Slots s, int dst, int dim, int index, int src) {
    Kernels.check(fathom.fathom_scatter_add(s.get(dst), dim, s.get(index), s.get(src)));
  }

  public static void random(int op, long seed, long offset, Slots s, int dst, double a, double b) {
    Kernels.check(fathom.fathom_random(op, seed, offset, s.get(dst), a, b));
  }

  public static void matmul(Slots s, int a, int b, int dst) {
    Kernels.check(fathom.fathom_matmul(s.get(a), s.get(b), s.get(dst)));
  }

  /** Seconds for `iterations` runs of a plain single-threaded C++ loop (benchmark baseline). */
  public static double benchPlainLoop(
      boolean unary, int op, long a, long b, long dst, long n, int iterations) {
    double[] seconds = new double[1];
    Kernels.check(
        fathom_bench.fathom_bench_plain_loop(unary ? 1 : 0, op, a, b, dst, n, iterations, seconds));
    return seconds[0];
  }

  /** A direct ByteBuffer over native memory (for bulk copies from and to Java arrays). */
  public static ByteBuffer view(long address, long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("view: " + bytes + " bytes exceed one ByteBuffer");
    }
    if (bytes == 0) {
      return ByteBuffer.allocate(0).order(ByteOrder.nativeOrder());
    }
    ByteBuffer b = new RawMemory(address, bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    if (b.capacity() != bytes) {
      throw new IllegalStateException("view: asked for " + bytes + " bytes, got " + b.capacity());
    }
    return b;
  }

  // NOTE: a BytePointer, whose element size is 1: a plain Pointer subclass
  // reports 8, and asByteBuffer() would span eight times the memory.
  private static final class RawMemory extends BytePointer {
    RawMemory(long address, long bytes) {
      this.address = address;
      this.limit = bytes;
      this.capacity = bytes;
    }
  }

  // Op codes as ints, from before the op enums (UnaryOp, BinaryOp, ReduceOp),
  // which the tensor package uses; kept for code outside it.
  /** @deprecated use {@link UnaryOp#COPY}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_COPY = fathom.FATHOM_UNARY_COPY;
  /** @deprecated use {@link UnaryOp#NEG}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_NEG = fathom.FATHOM_UNARY_NEG;
  /** @deprecated use {@link UnaryOp#ABS}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_ABS = fathom.FATHOM_UNARY_ABS;
  /** @deprecated use {@link UnaryOp#EXP}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_EXP = fathom.FATHOM_UNARY_EXP;
  /** @deprecated use {@link UnaryOp#LOG}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_LOG = fathom.FATHOM_UNARY_LOG;
  /** @deprecated use {@link UnaryOp#SQRT}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_SQRT = fathom.FATHOM_UNARY_SQRT;
  /** @deprecated use {@link UnaryOp#RSQRT}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_RSQRT = fathom.FATHOM_UNARY_RSQRT;
  /** @deprecated use {@link UnaryOp#SQUARE}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_SQUARE = fathom.FATHOM_UNARY_SQUARE;
  /** @deprecated use {@link UnaryOp#RECIPROCAL}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_RECIPROCAL = fathom.FATHOM_UNARY_RECIPROCAL;
  /** @deprecated use {@link UnaryOp#SIGMOID}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_SIGMOID = fathom.FATHOM_UNARY_SIGMOID;
  /** @deprecated use {@link UnaryOp#TANH}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_TANH = fathom.FATHOM_UNARY_TANH;
  /** @deprecated use {@link UnaryOp#RELU}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_RELU = fathom.FATHOM_UNARY_RELU;
  /** @deprecated use {@link UnaryOp#SIGN}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_SIGN = fathom.FATHOM_UNARY_SIGN;
  /** @deprecated use {@link UnaryOp#SIN}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_SIN = fathom.FATHOM_UNARY_SIN;
  /** @deprecated use {@link UnaryOp#COS}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_COS = fathom.FATHOM_UNARY_COS;
  /** @deprecated use {@link UnaryOp#LOG1P}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_LOG1P = fathom.FATHOM_UNARY_LOG1P;
  /** @deprecated use {@link UnaryOp#EXPM1}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_EXPM1 = fathom.FATHOM_UNARY_EXPM1;
  /** @deprecated use {@link UnaryOp#POW_SCALAR}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_POW_SCALAR = fathom.FATHOM_UNARY_POW_SCALAR;
  /** @deprecated use {@link UnaryOp#AFFINE}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_AFFINE = fathom.FATHOM_UNARY_AFFINE;
  /** @deprecated use {@link UnaryOp#CLAMP}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_CLAMP = fathom.FATHOM_UNARY_CLAMP;
  /** @deprecated use {@link UnaryOp#LEAKY_RELU}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_LEAKY_RELU = fathom.FATHOM_UNARY_LEAKY_RELU;
  /** @deprecated use {@link UnaryOp#FILL}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_FILL = fathom.FATHOM_UNARY_FILL;
  /** @deprecated use {@link UnaryOp#RANGE}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_RANGE = fathom.FATHOM_UNARY_RANGE;
  /** @deprecated use {@link UnaryOp#SOFTPLUS}. */
  @Deprecated(since = "0.7")
  public static final int UNARY_SOFTPLUS = fathom.FATHOM_UNARY_SOFTPLUS;

  /** @deprecated use {@link BinaryOp#ADD}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_ADD = fathom.FATHOM_BINARY_ADD;
  /** @deprecated use {@link BinaryOp#SUB}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_SUB = fathom.FATHOM_BINARY_SUB;
  /** @deprecated use {@link BinaryOp#MUL}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_MUL = fathom.FATHOM_BINARY_MUL;
  /** @deprecated use {@link BinaryOp#DIV}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_DIV = fathom.FATHOM_BINARY_DIV;
  /** @deprecated use {@link BinaryOp#POW}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_POW = fathom.FATHOM_BINARY_POW;
  /** @deprecated use {@link BinaryOp#MAX}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_MAX = fathom.FATHOM_BINARY_MAX;
  /** @deprecated use {@link BinaryOp#MIN}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_MIN = fathom.FATHOM_BINARY_MIN;
  /** @deprecated use {@link BinaryOp#EQ}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_EQ = fathom.FATHOM_BINARY_EQ;
  /** @deprecated use {@link BinaryOp#NE}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_NE = fathom.FATHOM_BINARY_NE;
  /** @deprecated use {@link BinaryOp#LT}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_LT = fathom.FATHOM_BINARY_LT;
  /** @deprecated use {@link BinaryOp#LE}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_LE = fathom.FATHOM_BINARY_LE;
  /** @deprecated use {@link BinaryOp#GT}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_GT = fathom.FATHOM_BINARY_GT;
  /** @deprecated use {@link BinaryOp#GE}. */
  @Deprecated(since = "0.7")
  public static final int BINARY_GE = fathom.FATHOM_BINARY_GE;

  /** @deprecated use {@link ReduceOp#SUM}. */
  @Deprecated(since = "0.7")
  public static final int REDUCE_SUM = fathom.FATHOM_REDUCE_SUM;
  /** @deprecated use {@link ReduceOp#MEAN}. */
  @Deprecated(since = "0.7")
  public static final int REDUCE_MEAN = fathom.FATHOM_REDUCE_MEAN;
  /** @deprecated use {@link ReduceOp#MAX}. */
  @Deprecated(since = "0.7")
  public static final int REDUCE_MAX = fathom.FATHOM_REDUCE_MAX;
  /** @deprecated use {@link ReduceOp#MIN}. */
  @Deprecated(since = "0.7")
  public static final int REDUCE_MIN = fathom.FATHOM_REDUCE_MIN;
  /** @deprecated use {@link ReduceOp#PROD}. */
  @Deprecated(since = "0.7")
  public static final int REDUCE_PROD = fathom.FATHOM_REDUCE_PROD;

  public static final int RANDOM_UNIFORM = fathom.FATHOM_RANDOM_UNIFORM;
  public static final int RANDOM_NORMAL = fathom.FATHOM_RANDOM_NORMAL;
  public static final int RANDOM_BERNOULLI = fathom.FATHOM_RANDOM_BERNOULLI;
}
