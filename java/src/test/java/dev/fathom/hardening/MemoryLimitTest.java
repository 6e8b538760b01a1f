package dev.fathom.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.Fathom;
import dev.fathom.FathomException;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Embedding;
import dev.fathom.nn.Linear;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.optim.Adam;
import dev.fathom.optim.Optimizer;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Out of native memory under {@link Fathom#setMemoryLimit}: a tensor or an
 * op's result over the limit throws {@link FathomException} (OUT_OF_MEMORY)
 * naming the bytes, the limit and the shape; training goes on under the
 * limit; a step that needs more fails wherever it runs out, frees what it
 * made, and runs once the limit is lifted. The limit in force before each
 * test is restored after it.
 */
class MemoryLimitTest {
  private static final long MIB = 1L << 20;
  private static final String REFUSED_100_MIB =
      "alloc: 104857600 bytes would exceed the memory limit of 67108864 bytes";

  private long savedLimit;
  private long baseline;

  @BeforeEach
  void saveLimit() {
    savedLimit = Fathom.memoryLimit();
    baseline = Tensor.liveNativeBytes();
  }

  @AfterEach
  void restoreLimit() {
    Fathom.setMemoryLimit(savedLimit);
  }

  @Test
  void limitIsSetReadAndValidated() {
    Fathom.setMemoryLimit(64 * MIB);
    assertEquals(64 * MIB, Fathom.memoryLimit());
    assertEquals(64 * MIB, Fathom.runtimeInfo().memoryLimit());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Fathom.setMemoryLimit(-1));
    assertTrue(e.getMessage().contains("setMemoryLimit: bytes=-1"), e.getMessage());
    assertEquals(64 * MIB, Fathom.memoryLimit());
    Fathom.setMemoryLimit(0);
    assertEquals(0, Fathom.memoryLimit());
    assertEquals(0, Fathom.runtimeInfo().memoryLimit());
  }

  @Test
  void tensorOverTheLimitThrowsFathomException() {
    Fathom.setMemoryLimit(64 * MIB);
    FathomException e =
        assertThrows(FathomException.class, () -> Tensor.empty(DType.FLOAT32, 25 * 1024, 1024));
    assertEquals(FathomException.Status.OUT_OF_MEMORY, e.status());
    assertTrue(e.getMessage().startsWith("tensor float32 [25600, 1024]: " + REFUSED_100_MIB),
        e.getMessage());
    assertEquals(baseline, Tensor.liveNativeBytes(), "a refused tensor holds no memory");
    assertThrows(FathomException.class, () -> Tensor.zeros(25 * 1024, 1024));

    // An op whose result alone passes the limit: broadcast [25600, 1] + [1, 1024].
    try (Tensor col = Tensor.ones(25 * 1024, 1); Tensor row = Tensor.ones(1, 1024)) {
      long inputs = Tensor.liveNativeBytes();
      FathomException op = assertThrows(FathomException.class, () -> col.add(row));
      assertEquals(FathomException.Status.OUT_OF_MEMORY, op.status());
      assertTrue(op.getMessage().contains("[25600, 1024]: " + REFUSED_100_MIB), op.getMessage());
      assertEquals(inputs, Tensor.liveNativeBytes(), "the failed op left nothing behind");
      try (Scope s = Scope.open()) {
        assertEquals(2.0 * 25 * 1024, col.add(1.0).sum().item(), 1e-3);
      }
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void refusedAllocationIsNotReportedAsBadIndices() {
    try (Embedding emb = new Embedding(8, 1024, new Generator(1));
        Tensor idx = Tensor.fromArray(new long[25 * 1024], 25 * 1024)) {
      Fathom.setMemoryLimit(64 * MIB);
      // Valid indices; the [25600, 1024] rows are what does not fit. (In a
      // scope, as forward's own temporaries are freed by the caller's scope.)
      try (Scope s = Scope.open()) {
        FathomException e = assertThrows(FathomException.class, () -> emb.forward(idx));
        assertEquals(FathomException.Status.OUT_OF_MEMORY, e.status(), e.getMessage());
      }
    }
    // oneHot's [16384, 64] result fits, the 64 KiB of ones it scatters do not.
    try (Tensor idx = Tensor.fromArray(new long[16384], 16384)) {
      Fathom.setMemoryLimit(Tensor.liveNativeBytes() + 16384 * 64 * 4 + 16 * 1024);
      FathomException hot = assertThrows(FathomException.class, () -> Tensor.oneHot(idx, 64));
      assertEquals(FathomException.Status.OUT_OF_MEMORY, hot.status(), hot.getMessage());
      assertTrue(hot.getMessage().contains("[16384, 1]"), hot.getMessage());
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }

  @Test
  void trainingRunsUnderTheLimitAndAStepOverItFailsCleanly() {
    Generator gen = new Generator(11);
    CrossEntropyLoss loss = new CrossEntropyLoss();
    int small = 64;
    int big = 1 << 16;  // hidden activations of 16 MiB, several of them per step
    try (Module model = new Sequential(
            new Linear(16, 64, true, gen), new ReLU(), new Linear(64, 4, true, gen));
        Optimizer opt = new Adam(model.parameters(), 0.01);
        Tensor x = Tensor.randn(gen, small, 16);
        Tensor y = Tensor.fromArray(labels(small), small);
        Tensor bigX = Tensor.randn(gen, big, 16);
        Tensor bigY = Tensor.fromArray(labels(big), big)) {
      Fathom.setMemoryLimit(64 * MIB);
      FathomException refused =
          assertThrows(FathomException.class, () -> Tensor.empty(DType.FLOAT32, 25 * 1024, 1024));
      assertTrue(refused.getMessage().contains(REFUSED_100_MIB), refused.getMessage());

      double first = step(model, opt, loss, x, y);
      double last = first;
      for (int i = 0; i < 40; i++) {
        last = step(model, opt, loss, x, y);
      }
      assertTrue(last < first, "loss went from " + first + " to " + last + " under the limit");
      opt.zeroGrad();
      long trained = Tensor.liveNativeBytes();

      // The big batch under limits from 1 MiB above what is live upwards:
      // each run fails at a later allocation (forward, backward, the
      // optimizer) until one has room. Every failure is a FathomException and
      // leaves the live bytes where they were.
      int failures = 0;
      boolean succeeded = false;
      for (long room = MIB; room <= 256 * MIB && !succeeded; room += MIB) {
        Fathom.setMemoryLimit(Tensor.liveNativeBytes() + room);
        try {
          step(model, opt, loss, bigX, bigY);
          succeeded = true;
        } catch (FathomException e) {
          failures++;
          assertEquals(FathomException.Status.OUT_OF_MEMORY, e.status(), e.getMessage());
          assertTrue(e.getMessage().contains("would exceed the memory limit of"), e.getMessage());
        }
        opt.zeroGrad();
        assertEquals(trained, Tensor.liveNativeBytes(),
            "live bytes after a step with " + room / MIB + " MiB of room");
      }
      assertTrue(failures >= 16, "the big step failed under only " + failures + " limits");
      assertTrue(succeeded, "the big step never had room");

      // Lifted: the big step and training go on.
      Fathom.setMemoryLimit(0);
      assertTrue(Double.isFinite(step(model, opt, loss, bigX, bigY)));
      for (int i = 0; i < 5; i++) {
        assertTrue(Double.isFinite(step(model, opt, loss, x, y)));
      }
      opt.zeroGrad();
      assertEquals(trained, Tensor.liveNativeBytes());
    }
    assertEquals(baseline, Tensor.liveNativeBytes(), "everything the test made was freed");
  }

  private static double step(Module model, Optimizer opt, CrossEntropyLoss loss, Tensor x, Tensor y) {
    try (Scope s = Scope.open()) {
      Tensor l = loss.apply(model.forward(x), y);
      opt.zeroGrad();
      l.backward();
      opt.step();
      return l.item();
    }
  }

  private static long[] labels(int n) {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = (i * 7) % 4;
    }
    return out;
  }
}
