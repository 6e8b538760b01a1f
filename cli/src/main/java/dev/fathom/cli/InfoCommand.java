package dev.fathom.cli;

import dev.fathom.Fathom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code fathom info}: the native runtime. */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Native runtime: versions, ISA, OpenBLAS core, threads, ABI.")
final class InfoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.print(Fathom.runtimeInfo());
    return 0;
  }
}
