package dev.fathom.text;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fathom.FathomException;
import dev.fathom.io.SafeTensors;
import dev.fathom.tensor.Generator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/** Coverage-guided fuzzing of the text loaders (Jazzer; see data.LoaderFuzzTest). */
class TextFuzzTest {
  @FuzzTest(maxDuration = "10s")
  void vocab(byte[] data) throws IOException {
    Path f = Files.createTempFile("fathom-fuzz", "-vocab.json");
    try {
      Files.write(f, data);
      Vocab.load(f);
    } catch (IllegalArgumentException | UncheckedIOException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void corpus(byte[] data) throws IOException {
    Path f = Files.createTempFile("fathom-fuzz", ".txt");
    try {
      Files.write(f, data);
      TextCorpus.read(f, 1 << 16);
    } catch (IllegalArgumentException | UncheckedIOException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
    }
  }

  /** A checkpoint directory whose model.json and vocab.json are fuzzed (weights absent or empty). */
  @FuzzTest(maxDuration = "10s")
  void languageModelCheckpoint(FuzzedDataProvider in) throws IOException {
    Path dir = Files.createTempDirectory("fathom-fuzz-lm");
    try {
      Files.writeString(dir.resolve("model.json"), in.consumeString(4096));
      Files.writeString(dir.resolve("vocab.json"), in.consumeString(4096));
      if (in.consumeBoolean()) {
        Files.write(dir.resolve("model.safetensors"), in.consumeRemainingAsBytes());
      }
      try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(dir)) {
        lm.vocab().size();
      }
    } catch (IllegalArgumentException | UncheckedIOException | FathomException expected) {
      // refused with a message
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * A single-file checkpoint whose metadata (architecture and vocabulary JSON) is fuzzed around
   * real weights of a 4-token RNN, so that the size and shape checks are reached too.
   */
  @FuzzTest(maxDuration = "10s")
  void languageModelFile(FuzzedDataProvider in) throws IOException {
    Path f = Files.createTempFile("fathom-fuzz-lm", ".safetensors");
    try (CharLanguageModel seed = new CharLanguageModel(
        new CharLanguageModel.Config(CharLanguageModel.Cell.RNN, 4, in.consumeInt(1, 8), 1, 0, false),
        new Generator(1))) {
      SafeTensors.save(seed.stateDict(), Map.of(LanguageModelCheckpoint.CONFIG_KEY, in.consumeString(4096),
          LanguageModelCheckpoint.VOCAB_KEY, in.consumeRemainingAsString()), f);
      try (LanguageModelCheckpoint.Loaded lm = LanguageModelCheckpoint.load(f)) {
        lm.vocab().size();
      }
    } catch (IllegalArgumentException | UncheckedIOException | FathomException expected) {
      // refused with a message
    } finally {
      Files.deleteIfExists(f);
    }
  }
}
