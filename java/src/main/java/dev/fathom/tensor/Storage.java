package dev.fathom.tensor;

import dev.fathom.internal.nativ.CnnKernels;
import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reference-counted native memory shared by a tensor and its views. The last
 * release frees it at once; the Cleaner only catches storages that became
 * unreachable while still referenced (a leak, logged with its allocation site
 * when -Dfathom.leakSites=true).
 *
 * <p>Layout: the bytes are row-major for the tensor's shape, except after
 * {@link #markBlocked}: then they hold one (N, C, H, W) tensor in oneDNN's
 * nChw16c order, which convolution, batch norm and same-shape elementwise ops
 * read and write as is, so that a run of such layers needs no reorders
 * between them. Every other access goes through {@link #ensurePlain}, which
 * converts the data once into a fresh NCHW block, the layout boundary
 * (fathom_convert_layout). The blocked block stays allocated until the storage
 * is released, so an op on another thread that was handed its address keeps
 * valid memory: no address an op holds is freed under it. Views read the
 * current address per call.
 */
final class Storage {
  private static final Logger LOG = LoggerFactory.getLogger(Storage.class);
  private static final Cleaner CLEANER = Cleaner.create();
  private static final boolean TRACK_SITES = Boolean.getBoolean("fathom.leakSites");

  volatile long address;
  final long bytes;
  /** Native device code of the memory (0: host); GPU storages are never nChw16c. */
  final int device;
  /** The (N, C, H, W) shape and dtype code of nChw16c contents; null when row-major. */
  private volatile long[] blockedShape;
  private int blockedDtype;
  private final AtomicInteger refs = new AtomicInteger(1);
  private final Freer freer;
  private final Cleaner.Cleanable cleanable;

  private Storage(long address, long bytes, int device) {
    this.address = address;
    this.bytes = bytes;
    this.device = device;
    this.freer = new Freer(address, bytes, device,
        TRACK_SITES ? new Throwable("allocated here") : null);
    this.cleanable = CLEANER.register(this, freer);
  }

  static Storage allocate(long bytes) {
    return new Storage(TensorKernels.alloc(bytes), bytes, 0);
  }

  /** Storage in the memory of the device with native code `device`. */
  static Storage allocate(int device, long bytes) {
    if (device == 0) {
      return allocate(bytes);
    }
    return new Storage(TensorKernels.deviceAlloc(device, bytes), bytes, device);
  }

  void markBlocked(long[] shape, int dtypeCode) {
    blockedDtype = dtypeCode;
    blockedShape = shape.clone();
  }

  long[] blockedShape() {
    return blockedShape;
  }

  /** Converts nChw16c contents to row-major NCHW (once; later calls return at once). */
  void ensurePlain() {
    if (blockedShape == null) {
      return;
    }
    synchronized (this) {
      long[] shape = blockedShape;
      if (shape == null) {
        return;
      }
      long fresh = TensorKernels.alloc(bytes);
      try {
        Slots s = TensorKernels.conversionSlots();
        long[] strides = Shapes.contiguousStrides(shape);
        s.set(0, address, blockedDtype, shape, strides);
        s.set(1, fresh, blockedDtype, shape, strides);
        CnnKernels.convertLayout(s, 0, CnnKernels.LAYOUT_NCHW16C, 1, CnnKernels.LAYOUT_NCHW);
      } catch (RuntimeException e) {
        TensorKernels.free(fresh);
        throw e;
      }
      if (freer.blockedAddress != 0) {
        TensorKernels.free(freer.blockedAddress);  // a second conversion (not done today)
      }
      freer.blockedAddress = address;
      address = fresh;
      freer.address = fresh;
      blockedShape = null;
    }
  }

  void retain() {
    if (refs.getAndIncrement() <= 0) {
      refs.decrementAndGet();
      throw new IllegalStateException("storage was already freed");
    }
  }

  void release() {
    int left = refs.decrementAndGet();
    if (left == 0) {
      freer.explicit = true;
      cleanable.clean();
    } else if (left < 0) {
      throw new IllegalStateException("storage released more often than retained");
    }
  }

  boolean isFreed() {
    return refs.get() <= 0;
  }

  // NOTE: holds the raw address, never the Storage: a cleaning action that
  // referenced its object would keep it reachable forever.
  private static final class Freer implements Runnable {
    volatile long address;
    /** The nChw16c block a conversion left behind (0 when none), freed with the storage. */
    volatile long blockedAddress;
    private final long bytes;
    private final int device;
    private final Throwable site;
    volatile boolean explicit;

    Freer(long address, long bytes, int device, Throwable site) {
      this.address = address;
      this.bytes = bytes;
      this.device = device;
      this.site = site;
    }

    @Override
    public void run() {
      if (!explicit) {
        if (site != null) {
          LOG.warn("Leaked tensor storage of {} bytes freed by the garbage collector", bytes, site);
        } else {
          LOG.debug("Leaked tensor storage of {} bytes freed by the garbage collector", bytes);
        }
      }
      if (device != 0) {
        TensorKernels.deviceFree(device, address);
        return;
      }
      TensorKernels.free(address);
      if (blockedAddress != 0) {
        TensorKernels.free(blockedAddress);
      }
    }
  }
}
