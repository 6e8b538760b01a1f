package dev.fathom.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Writes one row per epoch to a CSV file with the header
 * {@code epoch,train_loss,train_acc,test_loss,test_acc,seconds}, flushed after
 * every row so a crashed or interrupted run keeps what it measured.
 *
 * <p>{@link #table} is the same writer over other columns and rows, e.g. the language
 * models' {@code epoch,train_loss,perplexity,seconds}
 * ({@code LanguageModelTrainer.EpochResult.CSV_COLUMNS}).
 */
public final class MetricsCsv implements TrainListener, AutoCloseable {
  public static final String HEADER = "epoch,train_loss,train_acc,test_loss,test_acc,seconds";
  /** The columns of {@link #HEADER}; NaN (e.g. no test set) is written as an empty cell. */
  public static final List<Column<EpochMetrics>> COLUMNS = List.of(
      new Column<>("epoch", m -> Integer.toString(m.epoch())),
      new Column<>("train_loss", m -> num(m.trainLoss())),
      new Column<>("train_acc", m -> num(m.trainAcc())),
      new Column<>("test_loss", m -> num(m.testLoss())),
      new Column<>("test_acc", m -> num(m.testAcc())),
      new Column<>("seconds", m -> String.format(Locale.ROOT, "%.3f", m.seconds())));
  private final Path path;
  private Table<EpochMetrics> table;

  /** A column: its header name and the text of its cell in a row. */
  public record Column<R>(String name, Function<? super R, String> cell) {}

  /** A CSV file of rows of type R under fixed columns; the header is written on opening, each row flushed. */
  public static final class Table<R> implements Consumer<R>, AutoCloseable {
    private final Path path;
    private final List<Column<R>> columns;
    private Writer writer;

    private Table(Path path, List<Column<R>> columns) {
      this.path = path;
      this.columns = List.copyOf(columns);
      try {
        if (path.toAbsolutePath().getParent() != null) {
          Files.createDirectories(path.toAbsolutePath().getParent());
        }
        writer = Files.newBufferedWriter(path);
        writer.write(header() + "\n");
        writer.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("metrics: cannot write " + path + ": " + e.getMessage(), e);
      }
    }

    public String header() {
      return columns.stream().map(Column::name).collect(Collectors.joining(","));
    }

    /** Appends one row. */
    @Override
    public void accept(R row) {
      try {
        writer.write(columns.stream().map(c -> c.cell().apply(row)).collect(Collectors.joining(","))
            + System.lineSeparator());
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

  /** Creates (or truncates) `path` and writes the header of `columns`. */
  public static <R> Table<R> table(Path path, List<Column<R>> columns) {
    return new Table<>(path, columns);
  }

  public MetricsCsv(Path path) {
    this.path = path;
  }

  @Override
  public void onFitStart(int epochs, long batchesPerEpoch) {
    close();
    table = table(path, COLUMNS);
  }

  /** A resumed run rewrites the rows of the epochs before the checkpoint. */
  @Override
  public void onFitResumed(List<EpochMetrics> earlierEpochs) {
    earlierEpochs.forEach(this::onEpochEnd);
  }

  @Override
  public void onEpochEnd(EpochMetrics m) {
    table.accept(m);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
  }

  @Override
  public void onFitEnd(List<EpochMetrics> history) {
    close();
  }

  @Override
  public void close() {
    if (table != null) {
      table.close();
      table = null;
    }
  }
}
