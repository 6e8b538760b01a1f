package dev.fathom.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.FashionMnist;
import dev.fathom.train.MetricsCsv;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit codes, messages, and the main job on real data. */
class MainTest {
  private static String[] err = new String[1];

  private static int run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      return Main.run(args);
    } finally {
      System.setErr(saved);
      err[0] = buf.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void badArgumentsExitWithTwoAndSayWhy() {
    assertEquals(2, run("train"));
    assertTrue(err[0].contains("--model is required"), err[0]);
    assertEquals(2, run("train", "--model", "resnet999"));
    assertTrue(err[0].contains("unknown model 'resnet999'"), err[0]);
    assertEquals(2, run("train", "--model", "mlp", "--epochs", "zero"));
    assertTrue(err[0].contains("--epochs expects an integer"), err[0]);
    assertEquals(2, run("train", "--model", "mlp", "--lr"));
    assertTrue(err[0].contains("--lr needs a value"), err[0]);
    assertEquals(2, run("train", "--model", "mlp", "--bogus", "1"));
    assertEquals(2, run("frobnicate"));
  }

  @Test
  void missingDataExitsWithOneAndNamesWhatIsMissing(@TempDir Path empty) {
    assertEquals(1, run("train", "--model", "softmax", "--data", empty.toString(), "--out",
        empty.resolve("out").toString()));
    assertTrue(err[0].contains("train-images-idx3-ubyte"), err[0]);
  }

  @Test
  void mainJobTrainsAndWritesMetrics(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
    assertEquals(0, run("train", "--model", "softmax", "--epochs", "2", "--out", out.toString(), "--threads", "2"));
    List<String> rows = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals(MetricsCsv.HEADER, rows.get(0));
    assertEquals(3, rows.size());
    double testAcc = Double.parseDouble(rows.get(2).split(",")[4]);
    assertTrue(testAcc > 0.78, "softmax regression after 2 epochs: " + testAcc);
    assertTrue(err[0].contains("epoch 2/2"), err[0]);
  }

  @Test
  void limitTrainsOnTheFirstImagesOnly(@TempDir Path out) throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
    assertEquals(0, run("train", "--model", "softmax", "--epochs", "1", "--limit", "1000", "--out", out.toString()));
    assertTrue(err[0].contains("Fashion-MNIST: 1000 train, 10000 test images"), err[0]);
    assertEquals(2, run("train", "--model", "softmax", "--limit", "0"));
  }
}
