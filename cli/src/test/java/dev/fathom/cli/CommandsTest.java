package dev.fathom.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.FashionMnist;
import dev.fathom.io.SafeTensors;
import dev.fathom.train.Trainer;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The picocli commands: help, argument errors, and train -> resume -> eval -> predict on real data. */
class CommandsTest {
  private String out;
  private String err;

  private int run(String... args) {
    Console.Result r = Console.run(args);
    out = r.out();
    err = r.err();
    return r.code();
  }

  @Test
  void everyCommandHasHelp() {
    for (String command : List.of("train", "eval", "predict", "summary", "bench", "info", "serve", "loadtest",
        "example", "demo", "generate", "ngram")) {
      assertEquals(0, run(command, "--help"), command);
      assertTrue(out.contains("Usage: fathom " + command), command + ": " + out);
    }
    assertEquals(0, run("bench", "gemm", "--help"));
    assertTrue(out.contains("--samples"), out);
    assertEquals(0, run("--help"));
    assertTrue(out.contains("train") && out.contains("serve") && out.contains("predict"), out);
    assertEquals(0, run("help", "eval"));
    assertTrue(out.contains("--checkpoint"), out);
    assertEquals(2, run());
    assertTrue(err.contains("Usage: fathom"), err);
  }

  @Test
  void badArgumentsExitWithTwo(@TempDir Path dir) {
    assertEquals(2, run("eval"));
    assertTrue(err.contains("--checkpoint DIR|FILE is required"), err);
    assertEquals(1, run("eval", "--checkpoint", dir.resolve("nothing").toString()));
    assertTrue(err.contains("no weights at"), err);
    assertEquals(2, run("bench"));
    assertEquals(2, run("bench", "gemm", "--samples", "many"));
    assertTrue(err.contains("--samples expects an integer, got 'many'"), err);
    assertEquals(2, run("--threads", "0", "info"));
    assertEquals(2, run("train", "--model", "lenet", "--schedule", "linear"));
    assertTrue(err.contains("--schedule must be none, cosine or step"), err);
    assertEquals(2, run("train", "--model", "lenet", "--momentum", "1.5"));
    assertTrue(err.contains("--momentum must be in [0.0, 1.0], got 1.5"), err);
    assertEquals(2, run("serve", "--checkpoint", dir.toString(), "--port", "70000"));
    assertEquals(2, run("predict", "--checkpoint", dir.toString()));
    assertTrue(err.contains("give --image"), err);
    assertEquals(2, run("loadtest"));
    assertEquals(2, run("train", "--resume", dir.toString(), "--lr", "0.1"));
    assertTrue(err.contains("only --epochs, --data and --prefetch"), err);
    assertEquals(1, run("train", "--resume", dir.toString()));
    assertTrue(err.contains("no checkpoint.safetensors in"), err);
    assertEquals(2, run("train", "--model", "lenet", "--hidden", "64", "--join-lines"));
    assertTrue(err.contains("--hidden, --join-lines apply to the language models"), err);
    assertEquals(0, run("summary", "--model", "lenet"));
    assertTrue(out.contains("total parameters: 44,426"), out);
  }

  private static List<String> rows(Path csv) throws Exception {
    return Files.readAllLines(csv);
  }

  /** The metrics of a row without its last column (seconds). */
  private static String withoutTime(String row) {
    return row.substring(0, row.lastIndexOf(','));
  }

  @Test
  void trainWritesEverythingAndResumesThenEvalAndPredictUseIt(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(Path.of(FashionMnist.DEBIAN_DIR)), "dataset-fashion-mnist not installed");
    Path full = dir.resolve("full");
    Path split = dir.resolve("split");
    assertEquals(0, run("train", "--model", "softmax", "--epochs", "2", "--out", full.toString(), "--threads", "2"), err);
    assertEquals(0, run("train", "--model", "softmax", "--epochs", "1", "--out", split.toString(), "--threads", "2"),
        err);
    assertEquals(0, run("train", "--resume", split.toString(), "--epochs", "2", "--threads", "2"), err);
    assertTrue(err.contains("resuming after epoch 1/2"), err);
    assertTrue(err.contains("epoch 2/2"), err);
    List<String> a = rows(full.resolve("metrics.csv"));
    List<String> b = rows(split.resolve("metrics.csv"));
    assertEquals(3, b.size(), b.toString());
    for (int i = 1; i < 3; i++) {
      assertEquals(withoutTime(a.get(i)), withoutTime(b.get(i)), "metrics row " + i + ": resumed = uninterrupted");
    }
    BufferedImage png = ImageIO.read(split.resolve("curves.png").toFile());
    assertNotNull(png, "curves.png is a PNG");
    assertEquals(900, png.getWidth());
    Map<String, SafeTensors.TensorInfo> weights = SafeTensors.readInfo(split.resolve("model.safetensors"));
    assertEquals(List.of("1.weight", "1.bias"), List.copyOf(weights.keySet()), "PyTorch state-dict names");
    assertEquals("softmax", SafeTensors.readMetadata(split.resolve("model.safetensors")).get("fathom.model"));
    assertTrue(SafeTensors.readMetadata(split.resolve("checkpoint.safetensors")).get(Trainer.CHECKPOINT_KEY)
        .contains("\"epoch\":2"));

    assertEquals(0, run("eval", "--checkpoint", split.toString()), err);
    String testAcc = b.get(2).split(",")[4];
    assertTrue(out.contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f",
        Double.parseDouble(testAcc))), out + " vs " + testAcc);

    assertEquals(0, run("predict", "--checkpoint", split.toString(), "--image", "0", "--top", "2"), err);
    assertTrue(out.contains("test image 0 (true class: ankle boot)"), out);
    assertTrue(out.contains("  1. ") && out.contains("  2. ") && !out.contains("  3. "), out);
  }

  @Test
  void benchCharlmRunsTheLibraryTrainerOnACorpus(@TempDir Path dir) throws Exception {
    Path corpus = dir.resolve("tiny.txt");
    Files.writeString(corpus, "the time traveller, for so it will be convenient to speak of him. ".repeat(200));
    assertEquals(0, run("--threads", "1", "bench", "charlm", "--cell", "lstm,gru-notes", "--data", corpus.toString()), err);
    assertTrue(out.contains("\"cell\": \"lstm\"") && out.contains("\"cell\": \"gru-notes\""), out);
    assertTrue(out.contains("\"tok_per_s_median_iter\""), out);
    assertEquals(2, run("bench", "charlm", "--cell", "transformer", "--data", corpus.toString()));
    assertTrue(err.contains("unknown cell 'transformer'"), err);
  }
}
