package dev.fathom.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fathom.tensor.Tensor;

/** Leak check shared by the data tests: live native bytes must come back to a baseline. */
public final class NativeMemory {
  private NativeMemory() {}

  public static long baseline() {
    return Tensor.liveNativeBytes();
  }

  /** Fails unless exactly the native bytes live at {@code baseline} are live now. */
  public static void assertBackTo(long baseline) {
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked (or freed twice) by the test");
  }
}
