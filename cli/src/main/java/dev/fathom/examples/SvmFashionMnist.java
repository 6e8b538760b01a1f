package dev.fathom.examples;

import dev.fathom.data.DataLoader;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.data.preprocess.Standardizer;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.SGD;
import dev.fathom.svm.Kernel;
import dev.fathom.svm.KernelSVM;
import dev.fathom.svm.LinearSVM;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.Trainer;
import dev.fathom.zoo.Models;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code fathom example svm}: the hardest pair of Fashion-MNIST classes, T-shirt/top (0)
 * against shirt (6), learned by a linear SVM, an RBF-kernel SVM and the MLP (784-256-2),
 * each on the same few thousand standardized training images, scored on every test image
 * of the two classes (2,000). Prints test accuracy and seconds for each.
 *
 * <pre>{@code
 * ./fathom example svm [--train 4000] [--test 2000] [--c 3] [--gamma 0.00128] [--seed 0]
 * }</pre>
 */
public final class SvmFashionMnist {
  private SvmFashionMnist() {}

  /**
   * Budget and hyperparameters; gamma <= 0 means 1 / features (standardized pixels have unit
   * variance). The defaults were picked on a validation split (the next 2,000 training images
   * of the two classes), not on the test set: lambda 1e-4..1e-2 x lr 1e-2..1e-3 for the linear
   * SVM, C 1..30 x gamma 0.5..2 / 784 for the RBF SVM, lr 0.003..0.05 x 10..20 epochs for the MLP.
   */
  public record Config(int trainSize, int testSize, double lambda, double linearLr, int linearEpochs, double c,
      double gamma, double mlpLr, int mlpEpochs, long seed) {
    public static Config defaults() {
      return new Config(4000, 2000, 1e-3, 1e-3, 20, 3, 0, 0.01, 10, 0);
    }
  }

  /** One line of the table. */
  public record Row(String model, double testAccuracy, double fitSeconds, double predictSeconds, String notes) {}

  /** Parses {@code --train N --test N --c C --gamma G --seed S} (defaults from {@link Config#defaults()}). */
  public static int run(List<String> args, PrintStream out) {
    Config d = Config.defaults();
    int train = d.trainSize();
    int test = d.testSize();
    double c = d.c();
    double gamma = d.gamma();
    long seed = d.seed();
    for (int i = 0; i < args.size(); i++) {
      String name = args.get(i);
      if (i + 1 >= args.size()) {
        throw new IllegalArgumentException("example svm: " + name + " needs a value");
      }
      String v = args.get(++i);
      switch (name) {
        case "--train" -> train = Integer.parseInt(v);
        case "--test" -> test = Integer.parseInt(v);
        case "--c" -> c = Double.parseDouble(v);
        case "--gamma" -> gamma = Double.parseDouble(v);
        case "--seed" -> seed = Long.parseLong(v);
        default -> throw new IllegalArgumentException("example svm: unknown argument '" + name
            + "' (known: --train, --test, --c, --gamma, --seed)");
      }
    }
    if (train < 2 || test < 1) {
      throw new IllegalArgumentException("example svm: --train " + train + " must be >= 2 and --test " + test
          + " >= 1");
    }
    run(new Config(train, test, d.lambda(), d.linearLr(), d.linearEpochs(), c, gamma, d.mlpLr(), d.mlpEpochs(), seed),
        out);
    return 0;
  }

