package dev.fathom;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the native core was built with and decided at run time: versions, the
 * oneDNN ISA, the OpenBLAS core, thread settings, the allocator's counts and
 * memory limit, and CUDA devices.
 *
 * <pre>{@code
 * RuntimeInfo info = Fathom.runtimeInfo();
 * System.out.println(info.oneDnnIsa() + " / " + info.openBlasCore());
 * }</pre>
 */
public final class RuntimeInfo {
  private final Map<String, String> values;

  RuntimeInfo(Map<String, String> values) {
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** Parses the native "key=value" lines. */
  static RuntimeInfo parse(String text) {
    Map<String, String> map = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        map.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return new RuntimeInfo(map);
  }

  /** Every entry, in native order; keys are stable across releases. */
  public Map<String, String> asMap() {
    return values;
  }

  public String get(String key) {
    return values.getOrDefault(key, "");
  }

  public String version() {
    return get("fathom.version");
  }

  public int abiVersion() {
    return Integer.parseInt(get("fathom.abi_version"));
  }

  public String oneDnnVersion() {
    return get("onednn.version");
  }

  public String oneDnnIsa() {
    return get("onednn.isa");
  }

  public String openBlasCore() {
    return get("openblas.core");
  }

  public String openBlasConfig() {
    return get("openblas.config");
  }

  public int intraOpThreads() {
    return Integer.parseInt(get("threads.intra_op"));
  }

  /** The limit on native tensor memory in bytes ({@link Fathom#setMemoryLimit}); 0 when unlimited. */
  public long memoryLimit() {
    String v = get("alloc.memory_limit");
    return v.isEmpty() ? 0 : Long.parseLong(v);
  }

  public int cudaDevices() {
    String v = get("cuda.devices");
    return v.isEmpty() ? 0 : Integer.parseInt(v);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    values.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
    return sb.toString();
  }
}
