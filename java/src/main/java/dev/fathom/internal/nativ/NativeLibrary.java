package dev.fathom.internal.nativ;

import dev.fathom.FathomException;
import dev.fathom.bindings.global.fathom;
import org.bytedeco.javacpp.Loader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native core once per JVM: JavaCPP extracts libfathom, its JNI
 * library and the preloaded OpenBLAS/oneDNN libraries from the platform jars
 * into its cache. A missing platform jar or a stale library becomes a
 * FathomException that says what to add, instead of an UnsatisfiedLinkError.
 */
final class NativeLibrary {
  private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
  private static volatile boolean loaded;

  private NativeLibrary() {}

  static void ensureLoaded() {
    if (!loaded) {
      load();
    }
  }

  private static synchronized void load() {
    if (loaded) {
      return;
    }
    // NOTE: JavaCPP calls System.gc() when its physical-memory estimate runs
    // high (javacpp#468); Fathom frees native memory deterministically instead.
    setDefault("org.bytedeco.javacpp.maxPhysicalBytes", "0");
    setDefault("org.bytedeco.javacpp.maxBytes", "0");
    setDefault("org.bytedeco.javacpp.logger", "slf4j");
    long start = System.nanoTime();
    try {
      Loader.load(fathom.class);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      throw new FathomException(
          FathomException.Status.UNSUPPORTED,
          "Fathom native libraries could not be loaded for platform '"
              + Loader.getPlatform()
              + "': add the dependency dev.fathom:fathom-presets with classifier '"
              + Loader.getPlatform()
              + "' (and org.bytedeco openblas/dnnl for that platform). Cause: "
              + e,
          e);
    }
    int abi = fathom.fathom_abi_version();
    if (abi != fathom.FATHOM_ABI_VERSION) {
      throw new FathomException(
          FathomException.Status.UNSUPPORTED,
          "Fathom native library has ABI version "
              + abi
              + " but these Java bindings expect "
              + fathom.FATHOM_ABI_VERSION
              + ": the fathom-presets jars on the class path come from different builds");
    }
    loaded = true;
    int threads = Integer.getInteger("fathom.threads", Runtime.getRuntime().availableProcessors());
    Kernels.check(fathom.fathom_set_num_threads(Math.max(1, threads)));
    long[] limit = new long[1];
    Kernels.check(fathom.fathom_memory_limit(limit));
    // The native core reads FATHOM_MAX_MEMORY_MB at load and ignores a value
    // that is not a number of MiB; say so rather than run without the limit silently.
    String env = System.getenv("FATHOM_MAX_MEMORY_MB");
    if (env != null && !env.isBlank() && limit[0] == 0 && !env.trim().matches("[+-]?0+")) {
      LOG.warn("FATHOM_MAX_MEMORY_MB={} is not a number of MiB: native memory is not limited", env);
    }
    LOG.debug(
        "Fathom native core loaded in {} ms ({} intra-op threads, memory limit {} bytes)",
        (System.nanoTime() - start) / 1_000_000,
        threads,
        limit[0]);
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
