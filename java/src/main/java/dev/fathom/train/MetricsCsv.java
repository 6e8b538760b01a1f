package dev.fathom.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes one row per epoch to a CSV file with the header
 * {@code epoch,train_loss,train_acc,test_loss,test_acc,seconds}, flushed after
 * every row so a crashed or interrupted run keeps what it measured.
 */
public final class MetricsCsv implements TrainListener, AutoCloseable {
  public static final String HEADER = "epoch,train_loss,train_acc,test_loss,test_acc,seconds";
  private final Path path;
  private Writer writer;

  public MetricsCsv(Path path) {
    this.path = path;
  }

  @Override
  public void onFitStart(int epochs, long batchesPerEpoch) {
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      writer = Files.newBufferedWriter(path);
      writer.write(HEADER + "\n");
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot write " + path, e);
    }
  }

  /** A resumed run rewrites the rows of the epochs before the checkpoint. */
  @Override
  public void onFitResumed(java.util.List<EpochMetrics> earlierEpochs) {
    earlierEpochs.forEach(this::onEpochEnd);
  }

  @Override
  public void onEpochEnd(EpochMetrics m) {
    try {
      writer.write(String.format(Locale.ROOT, "%d,%s,%s,%s,%s,%.3f%n", m.epoch(), num(m.trainLoss()),
          num(m.trainAcc()), num(m.testLoss()), num(m.testAcc()), m.seconds()));
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("metrics: cannot write " + path, e);
    }
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
  }

  @Override
  public void onFitEnd(java.util.List<EpochMetrics> history) {
    close();
  }

  @Override
  public void close() {
    if (writer != null) {
      try {
        writer.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      writer = null;
    }
  }
}
