package dev.fathom.examples;

import dev.fathom.data.CsvTable;
import dev.fathom.data.DataLoader;
import dev.fathom.data.TensorDataset;
import dev.fathom.data.preprocess.TabularPreprocessor;
import dev.fathom.loss.MSELoss;
import dev.fathom.nn.Linear;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.Adam;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Kaggle house prices, as in the notes: numeric features standardised (missing
 * -> 0 = the mean), categorical ones one-hot encoded with an NA indicator
 * (categories from train and test, 331 features), k-fold cross-validation,
 * and the competition's metric, the RMSE of log prices.
 *
 * <p>The model regresses log(SalePrice) directly with the mean squared error,
 * so its validation loss is the log-RMSE itself (the notes train on raw prices
 * and take logs only to evaluate; regressing logs is better conditioned). An
 * MLP 331-64-1 with ReLU, Adam and weight decay (L2) gets about 0.13-0.16.
 */
public final class HousePrices {
  /** Hyperparameters. */
  public record Config(int folds, int epochs, int batchSize, double lr, double weightDecay, int hidden, long seed) {
    public static Config defaults() {
      return new Config(5, 60, 64, 0.005, 0.01, 64, 0);
    }
  }

  /** Mean train and validation log-RMSE over the folds. */
  public record Result(double trainLogRmse, double validLogRmse, int features) {}

  private HousePrices() {}

  public static Result run(Path dataDir, Path outDir, Config cfg, PrintStream out) {
    Path trainCsv = dataDir.resolve("kaggle_house_pred_train.csv");
    Path testCsv = dataDir.resolve("kaggle_house_pred_test.csv");
    for (Path p : List.of(trainCsv, testCsv)) {
      if (!Files.isRegularFile(p)) {
        throw new UncheckedIOException(new IOException("house-prices: " + p + " not found; pass --data DIR "
            + "with kaggle_house_pred_train.csv and kaggle_house_pred_test.csv"));
      }
    }
    CsvTable train = CsvTable.read(trainCsv);
    CsvTable test = CsvTable.read(testCsv);
    List<String> features = train.columnsExcept("Id", "SalePrice");
    TabularPreprocessor prep = TabularPreprocessor.builder(features).build().fit(train, test);
    out.printf(Locale.ROOT, "house prices: %d train rows, %d test rows, %d features after preprocessing%n",
        train.numRows(), test.numRows(), prep.numFeatures());
    double[] prices = train.numericColumn("SalePrice");
    // Centred log prices: the model then starts near the answer instead of
    // spending its first thousand steps moving a bias to ~12.
    double[] logPrices = new double[prices.length];
    double mean = 0;
    for (int i = 0; i < prices.length; i++) {
      logPrices[i] = Math.log(prices[i]);
      mean += logPrices[i] / prices.length;
    }
    for (int i = 0; i < prices.length; i++) {
      logPrices[i] -= mean;
    }
    Tensor labels;
    try (Scope s = Scope.open()) {
      labels = s.keep(Tensor.fromArray(logPrices, prices.length, 1).to(DType.FLOAT32));
    }
    try (Tensor x = prep.transform(train); Tensor y = labels) {
      double trainSum = 0;
      double validSum = 0;
      long n = prices.length;
      for (int fold = 0; fold < cfg.folds(); fold++) {
        long lo = n * fold / cfg.folds();
        long hi = n * (fold + 1) / cfg.folds();
        double[] r = fold(x, y, lo, hi, cfg, fold);
        out.printf(Locale.ROOT, "fold %d: train log rmse %.4f, valid log rmse %.4f%n", fold + 1, r[0], r[1]);
        trainSum += r[0];
        validSum += r[1];
      }
      Result result = new Result(trainSum / cfg.folds(), validSum / cfg.folds(), prep.numFeatures());
      out.printf(Locale.ROOT, "%d-fold validation: avg train log rmse %.4f, avg valid log rmse %.4f%n",
          cfg.folds(), result.trainLogRmse(), result.validLogRmse());
      if (outDir != null) {
        writePredictions(x, y, mean, prep.transform(test), test, cfg, outDir.resolve("submission.csv"), out);
      }
      return result;
    }
  }

