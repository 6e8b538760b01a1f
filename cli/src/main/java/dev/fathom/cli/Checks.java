package dev.fathom.cli;

/** Range checks of option values; failures are bad arguments (exit code 2). */
final class Checks {
  private Checks() {}

  static int atLeast(String command, String option, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(command + ": " + option + " must be >= " + min + ", got " + value);
    }
    return value;
  }

  static double within(String command, String option, double value, double min, double max) {
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(command + ": " + option + " must be in [" + min + ", " + max + "], got "
          + value);
    }
    return value;
  }
}
