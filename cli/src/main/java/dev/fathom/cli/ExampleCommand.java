package dev.fathom.cli;

import dev.fathom.examples.HousePrices;
import dev.fathom.examples.LinearRegression;
import dev.fathom.examples.SvmFashionMnist;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fathom example NAME [options]}: the curriculum's small examples, one subcommand each. */
@Command(name = "example", mixinStandardHelpOptions = true,
    description = {"Small examples from the curriculum (linreg, house-prices, svm).",
        "  linreg [--seed S]                       y = Xw + b + noise: recovers w = [2, -3.4], b = 4.2",
        "  house-prices [--data DIR] [--out DIR] [--folds K] [--epochs E] [--lr LR] [--weight-decay WD] [--seed S]",
        "                                          Kaggle house prices: 331 features, k-fold CV, log-RMSE",
        "  svm [--train N] [--test N] [--c C] [--gamma G] [--seed S]",
        "                                          T-shirt vs shirt: linear SVM, RBF SVM and MLP",
        "  spark [--master URL] [--workers N] [--model NAME] [--epochs E] [--batch-size B] [--out DIR] ...",
        "                                          data-parallel training on Spark (docs/spark.md); the ./fathom",
        "                                          launcher runs it in a JVM with Spark on the class path"},
    subcommands = {ExampleCommand.Linreg.class, ExampleCommand.HousePricesExample.class, ExampleCommand.Svm.class})
final class ExampleCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new IllegalArgumentException("example: expected linreg, house-prices or svm");
  }

  @Command(name = "linreg", mixinStandardHelpOptions = true,
      description = "y = Xw + b + noise: recovers w = [2, -3.4], b = 4.2")
  static final class Linreg implements Callable<Integer> {
    @Option(names = "--seed", paramLabel = "S", description = "seed of the data and the initialisation (default 0)")
    long seed;

    @Override
    public Integer call() {
      LinearRegression.run(seed, System.out);
      return 0;
    }
  }

  @Command(name = "house-prices", mixinStandardHelpOptions = true, sortOptions = false,
      description = "Kaggle house prices: 331 features, k-fold CV, log-RMSE")
  static final class HousePricesExample implements Callable<Integer> {
    private static final HousePrices.Config DEFAULTS = HousePrices.Config.defaults();

    @Option(names = "--data", paramLabel = "DIR",
        description = "folder with the Kaggle CSV files (default: the data folder)")
    String data;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default runs/house-prices)")
    Path out = Path.of("runs/house-prices");

    @Option(names = "--folds", paramLabel = "K", description = "cross-validation folds (default ${DEFAULT-VALUE})")
    int folds = DEFAULTS.folds();

    @Option(names = "--epochs", paramLabel = "E", description = "epochs per fold (default ${DEFAULT-VALUE})")
    int epochs = DEFAULTS.epochs();

    @Option(names = "--lr", paramLabel = "LR", description = "learning rate (default ${DEFAULT-VALUE})")
    double lr = DEFAULTS.lr();

    @Option(names = "--weight-decay", paramLabel = "WD", description = "L2 weight decay (default ${DEFAULT-VALUE})")
    double weightDecay = DEFAULTS.weightDecay();

    @Option(names = "--seed", paramLabel = "S", description = "seed (default ${DEFAULT-VALUE})")
    long seed = DEFAULTS.seed();

    @Override
    public Integer call() {
      String command = "example house-prices";
      HousePrices.Config cfg = new HousePrices.Config(Checks.atLeast(command, "--folds", folds, 2),
          Checks.atLeast(command, "--epochs", epochs, 1), DEFAULTS.batchSize(),
          Checks.within(command, "--lr", lr, 0, 10),
          Checks.within(command, "--weight-decay", weightDecay, 0, 100), DEFAULTS.hidden(), seed);
      HousePrices.run(Path.of(data != null ? data : Examples.defaultDataDir()), out, cfg, System.out);
      return 0;
    }
  }

  @Command(name = "svm", mixinStandardHelpOptions = true, sortOptions = false,
      description = "T-shirt vs shirt: linear SVM, RBF SVM and MLP")
  static final class Svm implements Callable<Integer> {
    private static final SvmFashionMnist.Config DEFAULTS = SvmFashionMnist.Config.defaults();

    @Option(names = "--train", paramLabel = "N", description = "training images (default ${DEFAULT-VALUE})")
    int train = DEFAULTS.trainSize();

    @Option(names = "--test", paramLabel = "N", description = "test images (default ${DEFAULT-VALUE})")
    int test = DEFAULTS.testSize();

    @Option(names = "--c", paramLabel = "C", description = "the RBF SVM's C (default ${DEFAULT-VALUE})")
    double c = DEFAULTS.c();

    @Option(names = "--gamma", paramLabel = "G",
        description = "the RBF kernel's gamma; <= 0: 1/784 (default ${DEFAULT-VALUE})")
    double gamma = DEFAULTS.gamma();

    @Option(names = "--seed", paramLabel = "S", description = "seed (default ${DEFAULT-VALUE})")
    long seed = DEFAULTS.seed();

    @Override
    public Integer call() {
      if (train < 2 || test < 1) {
        throw new IllegalArgumentException("example svm: --train " + train + " must be >= 2 and --test " + test
            + " >= 1");
      }
      SvmFashionMnist.run(new SvmFashionMnist.Config(train, test, DEFAULTS.lambda(), DEFAULTS.linearLr(),
          DEFAULTS.linearEpochs(), c, gamma, DEFAULTS.mlpLr(), DEFAULTS.mlpEpochs(), seed), System.out);
      return 0;
    }
  }
}
