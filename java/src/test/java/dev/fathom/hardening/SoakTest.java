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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Bounded soak: training steps of a conv/pool/BN network and of an LSTM
 * language model, then concurrent Predictor callers, must leave live native
 * bytes where they were after warm-up, start no threads that outlive their
 * work, and not grow the process's resident memory step after step.
 */
class SoakTest {
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
      long rss = rssKiB();
      cnnSteps(model, opt, loss, x, y, 400);
      assertEquals(bytes, Tensor.liveNativeBytes(), "CNN training grew native memory");
      long grown = rssKiB() - rss;
      assertTrue(rss < 0 || grown < 64 * 1024, "RSS grew by " + grown + " KiB over 400 CNN steps");

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
        for (int i = 0; i < 300; i++) {
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
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> calls = new ArrayList<>();
        float[] image = new float[28 * 28];
        for (int c = 0; c < 8; c++) {
          calls.add(pool.submit(() -> {
            for (int i = 0; i < 200; i++) {
              p.logits(image);
            }
          }));
        }
        for (Future<?> f : calls) {
          f.get();
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(serveBytes, Tensor.liveNativeBytes(), "serving leaked native memory");
      }
      assertTrue(Thread.activeCount() <= threads + 2,
          "threads: " + threads + " after warm-up, " + Thread.activeCount() + " at the end");
      assertEquals(DType.FLOAT32, x.dtype());
    }
    // Everything closed deterministically: nothing left for the Cleaner to free later.
    assertEquals(before, Tensor.liveNativeBytes(), "native bytes left after every tensor was closed");
  }
}
