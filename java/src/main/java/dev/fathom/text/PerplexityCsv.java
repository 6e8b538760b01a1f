package dev.fathom.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Language-model metrics, one row per epoch under the header
 * {@code epoch,train_loss,perplexity,seconds}, flushed after every row (as train.MetricsCsv).
 *
 * <pre>{@code
 * try (PerplexityCsv csv = new PerplexityCsv(out.resolve("metrics.csv"))) {
 *   trainer.fit(sampler, List.of(new ProgressBar()), csv);
 * }
 * }</pre>
 */
public final class PerplexityCsv implements Consumer<LanguageModelTrainer.EpochResult>, AutoCloseable {
  public static final String HEADER = "epoch,train_loss,perplexity,seconds";
  private final Path path;
  private Writer writer;

  /** Creates (or truncates) the file and writes the header. */
  public PerplexityCsv(Path path) {
    this.path = path;
    try {
      if (path.toAbsolutePath().getParent() != null) {
        Files.createDirectories(path.toAbsolutePath().getParent());
      }
      writer = Files.newBufferedWriter(path);
      writer.write(HEADER + "\n");
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot write " + path + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void accept(LanguageModelTrainer.EpochResult r) {
    try {
      writer.write(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.3f%n", r.epoch(), r.trainLoss(), r.perplexity(),
          r.seconds()));
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot write " + path + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    if (writer != null) {
      try {
        writer.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        writer = null;
      }
    }
  }
}
