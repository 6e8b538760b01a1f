/*
 * JavaCPP preset for Fathom's C ABI. It parses only native/include/fathom/fathom.h
 * and generates dev.fathom.bindings (committed under src/gen/java). It is not an
 * API for users: java/'s internal.nativ package is the bindings' only caller.
 *
 * The bytedeco OpenBLAS and oneDNN libraries are preloaded from their own jars
 * instead of inheriting their presets, which would re-parse dnnl.hpp and drag
 * OpenCL in (docs/design.md, build facts). fathom_env is preloaded first so the
 * thread pools read Fathom's passive-wait defaults when they start.
 */
package dev.fathom.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

@Properties(
    target = "dev.fathom.bindings",
    global = "dev.fathom.bindings.global.fathom",
    value = {
      @Platform(
          value = {"linux-x86_64", "linux-arm64", "macosx-arm64", "windows-x86_64"},
          include = "fathom/fathom.h",
          link = "fathom",
          preload = {
            "fathom_env",
            "gcc_s@.1",
            "quadmath@.0",
            "gfortran@.5",
            "openblas@.0",
            "gomp@.1",
            "dnnl@.3"
          },
          preloadresource = {"/org/bytedeco/openblas/", "/org/bytedeco/dnnl/"})
    })
public class fathom implements InfoMapper {
  @Override
  public void map(InfoMap infoMap) {
    infoMap
        .put(new Info("FATHOM_API").cppTypes().annotations())
        .put(new Info("defined(_WIN32) && defined(FATHOM_BUILDING)", "defined(_WIN32)").define(false))
        .put(new Info("__cplusplus").define(false))
        .put(new Info("FATHOM_FATHOM_H").cppTypes().annotations());
  }
}