  private static Module model(int features, Config cfg, Generator gen) {
    return new Sequential(new Linear(features, cfg.hidden(), true, gen), new ReLU(),
        new Linear(cfg.hidden(), 1, true, gen));
  }

  /** Trains on rows outside [lo, hi) and returns {train, valid} log-RMSE. */
  private static double[] fold(Tensor x, Tensor y, long lo, long hi, Config cfg, int fold) {
    long n = x.size(0);
    Tensor trainX;
    Tensor trainY;
    Tensor validX;
    Tensor validY;
    try (Scope s = Scope.open()) {
      trainX = s.keep(Tensor.cat(List.of(x.narrow(0, 0, lo), x.narrow(0, hi, n - hi)), 0)).unscope();
      trainY = s.keep(Tensor.cat(List.of(y.narrow(0, 0, lo), y.narrow(0, hi, n - hi)), 0)).unscope();
      validX = s.keep(x.narrow(0, lo, hi - lo).contiguous().mul(1.0)).unscope();
      validY = s.keep(y.narrow(0, lo, hi - lo).contiguous().mul(1.0)).unscope();
    }
    Generator gen = new Generator(cfg.seed() + fold);
    try (TensorDataset trainSet = new TensorDataset(trainX, trainY);
        TensorDataset validSet = new TensorDataset(validX, validY);
        Module net = model((int) x.size(1), cfg, gen);
        Adam adam = new Adam(net.parameters(), cfg.lr(), 0.9, 0.999, 1e-8, cfg.weightDecay());
        DataLoader trainLoader = DataLoader.builder(trainSet).batchSize(cfg.batchSize()).shuffle(true)
            .seed(cfg.seed() + fold).build();
        DataLoader evalTrain = DataLoader.builder(trainSet).batchSize(512).build();
        DataLoader evalValid = DataLoader.builder(validSet).batchSize(512).build()) {
      Trainer trainer = Trainer.builder(net, new MSELoss(), adam).epochs(cfg.epochs()).build();
      trainer.fit(trainLoader, null);
      return new double[] {Math.sqrt(trainer.evaluate(evalTrain).loss()),
          Math.sqrt(trainer.evaluate(evalValid).loss())};
    }
  }

  private static void writePredictions(Tensor x, Tensor y, double meanLog, Tensor testX, CsvTable test, Config cfg,
      Path file, PrintStream out) {
    Generator gen = new Generator(cfg.seed());
    Tensor xAll;
    Tensor yAll;
    try (Scope s = Scope.open()) {
      xAll = s.keep(x.mul(1.0)).unscope();
      yAll = s.keep(y.mul(1.0)).unscope();
    }
    try (TensorDataset all = new TensorDataset(xAll, yAll);
        Module net = model((int) x.size(1), cfg, gen);
        Adam adam = new Adam(net.parameters(), cfg.lr(), 0.9, 0.999, 1e-8, cfg.weightDecay());
        DataLoader loader = DataLoader.builder(all).batchSize(cfg.batchSize()).shuffle(true).seed(cfg.seed()).build();
        testX) {
      Trainer.builder(net, new MSELoss(), adam).epochs(cfg.epochs()).build().fit(loader, null);
      float[] logPred;
      try (GradMode.Guard g = GradMode.disable(); Scope s = Scope.open()) {
        net.eval();
        logPred = net.forward(testX).toFloatArray();
      }
      Files.createDirectories(file.getParent());
      try (Writer w = Files.newBufferedWriter(file)) {
        w.write("Id,SalePrice\n");
        for (int i = 0; i < logPred.length; i++) {
          w.write(test.get(i, "Id") + "," + String.format(Locale.ROOT, "%.2f", Math.exp(logPred[i] + meanLog)) + "\n");
        }
      }
      out.println("predictions for " + logPred.length + " test houses in " + file);
    } catch (IOException e) {
      throw new UncheckedIOException("house-prices: cannot write " + file, e);
    }
  }
}
