package dev.fathom.train;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Console progress: a bar with the running loss, examples per second and ETA.
 * On a terminal it redraws one line (at most 10 times a second); otherwise
 * (logs, CI) it prints a line at every 10% of an epoch.
 */
public final class ProgressBar implements TrainListener {
  private final PrintStream out;
  private final boolean interactive;
  private final String label;
  private int epochs;
  private long batches;
  private long epochStart;
  private long lastDraw;
  private long lastTenth;
  private double runningLoss = Double.NaN;

  public ProgressBar() {
    this(System.err, System.console() != null);
  }

  public ProgressBar(PrintStream out, boolean interactive) {
    this(out, interactive, null);
  }

  /** A bar whose lines start with `label` (e.g. "eval") instead of "epoch e/E". */
  public ProgressBar(PrintStream out, boolean interactive, String label) {
    this.out = out;
    this.interactive = interactive;
    this.label = label;
  }

  @Override
  public void onFitStart(int epochs, long batchesPerEpoch) {
    this.epochs = epochs;
    this.batches = batchesPerEpoch;
  }

  @Override
  public void onFitResumed(List<EpochMetrics> earlierEpochs) {
    EpochMetrics last = earlierEpochs.get(earlierEpochs.size() - 1);
    out.printf(Locale.ROOT, "resuming after epoch %d/%d (test acc %.4f)%n", last.epoch(), epochs, last.testAcc());
    out.flush();
  }

  @Override
  public void onEpochStart(int epoch) {
    epochStart = System.nanoTime();
    lastDraw = 0;
    lastTenth = 0;
    runningLoss = Double.NaN;
  }

  @Override
  public void onBatchEnd(int epoch, long batch, long total, double loss, long examples) {
    runningLoss = Double.isNaN(runningLoss) ? loss : 0.98 * runningLoss + 0.02 * loss;
    long now = System.nanoTime();
    long tenth = total > 0 ? batch * 10 / total : 0;
    boolean draw = interactive ? now - lastDraw > 100_000_000L || batch == total : tenth > lastTenth;
    if (!draw) {
      return;
    }
    lastDraw = now;
    lastTenth = tenth;
    double elapsed = (now - epochStart) / 1e9;
    double rate = examples / Math.max(elapsed, 1e-9);
    double eta = batch > 0 ? elapsed * (total - batch) / batch : 0;
    String head = label != null ? label : String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs);
    String line = String.format(Locale.ROOT, "%s %s %d/%d loss %.4f %.0f ex/s ETA %s",
        head, bar(batch, total), batch, total, runningLoss, rate, time(eta));
    if (interactive) {
      out.print("\r" + line);
      if (batch == total) {
        out.println();
      }
    } else {
      out.println(line);
    }
    out.flush();
  }

  @Override
  public void onEpochEnd(EpochMetrics m) {
    out.printf(Locale.ROOT, "epoch %d/%d: train loss %.4f acc %.4f | test loss %.4f acc %.4f | %.1f s (%.0f ex/s)%n",
        m.epoch(), epochs, m.trainLoss(), m.trainAcc(), m.testLoss(), m.testAcc(), m.seconds(),
        m.examplesPerSecond());
    out.flush();
  }

  @Override
  public void onFitEnd(List<EpochMetrics> history) {
    out.flush();
  }

  private static String bar(long done, long total) {
    int width = 20;
    int filled = total > 0 ? (int) (width * done / total) : width;
    return "[" + "=".repeat(filled) + " ".repeat(width - filled) + "]";
  }

  private static String time(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
