package dev.fathom.text;

import dev.fathom.train.MetricsCsv;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Language-model metrics, one row per epoch under the header
 * {@code epoch,train_loss,perplexity,seconds}, flushed after every row.
 *
 * @deprecated since 0.7: the one metrics writer is {@link MetricsCsv}; use
 *     {@code MetricsCsv.table(path, LanguageModelTrainer.EpochResult.CSV_COLUMNS)}, which writes the same bytes.
 */
@Deprecated(since = "0.7")
public final class PerplexityCsv implements Consumer<LanguageModelTrainer.EpochResult>, AutoCloseable {
  public static final String HEADER = "epoch,train_loss,perplexity,seconds";
  private final MetricsCsv.Table<LanguageModelTrainer.EpochResult> table;

  /** Creates (or truncates) the file and writes the header. */
  public PerplexityCsv(Path path) {
    table = MetricsCsv.table(path, LanguageModelTrainer.EpochResult.CSV_COLUMNS);
  }

  @Override
  public void accept(LanguageModelTrainer.EpochResult r) {
    table.accept(r);
  }

  @Override
  public void close() {
    table.close();
  }
}
