package dev.fathom.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the examples and the language models read their data by default. */
final class Examples {
  private Examples() {}

  /** $FATHOM_DATA_DIR, else the team's shared data folder next to the repository. */
  static String defaultDataDir() {
    String env = System.getenv("FATHOM_DATA_DIR");
    if (env != null) {
      return env;
    }
    Path shared = Path.of("../shared/data");
    return Files.isDirectory(shared) ? shared.toString() : "data";
  }
}
