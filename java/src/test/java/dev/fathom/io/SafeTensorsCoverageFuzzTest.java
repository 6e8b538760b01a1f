package dev.fathom.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fathom.FathomException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Coverage-guided fuzzing of the safetensors reader (Jazzer; see data.LoaderFuzzTest). */
class SafeTensorsCoverageFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void read(byte[] data) throws IOException {
    Path f = Files.createTempFile("fathom-fuzz", ".safetensors");
    try {
      Files.write(f, data);
      try (SafeTensors.Contents c = SafeTensors.read(f)) {
        c.tensors().values().forEach(t -> t.numel());
      }
    } catch (IllegalArgumentException | UncheckedIOException | FathomException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
    }
  }
}