  public static List<Row> run(Config cfg, PrintStream out) {
    Tensor xTrain;
    Tensor yTrain;
    Tensor xTest;
    Tensor yTest;
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor[] train = pair(FashionMnist.Split.TRAIN, cfg.trainSize());
      Tensor[] test = pair(FashionMnist.Split.TEST, cfg.testSize());
      Standardizer standardizer = Standardizer.fit(train[0]);
      // The four tensors leave the scope (unscoped): the try below closes them.
      xTrain = standardizer.transform(train[0]).unscope();
      xTest = standardizer.transform(test[0]).unscope();
      yTrain = train[1].unscope();
      yTest = test[1].unscope();
    }
    try (xTrain; yTrain; xTest; yTest) {
      long n = xTrain.size(0);
      out.printf(Locale.ROOT, "Fashion-MNIST %s (0) vs %s (6): %d training and %d test images, standardized pixels%n",
          FashionMnist.CLASS_NAMES.get(0), FashionMnist.CLASS_NAMES.get(6), n, xTest.size(0));
      List<Row> rows = new ArrayList<>();
      try (LinearSVM linear = LinearSVM.builder().lambda(cfg.lambda()).learningRate(cfg.linearLr())
          .epochs(cfg.linearEpochs()).seed(cfg.seed()).build()) {
        long t0 = System.nanoTime();
        linear.fit(xTrain, yTrain);
        long t1 = System.nanoTime();
        double acc = linear.accuracy(xTest, yTest);
        rows.add(new Row("linear SVM (hinge + L2, SGD)", acc, seconds(t0, t1), seconds(t1, System.nanoTime()),
            String.format(Locale.ROOT, "lambda=%s, lr %s, %d epochs", cfg.lambda(), cfg.linearLr(),
                cfg.linearEpochs())));
      }
      double gamma = cfg.gamma() > 0 ? cfg.gamma() : 1.0 / xTrain.size(1);
      // A row cache that holds every kernel row (n^2 doubles) if half the heap allows, so each
      // row is computed once and in blocks; the 200 MB default holds 6,500 rows of 4,000, and
      // past that SMO recomputes evicted rows one at a time (about 4x slower at n = 12,000).
      long cacheMb = Math.max(200, Math.min(n * n * 8 / (1 << 20) + 1, Runtime.getRuntime().maxMemory() / 2 >> 20));
      try (KernelSVM rbf = KernelSVM.builder(Kernel.rbf(gamma)).c(cfg.c()).cacheMegabytes(cacheMb).build()) {
        long t0 = System.nanoTime();
        rbf.fit(xTrain, yTrain);
        long t1 = System.nanoTime();
        double acc = rbf.accuracy(xTest, yTest);
        rows.add(new Row("RBF SVM (SMO, dual)", acc, seconds(t0, t1), seconds(t1, System.nanoTime()),
            String.format(Locale.ROOT, "C=%s, gamma=%.3g, %d support vectors, %d SMO iterations", cfg.c(), gamma,
                rbf.numSupportVectors(), rbf.fitReport().iterations()[0])));
      }
      rows.add(mlp(cfg, xTrain, yTrain, xTest, yTest));
      out.printf(Locale.ROOT, "%-30s %9s %8s %10s  %s%n", "model", "test acc", "fit s", "predict s", "notes");
      for (Row r : rows) {
        out.printf(Locale.ROOT, "%-30s %9.4f %8.2f %10.3f  %s%n", r.model(), r.testAccuracy(), r.fitSeconds(),
            r.predictSeconds(), r.notes());
      }
      return rows;
    }
  }

  /** The project's MLP (zoo mlp, 784-256-2, ReLU) trained with the Trainer; labels 0/1. */
  private static Row mlp(Config cfg, Tensor xTrain, Tensor yTrain, Tensor xTest, Tensor yTest) {
    Generator gen = new Generator(cfg.seed());
    try (TensorDataset train = new TensorDataset(xTrain.detach(), yTrain.detach());
        TensorDataset test = new TensorDataset(xTest.detach(), yTest.detach());
        Sequential net = Models.mlp(2, 0, gen);
        SGD sgd = SGD.builder(net.parameters(), cfg.mlpLr()).momentum(0.9).build();
        DataLoader trainLoader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(cfg.seed()).build();
        DataLoader testLoader = DataLoader.builder(test).batchSize(500).build()) {
      Trainer trainer = Trainer.builder(net, new CrossEntropyLoss(), sgd).epochs(cfg.mlpEpochs()).build();
      long t0 = System.nanoTime();
      trainer.fit(trainLoader, null);
      long t1 = System.nanoTime();
      double acc = trainer.evaluate(testLoader).accuracy();
      return new Row("MLP 784-256-2 (Trainer)", acc, seconds(t0, t1), seconds(t1, System.nanoTime()),
          String.format(Locale.ROOT, "SGD lr %s momentum 0.9, %d epochs", cfg.mlpLr(), cfg.mlpEpochs()));
    }
  }

  /**
   * The first {@code limit} images of classes 0 and 6 in file order: x [n, 784], y int64
   * [n] with 0 for T-shirt/top and 1 for shirt. Joins the caller's scope.
   */
  static Tensor[] pair(FashionMnist.Split split, int limit) {
    try (TensorDataset all = FashionMnist.load(split)) {
      long[] labels = all.labels().toLongArray();
      long[] index = new long[Math.min(limit, labels.length)];
      long[] y = new long[index.length];
      int n = 0;
      for (int i = 0; i < labels.length && n < index.length; i++) {
        if (labels[i] == 0 || labels[i] == 6) {
          y[n] = labels[i] == 6 ? 1 : 0;
          index[n++] = i;
        }
      }
      Tensor x = all.features().indexSelect(0, Tensor.fromArray(java.util.Arrays.copyOf(index, n), n))
          .reshape(n, FashionMnist.SIZE * FashionMnist.SIZE);
      return new Tensor[] {x, Tensor.fromArray(java.util.Arrays.copyOf(y, n), n)};
    }
  }

  private static double seconds(long from, long to) {
    return (to - from) / 1e9;
  }
}
