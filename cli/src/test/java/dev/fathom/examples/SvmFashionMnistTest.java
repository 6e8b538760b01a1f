package dev.fathom.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.FashionMnist;
import dev.fathom.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A small smoke run of {@code fathom example svm}; docs/benchmarks.md (SVMs) records the full-size run. */
class SvmFashionMnistTest {
  @Test
  void threeModelsLearnTshirtVersusShirt() {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
    long baseline = Tensor.liveNativeBytes();
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    SvmFashionMnist.Config d = SvmFashionMnist.Config.defaults();
    SvmFashionMnist.Config small = new SvmFashionMnist.Config(400, 300, d.lambda(), d.linearLr(), 10, d.c(), 0,
        d.mlpLr(), 5, 0);
    List<SvmFashionMnist.Row> rows = SvmFashionMnist.run(small, new PrintStream(text, true, StandardCharsets.UTF_8));
    assertEquals(3, rows.size());
    for (SvmFashionMnist.Row r : rows) {
      // The two classes are hard to tell apart (full-size runs reach about 0.85); chance is 0.5.
      assertTrue(r.testAccuracy() > 0.7, r.model() + ": " + r.testAccuracy());
    }
    String out = text.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("400 training and 300 test images") && out.contains("RBF SVM"), out);
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void unknownArgumentsAreRejected() {
    PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> SvmFashionMnist.run(List.of("--epochs", "3"), sink));
    assertTrue(e.getMessage().contains("--epochs"), e.getMessage());
    assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> SvmFashionMnist.run(List.of("--train", "1"), sink)).getMessage().contains("--train"));
  }
}
