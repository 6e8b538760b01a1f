/*
 * JavaCPP preset for the benchmark-only entry points (native/include/fathom/fathom_bench.h),
 * kept apart from the product's C ABI. Generates dev.fathom.bindings.global.fathom_bench; it
 * links the same libfathom, which the main preset loads first.
 */
package dev.fathom.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

@Properties(
    inherit = fathom.class,
    target = "dev.fathom.bindings",
    global = "dev.fathom.bindings.global.fathom_bench",
    value = {
      @Platform(
          value = {"linux-x86_64", "linux-arm64", "macosx-arm64", "windows-x86_64"},
          include = "fathom/fathom_bench.h",
          link = "fathom")
    })
public class fathom_bench implements InfoMapper {
  @Override
  public void map(InfoMap infoMap) {
    infoMap.put(new Info("FATHOM_FATHOM_BENCH_H").cppTypes().annotations());
  }
}
