package dev.fathom.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.data.Batch;
import dev.fathom.data.NativeMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The two samplers of the notes on their example: a corpus of consecutive integers, so that the
 * expected windows can be written down by hand (batch 2, 6 and 4 steps).
 */
class SequenceSamplerTest {
  private long baseline;

  @BeforeEach
  void mark() {
    baseline = NativeMemory.baseline();
  }

  @AfterEach
  void noLeak() {
    NativeMemory.assertBackTo(baseline);
  }

  private static int[] range(int n) {
    int[] c = new int[n];
    for (int i = 0; i < n; i++) {
      c[i] = i;
    }
    return c;
  }

  /** Each batch as {x rows, y rows}. */
  private static List<long[][][]> collect(SequenceSampler.Epoch epoch) {
    List<long[][][]> out = new ArrayList<>();
    for (Batch b : epoch) {
      try (b) {
        int n = (int) b.x().size(0);
        int t = (int) b.x().size(1);
        long[] x = b.x().toLongArray();
        long[] y = b.y().toLongArray();
        long[][][] xy = new long[2][n][];
        for (int i = 0; i < n; i++) {
          xy[0][i] = Arrays.copyOfRange(x, i * t, (i + 1) * t);
          xy[1][i] = Arrays.copyOfRange(y, i * t, (i + 1) * t);
        }
        out.add(xy);
      }
    }
    return out;
  }

