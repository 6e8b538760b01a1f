package dev.fathom.svm;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions shared by the SVM tests. */
final class SvmTesting {
  private SvmTesting() {}

  /** The exception's message contains every part (op name, shapes, the offending value). */
  static void assertMessage(Exception e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }
  }
}
