package dev.fathom.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fathom.io.SafeTensors;
import dev.fathom.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults during a checkpoint save, injected into a child JVM: SIGKILL at many points of a stream
 * of saves, a file-size limit (the write fails with EFBIG, as on a quota) and a full tmpfs
 * (ENOSPC). After each, the file on disk must be a complete checkpoint, the previous one or the
 * new one, and a failed save must say so and keep the old file.
 */
class CheckpointFaultTest {
  /** 2 Mi floats, 8 MiB: a save takes long enough (write + fsync) for kills to land inside it. */
  static final int ELEMENTS = 2 << 20;
  static final int KILLS = 16;

  @TempDir
  Path dir;

  @Test
  void killedDuringSaveLeavesACompleteCheckpoint() throws Exception {
    Path file = dir.resolve("model.safetensors");
    Writer.save(file, 0, ELEMENTS);
    SplittableRandom rng = new SplittableRandom(20);
    int lastAcknowledged = 0;
    int midWrite = 0;
    for (int kill = 0; kill < KILLS; kill++) {
      Process child = start(List.of(), "loop", file.toString(), Integer.toString(lastAcknowledged + 1));
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      StringBuilder startup = new StringBuilder();
      for (String line = out.readLine(); !"ready".equals(line); line = out.readLine()) {
        assertTrue(line != null, "child did not start: " + startup);
        startup.append(line).append('\n');   // e.g. SLF4J's note that no logger is bound
      }
      // The child saves back to back; a random instant lands in a random phase of a save.
      Thread.sleep(rng.nextInt(20, 400));
      // SIGKILL on POSIX; through the handle, which (unlike Process.destroy) keeps stdout readable.
      child.toHandle().destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("saved ")) {
          lastAcknowledged = Integer.parseInt(line.split(" ")[1]);
        }
      }
      int onDisk = Writer.verify(file, ELEMENTS);
      // A save the child reported done is durable; one after it may or may not have landed.
      assertTrue(onDisk == lastAcknowledged || onDisk == lastAcknowledged + 1,
          "after kill " + kill + ": file holds save " + onDisk + ", last acknowledged " + lastAcknowledged);
      lastAcknowledged = onDisk;
      List<Path> temps = temporaries(dir);
      midWrite += temps.isEmpty() ? 0 : 1;
      for (Path t : temps) {
        Files.delete(t);
      }
    }
    System.out.printf("CheckpointFaultTest: %d kills, %d inside a save, last save on disk %d%n", KILLS, midWrite,
        lastAcknowledged);
    // Otherwise the kills fell between saves and the test proved little (about 60% land inside one).
    assertTrue(midWrite >= 3, "only " + midWrite + " of " + KILLS + " kills landed inside a save");
  }

  @Test
  void aSaveBeyondTheFileSizeLimitFailsAndKeepsTheOldFile() throws Exception {
    Path file = dir.resolve("model.safetensors");
    // ulimit -f counts 1 KiB blocks: 2 MiB, so the 4 KiB save fits and the 8 MiB one does not.
    Process child = start(List.of("bash", "-c", "ulimit -f 2048 && exec \"$0\" \"$@\""), "full", file.toString());
    String output = drain(child);
    assertEquals(0, child.exitValue(), output);
    assertTrue(output.contains("refused: safetensors: cannot write " + file + ": File too large"), output);
    assertTrue(output.contains("old file intact"), output);
  }

  @Test
  void aSaveOntoAFullDiskFailsAndKeepsTheOldFile() throws Exception {
    Path mount = dir.resolve("tmpfs");
    Files.createDirectories(mount);
    // A private mount namespace lets an unprivileged user mount a 4 MiB tmpfs for the child alone.
    assumeTrue(new ProcessBuilder("unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
        mount.toString()).start().waitFor() == 0, "unshare -rm with a tmpfs mount is not permitted here");
    Path file = mount.resolve("model.safetensors");
    Process child = start(List.of("unshare", "-rm", "bash", "-c",
        "mount -t tmpfs -o size=4m tmpfs " + mount + " && exec \"$0\" \"$@\""), "full", file.toString());
    String output = drain(child);
    assertEquals(0, child.exitValue(), output);
    assertTrue(output.contains("refused: safetensors: cannot write " + file + ": No space left on device"), output);
    assertTrue(output.contains("old file intact"), output);
  }

  private static Process start(List<String> wrapper, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Writer.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  private static String drain(Process p) throws Exception {
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), text);
    return text;
  }

  private static List<Path> temporaries(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
    }
  }

  /** The child process: saves checkpoints whose every value and metadata name the save's number. */
  public static final class Writer {
    public static void main(String[] args) throws Exception {
      Path file = Path.of(args[1]);
      if (args[0].equals("loop")) {
        // A first save elsewhere loads the native library and the JSON classes and warms the JIT
        // (250 ms cold, 16-30 ms warm), so that the kills land in saves, not in class loading.
        save(file.resolveSibling("warm-up.bin"), 0, ELEMENTS);
        Files.delete(file.resolveSibling("warm-up.bin"));
        System.out.println("ready");
        System.out.flush();
        // One tensor refilled per save: the time between saves is then tiny next to a save.
        try (Tensor t = Tensor.zeros(ELEMENTS)) {
          for (int k = Integer.parseInt(args[2]); ; k++) {
            t.fill_(k);
            long start = System.nanoTime();
            SafeTensors.save(Map.of("w", t), Map.of("save", Integer.toString(k)), file);
            System.out.println("saved " + k + " in " + (System.nanoTime() - start) / 1000 + " us");
            System.out.flush();
          }
        }
      }
      // "full": a small save fits, a large one must fail without touching it.
      save(file, 1, 1024);
      try {
        save(file, 2, ELEMENTS);
        System.out.println("the large save succeeded: the limit was not applied");
        System.exit(2);
      } catch (UncheckedIOException e) {
        System.out.println("refused: " + e.getMessage());
      }
      if (verify(file, 1024) != 1 || !temporaries(file.getParent()).isEmpty()) {
        System.out.println("old file damaged or temporary file left behind");
        System.exit(3);
      }
      System.out.println("old file intact");
    }

    static void save(Path file, int k, int elements) {
      try (Tensor t = Tensor.full(k, elements)) {
        SafeTensors.save(Map.of("w", t), Map.of("save", Integer.toString(k)), file);
      }
    }

    /** The save number of a complete, consistent file; fails on anything else. */
    static int verify(Path file, int elements) {
      try (SafeTensors.Contents c = SafeTensors.read(file)) {
        int k = Integer.parseInt(c.metadata().get("save"));
        float[] w = c.tensors().get("w").toFloatArray();
        if (w.length != elements) {
          throw new AssertionError(file + ": " + w.length + " values, expected " + elements);
        }
        for (int i = 0; i < w.length; i++) {
          if (w[i] != k) {
            throw new AssertionError(file + ": value " + i + " is " + w[i] + " in save " + k);
          }
        }
        return k;
      }
    }
  }
}