  private static long[] run(long from, int length) {
    long[] r = new long[length];
    for (int i = 0; i < length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  @Test
  void sequentialPartitioningOfTheNotesExample() {
    // 0..31, batch 2, 4 steps, no offset: rows [0..14] and [15..29] (each keeps one token for its
    // last target), cut into three (2, 4) blocks from left to right.
    List<long[][][]> batches = collect(SequenceSampler.sequential(range(32), 2, 4, 0).withoutRandomOffset().epoch(1));
    assertEquals(3, batches.size());
    long[][][] expectedX = {
      {{0, 1, 2, 3}, {15, 16, 17, 18}},
      {{4, 5, 6, 7}, {19, 20, 21, 22}},
      {{8, 9, 10, 11}, {23, 24, 25, 26}},
    };
    for (int b = 0; b < 3; b++) {
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(expectedX[b][i], batches.get(b)[0][i], "X of batch " + b + " row " + i);
        assertArrayEquals(run(expectedX[b][i][0] + 1, 4), batches.get(b)[1][i], "Y of batch " + b + " row " + i);
      }
    }
    // 0..29 with 6 steps: rows of 14, two blocks.
    batches = collect(SequenceSampler.sequential(range(30), 2, 6, 0).withoutRandomOffset().epoch(1));
    assertEquals(2, batches.size());
    assertArrayEquals(new long[][] {run(0, 6), run(14, 6)}, batches.get(0)[0]);
    assertArrayEquals(new long[][] {run(6, 6), run(20, 6)}, batches.get(1)[0]);
    assertArrayEquals(new long[][] {run(7, 6), run(21, 6)}, batches.get(1)[1]);
  }

  @Test
  void randomSamplingOfTheNotesExample() {
    // 0..29 with 6 steps: the windows [0..5] [6..11] [12..17] [18..23] (the 5th would need token 30
    // as its last target), in a shuffled order, two per batch, each exactly once.
    SequenceSampler sampler = SequenceSampler.random(range(30), 2, 6, 42).withoutRandomOffset();
    List<long[][][]> batches = collect(sampler.epoch(1));
    assertEquals(2, batches.size());
    List<long[]> windows = new ArrayList<>();
    for (long[][][] b : batches) {
      for (int i = 0; i < 2; i++) {
        windows.add(b[0][i]);
        assertArrayEquals(run(b[0][i][0] + 1, 6), b[1][i], "Y is X shifted by one");
      }
    }
    windows.sort(Comparator.comparingLong(w -> w[0]));
    assertArrayEquals(new long[][] {run(0, 6), run(6, 6), run(12, 6), run(18, 6)}, windows.toArray(new long[0][]));

    // 0..31 with 4 steps: 7 windows (starts 0, 4, ..., 24), 3 batches use 6 of them.
    int[][] starts = SequenceSampler.random(range(32), 2, 4, 42).withoutRandomOffset().epoch(1).starts();
    assertEquals(3, starts.length);
    Set<Integer> seen = new HashSet<>();
    for (int[] b : starts) {
      for (int s : b) {
        assertEquals(0, s % 4);
        assertTrue(s <= 24);
        assertTrue(seen.add(s), "window " + s + " twice");
      }
    }
  }

  @Test
  void seededEpochsAreReproducibleAndDiffer() {
    SequenceSampler a = SequenceSampler.random(range(200), 3, 5, 7);
    SequenceSampler b = SequenceSampler.random(range(200), 3, 5, 7);
    assertTrue(Arrays.deepEquals(a.epoch(1).starts(), b.epoch(1).starts()));
    assertTrue(Arrays.deepEquals(a.epoch(3).starts(), b.epoch(3).starts()), "epoch 3 does not depend on 1, 2");
    assertFalse(Arrays.deepEquals(a.epoch(1).starts(), a.epoch(2).starts()));
    assertFalse(Arrays.deepEquals(a.epoch(1).starts(),
        SequenceSampler.random(range(200), 3, 5, 8).epoch(1).starts()));
  }

  @Test
  void randomOffsetsCoverEveryAlignment() {
    int steps = 4;
    Set<Integer> randomOffsets = new HashSet<>();
    Set<Integer> sequentialOffsets = new HashSet<>();
    for (int e = 1; e <= 60; e++) {
      int[][] r = SequenceSampler.random(range(50), 2, steps, 1).epoch(e).starts();
      int offset = r[0][0] % steps;
      for (int[] batch : r) {
        for (int s : batch) {
          assertEquals(offset, s % steps, "one alignment per epoch");
          assertTrue(s + steps < 50, "the last target stays inside the corpus");
        }
      }
      randomOffsets.add(offset);
      int[][] q = SequenceSampler.sequential(range(50), 2, steps, 1).epoch(e).starts();
      sequentialOffsets.add(q[0][0]);
      int rowLength = (50 - q[0][0] - 1) / 2;
      for (int b = 0; b < q.length; b++) {
        assertEquals(q[0][0] + b * steps, q[b][0]);
        assertEquals(q[0][0] + rowLength + b * steps, q[b][1], "row 1 starts one row length further");
        assertTrue(q[b][1] + steps < 50);
      }
    }
    assertEquals(Set.of(0, 1, 2, 3), randomOffsets);
    assertEquals(Set.of(0, 1, 2, 3, 4), sequentialOffsets, "sequential offsets in [0, steps] as train_charlm.py");
  }

  @Test
  void sequentialBatchesContinueEachOther() {
    SequenceSampler.Epoch epoch = SequenceSampler.sequential(range(1000), 4, 7, 3).epoch(5);
    int[][] s = epoch.starts();
    assertEquals(s.length, epoch.size());
    for (int b = 1; b < s.length; b++) {
      for (int i = 0; i < 4; i++) {
        assertEquals(s[b - 1][i] + 7, s[b][i], "row " + i + " of batch " + b + " continues batch " + (b - 1));
      }
    }
  }

  @Test
  void shortCorpusIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SequenceSampler.sequential(range(18), 2, 6, 0));
    assertEquals("SequenceSampler: a corpus of 18 tokens is too short for batches of 2 x 6 steps (needs at least 19)",
        e.getMessage());
    assertEquals(1, SequenceSampler.sequential(range(19), 2, 6, 0).epoch(1).size(), "19 suffice at any offset");
    assertThrows(IllegalArgumentException.class, () -> SequenceSampler.random(range(100), 0, 6, 0));
  }
}
