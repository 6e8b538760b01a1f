package dev.fathom.train;

/**
 * One epoch's results. Accuracies are NaN when the task has no class labels;
 * test values are NaN when no test loader was given.
 */
public record EpochMetrics(
    int epoch,
    double trainLoss,
    double trainAcc,
    double testLoss,
    double testAcc,
    double seconds,
    long trainExamples) {

  /** Training examples per second in this epoch (training phase and evaluation included). */
  public double examplesPerSecond() {
    return seconds > 0 ? trainExamples / seconds : 0;
  }
}
