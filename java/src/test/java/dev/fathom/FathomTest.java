package dev.fathom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FathomTest {
  @Test
  void runtimeInfoComesFromTheLoadedNativeCore() {
    RuntimeInfo info = Fathom.runtimeInfo();
    assertEquals(9, info.abiVersion());
    assertTrue(info.oneDnnVersion().startsWith("3."), info.toString());
    assertFalse(info.oneDnnIsa().isEmpty(), info.toString());
    assertTrue(info.openBlasConfig().startsWith("OpenBLAS"), info.toString());
    assertEquals("omp", info.get("onednn.cpu_runtime"));
  }

  @Test
  void idleThreadsSleepInsteadOfSpinningByDefault() {
    // Set by libfathom_env before libgomp starts, unless the user chose otherwise.
    String userPolicy = System.getenv("OMP_WAIT_POLICY");
    String expected = userPolicy == null ? "PASSIVE" : userPolicy;
    assertEquals(expected, Fathom.runtimeInfo().get("env.OMP_WAIT_POLICY"));
  }

  @Test
  void threadBudgetIsSetAndValidated() {
    int saved = Fathom.numThreads();
    try {
      Fathom.setNumThreads(1);
      assertEquals(1, Fathom.numThreads());
      assertEquals(1, Fathom.runtimeInfo().intraOpThreads());
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Fathom.setNumThreads(0));
      assertTrue(e.getMessage().contains("setNumThreads: n=0"), e.getMessage());
    } finally {
      Fathom.setNumThreads(saved);
    }
  }

  @Test
  void defaultBudgetFollowsAvailableProcessors() {
    // NativeLibrary applies availableProcessors() unless -Dfathom.threads is set.
    Integer configured = Integer.getInteger("fathom.threads");
    if (configured == null) {
      int n = Fathom.numThreads();
      assertTrue(n >= 1);
    }
  }
}
