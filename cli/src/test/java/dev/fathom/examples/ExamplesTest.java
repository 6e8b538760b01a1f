package dev.fathom.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code fathom example} programs listed in docs/guide.md, with small budgets
 * (docs/benchmarks.md records the full runs).
 */
class ExamplesTest {
  static final Path DATA = Path.of("../../shared/data");

  @Test
  void linearRegressionRecoversWeightsAndBias() {
    long baseline = Tensor.liveNativeBytes();
    double[] wb = LinearRegression.run(0, new PrintStream(new ByteArrayOutputStream()));
    assertEquals(LinearRegression.TRUE_W[0], wb[0], 0.01);
    assertEquals(LinearRegression.TRUE_W[1], wb[1], 0.01);
    assertEquals(LinearRegression.TRUE_B, wb[2], 0.01);
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void housePricesCrossValidation(@TempDir Path out) throws Exception {
    Path data = Files.isDirectory(DATA) ? DATA : Path.of("../shared/data");
    Assumptions.assumeTrue(Files.isRegularFile(data.resolve("kaggle_house_pred_train.csv")),
        "house-price CSVs not found next to the repository");
    long baseline = Tensor.liveNativeBytes();
    HousePrices.Config cfg = new HousePrices.Config(3, 25, 64, 0.005, 0.01, 64, 0);
    HousePrices.Result r = HousePrices.run(data, out, cfg, new PrintStream(new ByteArrayOutputStream()));
    assertEquals(331, r.features());
    assertTrue(r.validLogRmse() < 0.20, "log rmse " + r.validLogRmse());
    assertEquals(1460, Files.readAllLines(out.resolve("submission.csv")).size());
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
