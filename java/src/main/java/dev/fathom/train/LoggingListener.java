package dev.fathom.train;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs each epoch's metrics through SLF4J (logger dev.fathom.train). */
public final class LoggingListener implements TrainListener {
  private static final Logger LOG = LoggerFactory.getLogger("dev.fathom.train");

  @Override
  public void onEpochEnd(EpochMetrics m) {
    LOG.info("epoch {}: train_loss={} train_acc={} test_loss={} test_acc={} seconds={} ex/s={}",
        m.epoch(), fmt(m.trainLoss()), fmt(m.trainAcc()), fmt(m.testLoss()), fmt(m.testAcc()),
        String.format(java.util.Locale.ROOT, "%.1f", m.seconds()),
        String.format(java.util.Locale.ROOT, "%.0f", m.examplesPerSecond()));
  }

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.4f", v);
  }
}
