package dev.fathom.train;

/**
 * Stops training when a monitored metric has not improved by more than
 * minDelta for `patience` epochs. Losses improve downwards, accuracies upwards.
 *
 * <pre>{@code
 * new EarlyStopping("test_loss", 3)
 * }</pre>
 */
public final class EarlyStopping implements TrainListener {
  private final String monitor;
  private final int patience;
  private final double minDelta;
  private final boolean maximize;
  private double best;
  private int bad;
  private int bestEpoch;

  public EarlyStopping(String monitor, int patience) {
    this(monitor, patience, 0);
  }

  public EarlyStopping(String monitor, int patience, double minDelta) {
    if (!monitor.matches("(train|test)_(loss|acc)")) {
      throw new IllegalArgumentException("EarlyStopping: monitor must be train_loss, train_acc, "
          + "test_loss or test_acc, got '" + monitor + "'");
    }
    if (patience < 1) {
      throw new IllegalArgumentException("EarlyStopping: patience=" + patience + " must be >= 1");
    }
    this.monitor = monitor;
    this.patience = patience;
    this.minDelta = minDelta;
    this.maximize = monitor.endsWith("acc");
    this.best = maximize ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
  }

  @Override
  public void onEpochEnd(EpochMetrics m) {
    double v = switch (monitor) {
      case "train_loss" -> m.trainLoss();
      case "train_acc" -> m.trainAcc();
      case "test_loss" -> m.testLoss();
      default -> m.testAcc();
    };
    boolean improved = maximize ? v > best + minDelta : v < best - minDelta;
    if (improved) {
      best = v;
      bestEpoch = m.epoch();
      bad = 0;
    } else {
      bad++;
    }
  }

  @Override
  public boolean shouldStop() {
    return bad >= patience;
  }

  public int bestEpoch() {
    return bestEpoch;
  }

  public double best() {
    return best;
  }
}
