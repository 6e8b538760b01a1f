package dev.fathom.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.Tensor;
import dev.fathom.text.PerplexityCsv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --model char-*, generate and ngram from the command line, on tiny corpora. */
class LanguageModelCommandsTest {
  @TempDir
  Path dir;
  private String out;
  private String err;

  private int run(String... args) {
    Console.Result r = Console.run(args);
    out = r.out();
    err = r.err();
    return r.code();
  }

  @Test
  void trainsFromAZipThenGeneratesFromTheCheckpoint() throws Exception {
    long baseline = Tensor.liveNativeBytes();
    Path zip = dir.resolve("corpus.txt.zip");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
      z.putNextEntry(new ZipEntry("corpus.txt"));
      z.write("the time machine\n".repeat(30).getBytes(StandardCharsets.UTF_8));
      z.closeEntry();
    }
    Path runDir = dir.resolve("run");
    assertEquals(0, run("train", "--model", "char-gru", "--data", zip.toString(), "--epochs", "8", "--hidden", "32",
        "--steps", "8", "--batch-size", "4", "--join-lines", "--out", runDir.toString(), "--prefix", "the"), err);
    List<String> rows = Files.readAllLines(runDir.resolve("metrics.csv"));
    assertEquals(PerplexityCsv.HEADER, rows.get(0));
    assertEquals(9, rows.size());
    double first = Double.parseDouble(rows.get(1).split(",")[2]);
    double last = Double.parseDouble(rows.get(8).split(",")[2]);
    assertTrue(last < first / 2, "perplexity " + first + " -> " + last);
    assertTrue(err.contains("epoch 8/8: loss"), err);
    assertTrue(out.startsWith("char-gru: perplexity"), out);
    assertTrue(out.contains("greedy:  the"), out);
    java.awt.image.BufferedImage curves = javax.imageio.ImageIO.read(runDir.resolve("curves.png").toFile());
    assertEquals(900, curves.getWidth());

    assertEquals(0, run("generate", "--checkpoint", runDir.toString(), "--prefix", "the ", "--length", "12"), err);
    assertTrue(out.startsWith("the "), out);
    assertEquals(17, out.strip().length() + 1, out);   // 4 prefix chars + 12 generated, newline stripped
    assertEquals(baseline, Tensor.liveNativeBytes(), "native bytes leaked (or freed twice)");
  }

  @Test
  void ngramPrintsAPerplexityPerOrder() throws Exception {
    Path txt = dir.resolve("t.txt");
    Files.writeString(txt, "abcabcabd".repeat(50));
    assertEquals(0, run("ngram", "--data", txt.toString(), "--k", "0.5"), err);
    assertTrue(out.contains("order,held_out_perplexity,train_perplexity"), out);
    for (String order : new String[] {"\n1,", "\n2,", "\n3,", "\ninterpolated"}) {
      assertTrue(out.contains(order), out);
    }
  }

  @Test
  void badArgumentsExitTwoAndMissingDataOne() {
    assertEquals(2, run("train", "--model", "char-lstm", "--sampling", "shuffled"));
    assertTrue(err.contains("--sampling must be random or sequential"), err);
    assertEquals(2, run("train", "--model", "char-lstm", "--gru", "pytorch"));
    assertTrue(err.contains("--gru applies to --model char-gru only"), err);
    assertEquals(2, run("train", "--model", "char-rnn", "--steps", "0"));
    assertEquals(1, run("train", "--model", "char-rnn", "--data", dir.resolve("none.txt").toString()));
    assertTrue(err.contains("does not exist"), err);
    assertEquals(2, run("generate", "--prefix", "x"));
    assertTrue(err.contains("--checkpoint PATH and --prefix TEXT are required"), err);
    assertEquals(1, run("generate", "--checkpoint", dir.toString(), "--prefix", "x"));
    assertTrue(err.contains("has neither model.safetensors nor model.json"), err);
    assertEquals(2, run("ngram", "--tokens", "bytes"));
  }
}
