package dev.fathom.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DataLoaderTest {
  private long baseline;

  @BeforeEach
  void recordBaseline() {
    assertFalse(loaderThreadAlive(), "a loader thread was left running before this test");
    baseline = NativeMemory.baseline();
  }

  @AfterEach
  void noLeaksNoThreads() {
    assertTrue(waitForNoLoaderThread(), "a fathom-loader thread is still running");
    NativeMemory.assertBackTo(baseline);
  }

  /** x[i] = (i, 1000 + i) as float32 [n, 2]; y[i] = i as int64. */
  private static TensorDataset rows(int n) {
    float[] x = new float[2 * n];
    long[] y = new long[n];
    for (int i = 0; i < n; i++) {
      x[2 * i] = i;
      x[2 * i + 1] = 1000 + i;
      y[i] = i;
    }
    return new TensorDataset(Tensor.fromArray(x, n, 2), Tensor.fromArray(y, n));
  }

  /** The y values of every batch of one epoch, batch by batch (closes the batches). */
  private static List<long[]> epoch(Iterator<Batch> it) {
    List<long[]> out = new ArrayList<>();
    while (it.hasNext()) {
      try (Batch b = it.next()) {
        out.add(b.y().toLongArray());
      }
    }
    return out;
  }

  private static long[] flat(List<long[]> batches) {
    return batches.stream().flatMapToLong(Arrays::stream).toArray();
  }

  private static boolean loaderThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.isAlive() && t.getName().equals(DataLoader.THREAD_NAME));
  }

  private static boolean waitForNoLoaderThread() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (loaderThreadAlive()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.onSpinWait();
    }
    return true;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 2})
  void everyIndexExactlyOncePerEpoch(int prefetch) {
    try (TensorDataset data = rows(103);
        DataLoader loader = DataLoader.builder(data).batchSize(10).shuffle(true).seed(7).prefetch(prefetch).build()) {
      assertEquals(11, loader.numBatches());
      long[] expected = new long[103];
      Arrays.setAll(expected, i -> i);
      for (int e = 0; e < 3; e++) {
        DataLoader.BatchIterator it = loader.iterator();
        assertEquals(e, it.epoch());
        List<long[]> batches = epoch(it);
        assertEquals(11, batches.size());
        assertEquals(3, batches.get(10).length, "the last batch holds the remainder");
        long[] seen = flat(batches);
        assertArrayEquals(loader.order(e), seen, "batches follow the epoch's order");
        long[] sorted = seen.clone();
        Arrays.sort(sorted);
        assertArrayEquals(expected, sorted, "epoch " + e + " must visit every row exactly once");
      }
    }
  }

  @Test
  void withoutShuffleRowsComeInOrder() {
    try (TensorDataset data = rows(25); DataLoader loader = DataLoader.builder(data).batchSize(8).build()) {
      long[] seen = flat(epoch(loader.iterator()));
      long[] expected = new long[25];
      Arrays.setAll(expected, i -> i);
      assertArrayEquals(expected, seen);
      assertArrayEquals(expected, flat(epoch(loader.iterator())), "every epoch, the same order");
    }
  }

  @Test
  void sameSeedSameOrderAndEachEpochDiffers() {
    try (TensorDataset data = rows(200);
        DataLoader a = DataLoader.builder(data).batchSize(16).shuffle(true).seed(42).build();
        DataLoader b = DataLoader.builder(data).batchSize(16).shuffle(true).seed(42).prefetch(3).build();
        DataLoader c = DataLoader.builder(data).batchSize(16).shuffle(true).seed(43).build()) {
      long[] a0 = flat(epoch(a.iterator()));
      long[] a1 = flat(epoch(a.iterator()));
      long[] b0 = flat(epoch(b.iterator()));
      long[] b1 = flat(epoch(b.iterator()));
      assertArrayEquals(a0, b0, "same seed, same epoch: same order");
      assertArrayEquals(a1, b1);
      assertFalse(Arrays.equals(a0, a1), "a new epoch must reshuffle");
      assertFalse(Arrays.equals(a0, flat(epoch(c.iterator()))), "another seed, another order");
      long[] identity = new long[200];
      Arrays.setAll(identity, i -> i);
      assertFalse(Arrays.equals(identity, a0), "shuffle must shuffle");
      assertArrayEquals(a1, flat(epoch(a.iterator(1))), "iterator(epoch) replays that epoch");
      // The documented recipe, recomputed here: Fisher-Yates with SplittableRandom(seed ^ epoch * phi).
      java.util.SplittableRandom rng = new java.util.SplittableRandom(42L ^ (1L * 0x9E3779B97F4A7C15L));
      long[] expected = identity.clone();
      for (int i = expected.length - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        long t = expected[i];
        expected[i] = expected[j];
        expected[j] = t;
      }
      assertArrayEquals(expected, a1);
    }
  }

  @Test
  void dropLastDropsOnlyThePartialBatch() {
    try (TensorDataset data = rows(103);
        DataLoader drop = DataLoader.builder(data).batchSize(10).shuffle(true).dropLast(true).build();
        TensorDataset even = rows(100);
        DataLoader exact = DataLoader.builder(even).batchSize(10).dropLast(true).build()) {
      assertEquals(10, drop.numBatches());
      List<long[]> batches = epoch(drop.iterator());
      assertEquals(10, batches.size());
      batches.forEach(b -> assertEquals(10, b.length));
      assertEquals(100, Arrays.stream(flat(batches)).distinct().count());
      assertEquals(10, exact.numBatches());
      assertEquals(10, epoch(exact.iterator()).size());
    }
  }

  @Test
  void batchShapesAndValues() {
    TensorDataset made;
    try (Scope scope = Scope.open()) {                       // frees the arange behind the reshape
      made = new TensorDataset(Tensor.arange(0, 60, 1, DType.FLOAT32).reshape(10, 3, 2), Tensor.arange(10));
    }
    try (TensorDataset data = made;
        DataLoader loader = DataLoader.builder(data).batchSize(4).build()) {
      Iterator<Batch> it = loader.iterator();
      try (Batch b = it.next()) {
        assertArrayEquals(new long[] {4, 3, 2}, b.x().shape());
        assertArrayEquals(new long[] {4}, b.y().shape());
        assertEquals(DType.FLOAT32, b.x().dtype());
        assertEquals(DType.INT64, b.y().dtype());
        assertEquals(4, b.size());
        assertEquals(6f, b.x().toFloatArray()[6]);           // row 1 starts at 6
      }
      it.next().close();
      try (Batch last = it.next()) {
        assertArrayEquals(new long[] {2, 3, 2}, last.x().shape());
        assertArrayEquals(new long[] {8, 9}, last.y().toLongArray());
      }
      assertFalse(it.hasNext());
      assertThrows(NoSuchElementException.class, it::next);
    }
  }

  @Test
  void prefetchOnAndOffGiveIdenticalBatches() {
    try (TensorDataset data = rows(77)) {
      List<float[]> reference = null;
      for (int prefetch : new int[] {0, 1, 4}) {
        List<float[]> got = new ArrayList<>();
        try (DataLoader loader = DataLoader.builder(data).batchSize(9).shuffle(true).seed(5).prefetch(prefetch)
            .build()) {
          loader.iterator();                                 // skip to epoch 1: not just the first order
          for (Batch b : loader) {
            try (b) {
              got.add(b.x().toFloatArray());
            }
          }
        }
        if (reference == null) {
          reference = got;
        } else {
          assertEquals(reference.size(), got.size());
          for (int i = 0; i < got.size(); i++) {
            assertArrayEquals(reference.get(i), got.get(i), "prefetch " + prefetch + ", batch " + i);
          }
        }
      }
    }
  }

  @Test
  void prefetchLoadsOnTheNamedDaemonThreadAheadOfTheConsumer() throws Exception {
    AtomicInteger loads = new AtomicInteger();
    List<String> threads = new ArrayList<>();
    try (TensorDataset data = rows(50)) {
      Dataset counting = new Dataset() {
        public long size() {
          return data.size();
        }

        public Batch batch(long[] indices) {
          synchronized (threads) {
            threads.add(Thread.currentThread().getName() + (Thread.currentThread().isDaemon() ? "/daemon" : ""));
          }
          loads.incrementAndGet();
          return data.batch(indices);
        }
      };
      try (DataLoader loader = DataLoader.builder(counting).batchSize(5).prefetch(3).build()) {
        DataLoader.BatchIterator it = loader.iterator();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (loads.get() < 4 && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        Thread.sleep(100);
        // 3 in the queue + 1 loaded and waiting for room: never the whole epoch of 10.
        assertEquals(4, loads.get(), "prefetch(3) loads at most 3 batches ahead (+1 waiting to be queued)");
        assertTrue(loaderThreadAlive());
        epoch(it);
        assertEquals(10, loads.get());
      }
      synchronized (threads) {
        assertTrue(threads.stream().allMatch(n -> n.equals(DataLoader.THREAD_NAME + "/daemon")), threads.toString());
      }
    }
  }

  @Test
  void closingTheIteratorEarlyStopsTheThreadAndFreesQueuedBatches() throws Exception {
    try (TensorDataset data = rows(1000)) {
      long withData = Tensor.liveNativeBytes();
      try (DataLoader loader = DataLoader.builder(data).batchSize(10).prefetch(4).build()) {
        DataLoader.BatchIterator it = loader.iterator();
        Batch first = it.next();
        long perBatch = 10 * 2 * 4 + 10 * 8;                 // x float32 [10, 2], y int64 [10]
        // The one handed out, 4 queued, and 1 loaded and waiting for room.
        long full = withData + 6 * perBatch;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (Tensor.liveNativeBytes() < full && System.nanoTime() < deadline) {
          Thread.sleep(5);                                   // let the queue fill up
        }
        Thread.sleep(20);
        assertEquals(full, Tensor.liveNativeBytes(), "queued batches hold native memory, never more than 4 ahead");
        it.close();
        assertFalse(loaderThreadAlive(), "close() must wait for the loader thread to end");
        assertFalse(it.hasNext());
        assertFalse(first.x().isClosed(), "a batch already handed out stays the consumer's");
        first.close();
        assertEquals(withData, Tensor.liveNativeBytes(), "queued batches must be closed");
      }
    }
  }

  @Test
  void closingTheLoaderClosesIteratorsLeftByBreak() {
    try (TensorDataset data = rows(1000)) {
      long withData = Tensor.liveNativeBytes();
      DataLoader loader = DataLoader.builder(data).batchSize(10).prefetch(2).build();
      for (Batch b : loader) {
        b.close();
        break;                                               // leaves the iterator open
      }
      assertTrue(loaderThreadAlive());
      loader.close();
      assertFalse(loaderThreadAlive());
      assertEquals(withData, Tensor.liveNativeBytes());
      assertThrows(IllegalStateException.class, loader::iterator);
    }
  }

  /** Fails on the batch that contains row `badRow`. */
  private static Dataset failingAt(TensorDataset data, long badRow) {
    return new Dataset() {
      public long size() {
        return data.size();
      }

      public Batch batch(long[] indices) {
        for (long i : indices) {
          if (i == badRow) {
            throw new IllegalStateException("row " + badRow + " is corrupt");
          }
        }
        return data.batch(indices);
      }
    };
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 2})
  void anExceptionWhileLoadingReachesTheConsumer(int prefetch) {
    try (TensorDataset data = rows(100);
        DataLoader loader = DataLoader.builder(failingAt(data, 35)).batchSize(10).prefetch(prefetch).build()) {
      Iterator<Batch> it = loader.iterator();
      for (int i = 0; i < 3; i++) {
        it.next().close();                                  // batches before the bad one arrive intact
      }
      RuntimeException e = assertThrows(RuntimeException.class, it::next);
      assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
      assertEquals("row 35 is corrupt", e.getCause().getMessage());
      assertTrue(e.getMessage().contains("batch 3 of epoch 0"), e.getMessage());
      assertFalse(it.hasNext(), "the iterator is closed after a failure");
    }
  }

  @Test
  void transformRunsOnTheLoaderThreadAndLeaksNothing() {
    List<String> threads = new ArrayList<>();
    try (TensorDataset data = rows(20);
        DataLoader loader = DataLoader.builder(data).batchSize(8).prefetch(1)
            .transform(b -> {
              synchronized (threads) {
                threads.add(Thread.currentThread().getName());
              }
              // x.sub(1).mul(2) makes a temporary; the old x is replaced; y is reused.
              return new Batch(b.x().sub(1).mul(2), b.y());
            })
            .build()) {
      List<float[]> xs = new ArrayList<>();
      for (Batch b : loader) {
        try (b) {
          xs.add(b.x().toFloatArray());
        }
      }
      assertEquals(3, xs.size());
      assertArrayEquals(new float[] {-2, 1998, 0, 2000}, Arrays.copyOf(xs.get(0), 4));
      assertEquals(List.of(DataLoader.THREAD_NAME, DataLoader.THREAD_NAME, DataLoader.THREAD_NAME), threads);
    }
  }

  @Test
  void batchesBelongToNoScopeAndCanBeAdopted() {
    try (TensorDataset data = rows(10); DataLoader loader = DataLoader.builder(data).batchSize(5).build()) {
      Iterator<Batch> it = loader.iterator();
      Batch kept;
      try (Scope scope = Scope.open()) {
        kept = it.next();                                    // loaded on this thread, inside a scope
      }
      assertFalse(kept.x().isClosed(), "the caller's scope must not close a loaded batch");
      kept.close();
      Batch adopted;
      try (Scope scope = Scope.open()) {
        adopted = it.next().adoptInto(scope);
        assertFalse(adopted.x().isClosed());
      }
      assertTrue(adopted.x().isClosed() && adopted.y().isClosed(), "adoptInto hands the batch to the scope");
    }
  }

  @Test
  void consumerOnAnotherThreadCanCloseFromMain() throws Exception {
    try (TensorDataset data = rows(10_000)) {
      long withData = Tensor.liveNativeBytes();
      DataLoader loader = DataLoader.builder(data).batchSize(10).prefetch(2).build();
      CountDownLatch started = new CountDownLatch(1);
      AtomicInteger consumed = new AtomicInteger();
      Thread consumer = new Thread(() -> {
        for (Batch b : loader) {
          b.close();
          consumed.incrementAndGet();
          started.countDown();
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      consumer.start();
      assertTrue(started.await(5, TimeUnit.SECONDS));
      loader.close();
      consumer.join(5000);
      assertFalse(consumer.isAlive(), "the consumer sees the end of the epoch once the loader is closed");
      assertTrue(consumed.get() < 1000, "stopped early");
      assertEquals(withData, Tensor.liveNativeBytes());
    }
  }

  @Test
  void builderAndDatasetValidation() {
    try (TensorDataset data = rows(4)) {
      assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).batchSize(0));
      assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(data).prefetch(-1));
      assertThrows(IllegalArgumentException.class, () -> DataLoader.builder(null));
      IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
          () -> data.batch(new long[] {0, 4}));
      assertTrue(e.getMessage().contains("index 4"), e.getMessage());
    }
    try (Tensor x = Tensor.zeros(5, 3); Tensor y = Tensor.zeros(DType.INT64, 4)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TensorDataset(x, y));
      assertTrue(e.getMessage().contains("[5, 3]") && e.getMessage().contains("[4]"), e.getMessage());
    }
  }

  @Test
  void tensorDatasetTakesOwnershipAndMayBeUnlabelled() {
    TensorDataset data;
    try (Scope scope = Scope.open()) {
      data = new TensorDataset(Tensor.arange(0, 6, 1).reshape(3, 2), null);
    }
    assertFalse(data.features().isClosed(), "the dataset owns its tensors, not the scope they were made in");
    try (data; Batch b = data.batch(new long[] {2, 0})) {
      assertNull(b.y());
      assertArrayEquals(new float[] {4, 5, 0, 1}, b.x().toFloatArray());
      assertEquals(3, data.size());
    }
    assertTrue(data.features().isClosed());
  }

  @Test
  void emptyDatasetHasNoBatches() {
    try (TensorDataset data = new TensorDataset(Tensor.zeros(0, 2), null);
        DataLoader loader = DataLoader.builder(data).batchSize(3).shuffle(true).prefetch(2).build()) {
      assertEquals(0, loader.numBatches());
      assertFalse(loader.iterator().hasNext());
      assertNotEquals(null, loader.dataset());
      assertSame(data, loader.dataset());
    }
  }
}
