package dev.fathom.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.serve.Predictor;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.text.CharLanguageModel;
import dev.fathom.zoo.Models;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Soak: mixed tensor ops with autograd, training steps of a conv/pool/BN network and of an LSTM
 * language model, then 16 concurrent Predictor callers, must leave live native bytes where they
 * were after warm-up, start no threads that outlive their work, and not grow the process's
 * resident memory step after step. Bounded in CI; {@code ci/soak.sh} runs the long version
 * (1e6 ops, 10,000 steps, minutes of serving) through the system properties below.
 */
class SoakTest {
  static final long OPS = Long.getLong("fathom.soak.ops", 100_000);
  static final int STEPS = Integer.getInteger("fathom.soak.steps", 400);
  static final int LM_STEPS = Integer.getInteger("fathom.soak.lmSteps", 300);
  static final long SERVE_MILLIS = Long.getLong("fathom.soak.serveSeconds", 0) * 1000;
  static final int CALLERS = 16;

  private static long rssKiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux: RSS is not checked
    }
    return -1;
  }

  /**
   * The process's resident memory, measured only where the Java heap is fixed and pre-touched
   * (the surefire execution "soak": -Xms = -Xmx with -XX:+AlwaysPreTouch). Otherwise the JVM
   * grows its heap to fit the garbage rate, by hundreds of MiB within a second of small ops, all
   * of it collectable, and RSS says nothing about native memory; then -1 (not checked).
   */
  private static long residentKiB() {
    return HEAP_FIXED ? rssKiB() : -1;
  }

  private static String delta(long before, long grown) {
    return before < 0 ? "not measured (heap not fixed)" : String.format("%+d KiB", grown);
  }

  static final boolean HEAP_FIXED =
      ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+AlwaysPreTouch");

  /** The live thread count once it is at most `bound`, or after 5 s (threads that exit take a moment). */
  private static int settledThreadCount(int bound) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (Thread.activeCount() > bound && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return Thread.activeCount();
  }

  private static String threadNames() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList().toString();
  }

  private static void cnnSteps(Module model, SGD opt, CrossEntropyLoss loss, Tensor x, Tensor y, int steps) {
    for (int i = 0; i < steps; i++) {
      try (Scope s = Scope.open()) {
        Tensor l = loss.apply(model.forward(x), y);
        opt.zeroGrad();
        l.backward();
        opt.step();
      }
    }
  }

  /**
   * One op of a seeded random mix, on a 16x16 activation: elementwise, matmul, reductions,
   * views, concatenation and indexing, each recorded for autograd.
   */
  private static Tensor mixedOp(Tensor x, Tensor b, Tensor index, int which) {
    return switch (which) {
      case 0 -> x.add(b);
      case 1 -> x.mul(b);
      case 2 -> x.matmul(b).mul(0.25);
      case 3 -> x.relu();
      case 4 -> x.tanh();
      case 5 -> x.softmax(1);
      case 6 -> x.sub(x.mean(1, true));
      case 7 -> x.t().contiguous();
      case 8 -> Tensor.cat(List.of(x.narrow(0, 8, 8), x.narrow(0, 0, 8)), 0);
      case 9 -> x.sigmoid();
      case 10 -> x.div(b.abs().add(1));
      default -> x.indexSelect(0, index).sum(0, true).expand(16, 16).add(x);
    };
  }

  /** Runs `ops` ops (each backward counts as one) and returns how many ran. */
  private static long mixedOps(Tensor a, Tensor b, Tensor index, SplittableRandom rng, long ops) {
    long done = 0;
    while (done < ops) {
      try (Scope s = Scope.open()) {
        Tensor leaf = a.detach().requiresGrad(true);
        Tensor x = leaf;
        for (int i = 0; i < 15; i++) {
          x = mixedOp(x, b, index, rng.nextInt(12));
        }
        x.square().mean().backward();
        if (!(leaf.grad().numel() == 256)) {
          throw new AssertionError("no gradient reached the leaf");
        }
        done += 18;
      }
    }
    return done;
  }

  @Test
  void mixedOpsReturnToTheirBaseline() throws InterruptedException {
    long before = Tensor.liveNativeBytes();
    Generator gen = new Generator(11);
    SplittableRandom rng = new SplittableRandom(11);
    try (Tensor a = Tensor.randn(gen, 16, 16); Tensor b = Tensor.randn(gen, 16, 16);
        Tensor index = Tensor.fromArray(new long[] {3, 1, 4, 1, 5, 9, 2, 6}, 8)) {
      mixedOps(a, b, index, rng, 5_000);   // warm-up
      long bytes = Tensor.liveNativeBytes();
      int threads = Thread.activeCount();
      long rss = residentKiB();
      long start = System.nanoTime();
      long done = mixedOps(a, b, index, rng, OPS);
      long grown = residentKiB() - rss;
      System.out.printf("SoakTest: %d mixed ops in %.1f s, native bytes %d -> %d, RSS %s, threads %d -> %d%n",
          done, (System.nanoTime() - start) / 1e9, bytes, Tensor.liveNativeBytes(), delta(rss, grown), threads,
          Thread.activeCount());
      assertEquals(bytes, Tensor.liveNativeBytes(), "mixed ops grew native memory");
      assertTrue(rss < 0 || grown < 64 * 1024, "RSS grew by " + grown + " KiB over " + done + " ops");
      assertTrue(settledThreadCount(threads + 2) <= threads + 2,
          "threads: " + threads + " -> " + Thread.activeCount() + ": " + threadNames());
    }
    assertEquals(before, Tensor.liveNativeBytes(), "native bytes left after every tensor was closed");
  }

  @Test
  void trainingAndServingReturnToTheirBaseline() throws Exception {
    long before = Tensor.liveNativeBytes();
    Generator gen = new Generator(7);
    CrossEntropyLoss loss = new CrossEntropyLoss();
    try (Module model = Models.create("lenet-bn", 10, gen);
        Tensor x = Tensor.randn(gen, 8, 1, 28, 28);
        Tensor y = Tensor.fromArray(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, 8)) {
      SGD opt = new SGD(model.parameters(), 0.01);
      cnnSteps(model, opt, loss, x, y, 20);  // warm-up: optimizer state, plans, primitives
      long bytes = Tensor.liveNativeBytes();
      int threads = Thread.activeCount();
      long rss = residentKiB();
      long start = System.nanoTime();
      cnnSteps(model, opt, loss, x, y, STEPS);
      long grown = residentKiB() - rss;
      System.out.printf("SoakTest: %d lenet-bn steps in %.1f s, native bytes %d -> %d, RSS %s%n", STEPS,
          (System.nanoTime() - start) / 1e9, bytes, Tensor.liveNativeBytes(), delta(rss, grown));
      assertEquals(bytes, Tensor.liveNativeBytes(), "CNN training grew native memory");
      assertTrue(rss < 0 || grown < 64 * 1024, "RSS grew by " + grown + " KiB over " + STEPS + " CNN steps");

      CharLanguageModel lm = new CharLanguageModel(
          new CharLanguageModel.Config(CharLanguageModel.Cell.LSTM, 30, 32, 1, 0, false), gen);
      SGD lmOpt = new SGD(lm.parameters(), 0.5);
      long[] tokens = new long[4 * 12];
      for (int i = 0; i < tokens.length; i++) {
        tokens[i] = (i * 7) % 30;
      }
      try (lm; Tensor in = Tensor.fromArray(tokens, 4, 12);
          Tensor timeMajor = in.t(); Tensor target = timeMajor.reshape(-1)) {
        long lmBytes = -1;
        for (int i = 0; i < LM_STEPS; i++) {
          try (Scope s = Scope.open()) {
            Tensor l = loss.apply(lm.forward(in, null).logits(), target);
            lmOpt.zeroGrad();
            l.backward();
            lmOpt.step();
          }
          if (i == 20) {
            lmBytes = Tensor.liveNativeBytes();
          }
        }
        assertEquals(lmBytes, Tensor.liveNativeBytes(), "LSTM training grew native memory");
      }

      model.eval();
      // The predictor owns the model from here (closing it frees the weights).
      try (Predictor p = Predictor.builder(model, 1, 28, 28).build()) {
        p.logits(new float[28 * 28]);
        long serveBytes = Tensor.liveNativeBytes();
        long serveRss = residentKiB();
        List<Thread> callers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(CALLERS, r -> {
          Thread t = new Thread(r, "soak-caller-" + callers.size());
          callers.add(t);
          return t;
        });
        List<Future<Long>> calls = new ArrayList<>();
        float[] image = new float[28 * 28];
        long deadline = System.nanoTime() + SERVE_MILLIS * 1_000_000;
        for (int c = 0; c < CALLERS; c++) {
          calls.add(pool.submit(() -> {
            long n = 0;
            for (; n < 100 || System.nanoTime() < deadline; n++) {
              p.logits(image);
            }
            return n;
          }));
        }
        long predictions = 0;
        for (Future<Long> f : calls) {
          predictions += f.get();
        }
        System.out.printf("SoakTest: %d predictions by %d callers, native bytes %d -> %d, RSS %s%n",
            predictions, CALLERS, serveBytes, Tensor.liveNativeBytes(),
            delta(serveRss, residentKiB() - serveRss));
        long servedGrowth = residentKiB() - serveRss;
        assertTrue(serveRss < 0 || servedGrowth < 64 * 1024, "RSS grew by " + servedGrowth + " KiB while serving");
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS));
        // Terminated means the workers left their loop; each thread is gone a moment later.
        for (Thread t : callers) {
          t.join(5_000);
          assertTrue(!t.isAlive(), t.getName() + " outlived the pool");
        }
        assertEquals(serveBytes, Tensor.liveNativeBytes(), "serving leaked native memory");
      }
      assertTrue(settledThreadCount(threads + 2) <= threads + 2,
          "threads: " + threads + " after warm-up, " + Thread.activeCount() + " at the end: " + threadNames());
      assertEquals(DType.FLOAT32, x.dtype());
    }
    // Everything closed deterministically: nothing left for the Cleaner to free later.
    assertEquals(before, Tensor.liveNativeBytes(), "native bytes left after every tensor was closed");
  }
}
