package dev.fathom.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.management.ManagementFactory;

/**
 * Coverage-guided fuzzing of image decoding (Jazzer; see data.LoaderFuzzTest): the
 * bytes of a POST /predict with Content-Type image/png, or of `fathom predict
 * --image FILE`. The seeds (ImagesFuzzTestInputs/decode/, written by
 * ImagesTest#writeSeeds) are small PNGs of every color type and several bit depths,
 * an interlaced one, a 1x1, a header that claims 100000 x 100000 pixels, and a
 * JPEG, GIF and BMP.
 *
 * <p>Contract: a result of the documented shape with every value in [0, 1], or an
 * IllegalArgumentException with a message; nothing else escapes (Jazzer reports
 * any other throwable), no input takes over 10 s, and no input makes the decoder
 * allocate more than {@link #ALLOCATION_BOUND} bytes (plus 16 per input byte) on the
 * Java heap. ci/fuzz.sh instruments ImageIO's readers too, so that coverage guides
 * the mutations inside the decoders; a plain run instruments only Fathom's classes.
 */
class ImagesFuzzTest {
  /** The most one input may allocate: far below what a decompression bomb would. */
  static final long ALLOCATION_BOUND = 32L << 20;
  /** The most one input may take (a JUnit @Timeout would bound the whole fuzzing run instead). */
  static final double TIME_BOUND_S = 10;
  /** The any-size decode's pixel limit: small, so that fuzzing stays fast. */
  static final long FUZZ_PIXELS = 1 << 16;

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  static {
    // Loads ImageIO's readers once, so that their class loading is not counted.
    for (byte[] seed : ImagesTest.seeds().values()) {
      try {
        Images.decode(seed, 0, 0, FUZZ_PIXELS);
      } catch (IllegalArgumentException refused) {
        // the bomb
      }
    }
  }

  @FuzzTest(maxDuration = "10s")
  void decode(byte[] data) {
    long start = System.nanoTime();
    long before = THREADS.getCurrentThreadAllocatedBytes();
    // The serving path: a 28x28 single-channel model.
    try {
      float[] px = Images.grayPixels(data, 28, 28);
      checkPixels(px, 28 * 28);
    } catch (IllegalArgumentException e) {
      checkMessage(e);
    }
    // Any size the header declares, up to a limit: the decoders past the size check.
    try {
      Images.Gray g = Images.decode(data, 0, 0, FUZZ_PIXELS);
      assertTrue(g.width() >= 1 && g.height() >= 1 && (long) g.width() * g.height() <= FUZZ_PIXELS,
          g.width() + "x" + g.height());
      checkPixels(g.pixels(), g.width() * g.height());
    } catch (IllegalArgumentException e) {
      checkMessage(e);
    }
    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated <= ALLOCATION_BOUND + 16L * data.length,
        "decoding " + data.length + " bytes allocated " + allocated + " bytes");
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(seconds < TIME_BOUND_S, "decoding " + data.length + " bytes took " + seconds + " s");
  }

  private static void checkPixels(float[] px, int n) {
    assertEquals(n, px.length);
    for (int i = 0; i < px.length; i++) {
      if (!(px[i] >= 0 && px[i] <= 1)) {
        throw new AssertionError("pixel " + i + " is " + px[i] + ", outside [0, 1]");
      }
    }
  }

  private static void checkMessage(IllegalArgumentException e) {
    String m = e.getMessage();
    if (m == null || m.isBlank() || m.endsWith(": null")) {
      throw new AssertionError("refusal without a clear message: " + m, e);
    }
  }
}
