package dev.fathom.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fathom.FathomException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzz targets for the data loaders (Jazzer). Without
 * JAZZER_FUZZ=1 each runs its committed regression inputs (resources
 * LoaderFuzzTestInputs/<method>/); ci/fuzz.sh fuzzes for longer. A loader may
 * refuse its input only with the exceptions it documents.
 */
class LoaderFuzzTest {
  private static Path file(String suffix, byte[] data) throws IOException {
    Path f = Files.createTempFile("fathom-fuzz", suffix);
    f.toFile().deleteOnExit();
    Files.write(f, data);
    return f;
  }

  @FuzzTest(maxDuration = "10s")
  void idxImages(byte[] data) throws IOException {
    Path f = file("-images-idx3-ubyte", data);
    try {
      IdxFile.readUnsignedBytes(f, 3);
    } catch (IllegalArgumentException | UncheckedIOException | IOException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void idxLabelsGzip(byte[] data) throws IOException {
    Path f = file("-labels-idx1-ubyte.gz", data);
    try {
      IdxFile.readUnsignedBytes(f, 1);
    } catch (IllegalArgumentException | UncheckedIOException | IOException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void csv(byte[] data) {
    try {
      CsvTable.parse(new String(data, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | UncheckedIOException | FathomException expected) {
      // refused with a message
    }
  }
}
