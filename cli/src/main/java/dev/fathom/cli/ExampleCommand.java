package dev.fathom.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code fathom example NAME [options]}: the curriculum's small examples. The
 * arguments go to {@link Examples}, which parses each example's own options
 * (the parser stops at NAME: see {@link Main#commandLine()}).
 */
@Command(name = "example", mixinStandardHelpOptions = true,
    description = {"Small examples from the curriculum (linreg, house-prices, svm).",
        "  linreg [--seed S]                       y = Xw + b + noise: recovers w = [2, -3.4], b = 4.2",
        "  house-prices [--data DIR] [--out DIR] [--folds K] [--epochs E] [--lr LR] [--weight-decay WD] [--seed S]",
        "                                          Kaggle house prices: 331 features, k-fold CV, log-RMSE",
        "  svm [--train N] [--test N] [--c C] [--gamma G] [--seed S]",
        "                                          T-shirt vs shirt: linear SVM, RBF SVM and MLP"})
final class ExampleCommand implements Callable<Integer> {
  @Parameters(paramLabel = "NAME", arity = "0..*", description = "the example and its options")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() {
    List<String> rest = new ArrayList<>(args);
    // The global --threads may follow the example's own options.
    int i = rest.indexOf("--threads");
    if (i >= 0 && i + 1 < rest.size()) {
      dev.fathom.Fathom.setNumThreads(Checks.atLeast("example", "--threads",
          Main.parseInt("--threads", rest.get(i + 1)), 1));
      rest.subList(i, i + 2).clear();
    }
    return Examples.run(rest);
  }
}
