package dev.fathom;

import dev.fathom.internal.nativ.TensorKernels;
import java.util.Locale;
import java.util.Objects;

/**
 * Where a tensor's memory lives: the host ({@link #cpu()}) or an NVIDIA GPU
 * ({@link #cuda(int)}), named as in PyTorch ("cpu", "cuda:0").
 *
 * <pre>{@code
 * Device gpu = Device.cudaDeviceCount() > 0 ? Device.cuda(0) : Device.cpu();
 * Tensor x = Tensor.randn(gen, 256, 784).to(gpu);
 * }</pre>
 *
 * <p>A GPU needs a native library built with {@code -DFATHOM_CUDA=ON} and an
 * NVIDIA driver; {@link #cudaDeviceCount()} is 0 otherwise, and moving a
 * tensor there fails with a {@link FathomException} (UNSUPPORTED) that says
 * why.
 */
public final class Device {
  /** The type of a device, with its fathom_device code. */
  public enum Type {
    CPU(0),
    CUDA(1);

    final int code;

    Type(int code) {
      this.code = code;
    }
  }

  private static final Device CPU = new Device(Type.CPU, 0);

  private final Type type;
  private final int ordinal;

  private Device(Type type, int ordinal) {
    this.type = type;
    this.ordinal = ordinal;
  }

  public static Device cpu() {
    return CPU;
  }

  /** GPU number `ordinal` (0-based, in CUDA's order). */
  public static Device cuda(int ordinal) {
    if (ordinal < 0 || ordinal > 0x7fffff) {
      throw new IllegalArgumentException("cuda: device ordinal " + ordinal + " is out of range");
    }
    return new Device(Type.CUDA, ordinal);
  }

  /** "cpu", "cuda" (= cuda:0) or "cuda:N", as {@link #toString()} writes them. */
  public static Device parse(String name) {
    String n = Objects.requireNonNull(name, "device name").trim().toLowerCase(Locale.ROOT);
    if (n.equals("cpu")) {
      return CPU;
    }
    if (n.equals("cuda") || n.equals("gpu")) {
      return cuda(0);
    }
    if (n.startsWith("cuda:")) {
      try {
        return cuda(Integer.parseInt(n.substring(5)));
      } catch (NumberFormatException e) {
        // falls through to the message below
      }
    }
    throw new IllegalArgumentException(
        "device: '" + name + "' is not a device; use cpu, cuda or cuda:N");
  }

  /** GPUs this process can use: 0 without a CUDA build of the native library, a driver or a GPU. */
  public static int cudaDeviceCount() {
    return TensorKernels.deviceCount(Type.CUDA.code);
  }

  public Type type() {
    return type;
  }

  public int ordinal() {
    return ordinal;
  }

  public boolean isCpu() {
    return type == Type.CPU;
  }

  /** Whether tensors can be placed here now (the host always; a GPU when it exists). */
  public boolean isAvailable() {
    return isCpu() || ordinal < cudaDeviceCount();
  }

  /** The native device code (fathom_device | ordinal << 8). */
  public int code() {
    return type.code | (ordinal << 8);
  }

  /** The device of a native device code. */
  public static Device ofCode(int code) {
    if (code == 0) {
      return CPU;
    }
    if ((code & 0xff) == Type.CUDA.code) {
      return cuda(code >>> 8);
    }
    throw new IllegalArgumentException("device: unknown device code 0x" + Integer.toHexString(code));
  }

  /** Live and cached bytes of this device's tensor allocator. */
  public long[] memory() {
    return TensorKernels.deviceMemory(code());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Device d && d.type == type && d.ordinal == ordinal;
  }

  @Override
  public int hashCode() {
    return type.hashCode() * 31 + ordinal;
  }

  @Override
  public String toString() {
    return isCpu() ? "cpu" : "cuda:" + ordinal;
  }
}
