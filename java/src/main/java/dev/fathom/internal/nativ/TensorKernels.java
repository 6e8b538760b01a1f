package dev.fathom.internal.nativ;

import dev.fathom.bindings.fathom_tensor_desc;
import dev.fathom.bindings.global.fathom;
import dev.fathom.bindings.global.fathom_bench;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

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

    /** The same, with the device code of the memory `address` points into. */
    public Slots set(int slot, long address, int dtype, long[] shape, long[] strides, int layout,
        int device) {
      set(slot, address, dtype, shape, strides, layout);
      view.putInt(slot * DESC_BYTES + LAYOUT_AT + 4, device);
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

  /** Devices of a fathom_device type (1 for the host; GPUs, possibly 0, for CUDA). */
  public static int deviceCount(int type) {
    int[] count = new int[1];
    Kernels.check(fathom.fathom_device_count(type, count));
    return count[0];
  }

  /** Tensor storage on the device with native code `device` (the host for 0). */
  public static long deviceAlloc(int device, long bytes) {
    long[] address = new long[1];
    Kernels.check(fathom.fathom_device_alloc(device, bytes, address));
    return address[0];
  }

  public static void deviceFree(int device, long address) {
    Kernels.check(fathom.fathom_device_free(device, address));
  }

  /** Copies `bytes` contiguous bytes between any two devices; returns when done. */
  public static void deviceCopy(int dstDevice, long dst, int srcDevice, long src, long bytes) {
    Kernels.check(fathom.fathom_device_copy(dstDevice, dst, srcDevice, src, bytes));
  }

  /** {live, cached} bytes of one device's allocator. */
  public static long[] deviceMemory(int device) {
    long[] live = new long[1];
    long[] cached = new long[1];
    Kernels.check(fathom.fathom_device_memory(device, live, cached));
    return new long[] {live[0], cached[0]};
  }

  public static long liveBytes() {
    long[] out = new long[1];
    Kernels.check(fathom.fathom_live_bytes(out));
    return out[0];
  }

  public static void unary(UnaryOp op, Slots s, int src, int dst, double alpha, double beta) {
    Kernels.check(
        fathom.fathom_unary(op.code, src < 0 ? null : s.get(src), s.get(dst), alpha, beta));
  }

  public static void binary(BinaryOp op, Slots s, int a, int b, int dst) {
    Kernels.check(fathom.fathom_binary(op.code, s.get(a), s.get(b), s.get(dst)));
  }

  public static void where(Slots s, int cond, int a, int b, int dst) {
    Kernels.check(fathom.fathom_where(s.get(cond), s.get(a), s.get(b), s.get(dst)));
  }

  public static void reduce(ReduceOp op, Slots s, int src, int dst, int indices) {
    Kernels.check(
        fathom.fathom_reduce(op.code, s.get(src), s.get(dst), indices < 0 ? null : s.get(indices)));
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

  /**
   * The native name of op `code` in the table of `kind` (UnaryOp.KIND,
   * BinaryOp.KIND, ReduceOp.KIND), or null when native has no such op.
   */
  public static String opName(int kind, int code) {
    BytePointer name = new BytePointer((Pointer) null);
    int status = fathom.fathom_op_name(kind, code, name);
    if (status == fathom.FATHOM_INVALID_ARGUMENT) {
      return null;
    }
    Kernels.check(status);
    return name.getString();
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

  // Op codes, re-exported so that the tensor package never sees the bindings.
  // Deprecated: the unary, binary and reduce codes are UnaryOp, BinaryOp and
  // ReduceOp (X.code); these int aliases stay for code that passes raw codes
  // (the benchmarks).
  @Deprecated public static final int UNARY_COPY = fathom.FATHOM_UNARY_COPY;
  @Deprecated public static final int UNARY_NEG = fathom.FATHOM_UNARY_NEG;
  @Deprecated public static final int UNARY_ABS = fathom.FATHOM_UNARY_ABS;
  @Deprecated public static final int UNARY_EXP = fathom.FATHOM_UNARY_EXP;
  @Deprecated public static final int UNARY_LOG = fathom.FATHOM_UNARY_LOG;
  @Deprecated public static final int UNARY_SQRT = fathom.FATHOM_UNARY_SQRT;
  @Deprecated public static final int UNARY_RSQRT = fathom.FATHOM_UNARY_RSQRT;
  @Deprecated public static final int UNARY_SQUARE = fathom.FATHOM_UNARY_SQUARE;
  @Deprecated public static final int UNARY_RECIPROCAL = fathom.FATHOM_UNARY_RECIPROCAL;
  @Deprecated public static final int UNARY_SIGMOID = fathom.FATHOM_UNARY_SIGMOID;
  @Deprecated public static final int UNARY_TANH = fathom.FATHOM_UNARY_TANH;
  @Deprecated public static final int UNARY_RELU = fathom.FATHOM_UNARY_RELU;
  @Deprecated public static final int UNARY_SIGN = fathom.FATHOM_UNARY_SIGN;
  @Deprecated public static final int UNARY_SIN = fathom.FATHOM_UNARY_SIN;
  @Deprecated public static final int UNARY_COS = fathom.FATHOM_UNARY_COS;
  @Deprecated public static final int UNARY_LOG1P = fathom.FATHOM_UNARY_LOG1P;
  @Deprecated public static final int UNARY_EXPM1 = fathom.FATHOM_UNARY_EXPM1;
  @Deprecated public static final int UNARY_POW_SCALAR = fathom.FATHOM_UNARY_POW_SCALAR;
  @Deprecated public static final int UNARY_AFFINE = fathom.FATHOM_UNARY_AFFINE;
  @Deprecated public static final int UNARY_CLAMP = fathom.FATHOM_UNARY_CLAMP;
  @Deprecated public static final int UNARY_LEAKY_RELU = fathom.FATHOM_UNARY_LEAKY_RELU;
  @Deprecated public static final int UNARY_FILL = fathom.FATHOM_UNARY_FILL;
  @Deprecated public static final int UNARY_RANGE = fathom.FATHOM_UNARY_RANGE;
  @Deprecated public static final int UNARY_SOFTPLUS = fathom.FATHOM_UNARY_SOFTPLUS;

  @Deprecated public static final int BINARY_ADD = fathom.FATHOM_BINARY_ADD;
  @Deprecated public static final int BINARY_SUB = fathom.FATHOM_BINARY_SUB;
  @Deprecated public static final int BINARY_MUL = fathom.FATHOM_BINARY_MUL;
  @Deprecated public static final int BINARY_DIV = fathom.FATHOM_BINARY_DIV;
  @Deprecated public static final int BINARY_POW = fathom.FATHOM_BINARY_POW;
  @Deprecated public static final int BINARY_MAX = fathom.FATHOM_BINARY_MAX;
  @Deprecated public static final int BINARY_MIN = fathom.FATHOM_BINARY_MIN;
  @Deprecated public static final int BINARY_EQ = fathom.FATHOM_BINARY_EQ;
  @Deprecated public static final int BINARY_NE = fathom.FATHOM_BINARY_NE;
  @Deprecated public static final int BINARY_LT = fathom.FATHOM_BINARY_LT;
  @Deprecated public static final int BINARY_LE = fathom.FATHOM_BINARY_LE;
  @Deprecated public static final int BINARY_GT = fathom.FATHOM_BINARY_GT;
  @Deprecated public static final int BINARY_GE = fathom.FATHOM_BINARY_GE;

  @Deprecated public static final int REDUCE_SUM = fathom.FATHOM_REDUCE_SUM;
  @Deprecated public static final int REDUCE_MEAN = fathom.FATHOM_REDUCE_MEAN;
  @Deprecated public static final int REDUCE_MAX = fathom.FATHOM_REDUCE_MAX;
  @Deprecated public static final int REDUCE_MIN = fathom.FATHOM_REDUCE_MIN;
  @Deprecated public static final int REDUCE_PROD = fathom.FATHOM_REDUCE_PROD;

  public static final int RANDOM_UNIFORM = fathom.FATHOM_RANDOM_UNIFORM;
  public static final int RANDOM_NORMAL = fathom.FATHOM_RANDOM_NORMAL;
  public static final int RANDOM_BERNOULLI = fathom.FATHOM_RANDOM_BERNOULLI;
}
