package dev.fathom.cli;

import dev.fathom.io.AtomicFiles;
import dev.fathom.train.EpochMetrics;
import dev.fathom.train.TrainListener;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws loss and accuracy per epoch, train and test, into a PNG (JFreeChart),
 * rewritten after every epoch (to a temporary file, then renamed) so it always
 * shows the run so far. Runs headless: it sets {@code java.awt.headless=true}
 * unless the property was set, so it works on servers and in CI.
 *
 * <pre>{@code
 * trainer.fit(train, test, new ProgressBar(), new CurvesPlot(Path.of("runs/lenet/curves.png"), "LeNet"));
 * }</pre>
 */
public final class CurvesPlot implements TrainListener {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  private final Path file;
  private final String title;
  private final List<EpochMetrics> epochs = new ArrayList<>();

  public CurvesPlot(Path file, String title) {
    this.file = file;
    this.title = title;
  }

  @Override
  public void onFitStart(int epochCount, long batchesPerEpoch) {
    epochs.clear();
  }

  @Override
  public void onFitResumed(List<EpochMetrics> earlierEpochs) {
    epochs.addAll(earlierEpochs);
  }

  @Override
  public void onEpochEnd(EpochMetrics m) {
    epochs.add(m);
    write();
  }

  /** Writes the chart of the epochs seen so far. */
  public void write() {
    XYSeries trainLoss = new XYSeries("train loss");
    XYSeries testLoss = new XYSeries("test loss");
    XYSeries trainAcc = new XYSeries("train accuracy");
    XYSeries testAcc = new XYSeries("test accuracy");
    for (EpochMetrics m : epochs) {
      add(trainLoss, m.epoch(), m.trainLoss());
      add(testLoss, m.epoch(), m.testLoss());
      add(trainAcc, m.epoch(), m.trainAcc());
      add(testAcc, m.epoch(), m.testAcc());
    }
    write(file, title, List.of(new Panel("loss", List.of(trainLoss, testLoss), false),
        new Panel("accuracy", List.of(trainAcc, testAcc), true)));
  }

  /** One stacked chart: a y-axis label and its series; unitRange pins the axis top at 1 (accuracies). */
  public record Panel(String label, List<XYSeries> series, boolean unitRange) {}

  /**
   * Writes panels sharing an epoch axis into a PNG, atomically (temporary file,
   * then rename), so a reader never sees half a file.
   */
  public static void write(Path file, String title, List<Panel> panels) {
    NumberAxis epochAxis = new NumberAxis("epoch");
    epochAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(epochAxis);
    plot.setGap(12);
    for (Panel p : panels) {
      plot.add(subplot(p.label(), p.series(), p.unitRange()), 1);
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    try {
      AtomicFiles.write(file, ch -> ChartUtils.writeChartAsPNG(Channels.newOutputStream(ch), chart, 900, 640));
    } catch (IOException e) {
      throw new UncheckedIOException("curves: cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private static void add(XYSeries s, int epoch, double v) {
    if (Double.isFinite(v)) {
      s.add(epoch, v);
    }
  }

  private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c)};

  private static XYPlot subplot(String label, List<XYSeries> series, boolean unitRange) {
    XYSeriesCollection data = new XYSeriesCollection();
    NumberAxis axis = new NumberAxis(label);
    axis.setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    double lo = Double.POSITIVE_INFINITY;
    int points = 0;
    for (int i = 0; i < series.size(); i++) {
      data.addSeries(series.get(i));
      r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
      r.setSeriesStroke(i, new BasicStroke(2f));
      lo = Math.min(lo, min(series.get(i)));
      points += series.get(i).getItemCount();
    }
    XYPlot plot = new XYPlot(data, null, axis, r);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    if (unitRange && points > 0) {
      axis.setRange(Math.max(0, lo - 0.02), 1.0);
    }
    return plot;
  }

  private static double min(XYSeries s) {
    return s.getItemCount() == 0 ? Double.POSITIVE_INFINITY : s.getMinY();
  }
}
