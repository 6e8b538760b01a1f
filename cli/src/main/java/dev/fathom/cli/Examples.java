package dev.fathom.cli;

import dev.fathom.examples.HousePrices;
import dev.fathom.examples.LinearRegression;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code fathom example linreg|house-prices|svm}. */
final class Examples {
  private Examples() {}

  static int run(List<String> raw) {
    if (raw.isEmpty()) {
      throw new IllegalArgumentException("example: expected linreg, house-prices or svm");
    }
    String name = raw.get(0);
    List<String> rest = raw.subList(1, raw.size());
    switch (name) {
      case "linreg": {
        Args a = new Args("example linreg", rest, List.of("--seed"), List.of());
        LinearRegression.run(a.longValue("--seed", 0), System.out);
        return 0;
      }
      case "house-prices": {
        Args a = new Args("example house-prices", rest,
            List.of("--data", "--out", "--folds", "--epochs", "--lr", "--weight-decay", "--seed"), List.of());
        HousePrices.Config d = HousePrices.Config.defaults();
        HousePrices.Config cfg = new HousePrices.Config(a.integer("--folds", d.folds(), 2),
            a.integer("--epochs", d.epochs(), 1), d.batchSize(), a.number("--lr", d.lr(), 0, 10),
            a.number("--weight-decay", d.weightDecay(), 0, 100), d.hidden(), a.longValue("--seed", d.seed()));
        Path data = Path.of(a.string("--data", defaultDataDir()));
        HousePrices.run(data, Path.of(a.string("--out", "runs/house-prices")), cfg, System.out);
        return 0;
      }
      case "svm":
        return dev.fathom.examples.SvmFashionMnist.run(rest, System.out);
      default:
        throw new IllegalArgumentException("example: unknown example '" + name + "' (linreg, house-prices, svm)");
    }
  }

  /** $FATHOM_DATA_DIR, else the team's shared data folder next to the repository. */
  static String defaultDataDir() {
    String env = System.getenv("FATHOM_DATA_DIR");
    if (env != null) {
      return env;
    }
    Path shared = Path.of("../shared/data");
    return Files.isDirectory(shared) ? shared.toString() : "data";
  }
}
