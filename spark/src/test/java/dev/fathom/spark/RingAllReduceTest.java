package dev.fathom.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class RingAllReduceTest {
  /** Runs `size` replicas on threads; replica r averages `inputs[r]` repeatedly. */
  private static float[][] run(float[][] inputs, int calls) throws Exception {
    int size = inputs.length;
    List<ServerSocket> listeners = new ArrayList<>();
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int r = 0; r < size; r++) {
      ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      listeners.add(s);
      addresses.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()));
    }
    ExecutorService pool = Executors.newFixedThreadPool(size);
    try {
      List<Future<float[]>> out = new ArrayList<>();
      for (int r = 0; r < size; r++) {
        int rank = r;
        out.add(pool.submit(() -> {
          try (ServerSocket l = listeners.get(rank);
               RingAllReduce ring = RingAllReduce.connect(rank, l, addresses, 10_000)) {
            float[] data = inputs[rank].clone();
            for (int c = 0; c < calls; c++) {
              ring.average(data);
            }
            return data;
          }
        }));
      }
      float[][] results = new float[size][];
      for (int r = 0; r < size; r++) {
        results[r] = out.get(r).get();
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void everyReplicaGetsTheSameMean() throws Exception {
    SplittableRandom rng = new SplittableRandom(7);
    // Lengths below, at and above the replica count, so that some chunks are empty.
    for (int size : new int[] {2, 3, 4}) {
      for (int length : new int[] {1, size, 1001}) {
        float[][] inputs = new float[size][length];
        for (float[] in : inputs) {
          for (int i = 0; i < length; i++) {
            in[i] = (float) rng.nextGaussian();
          }
        }
        float[][] results = run(inputs, 1);
        for (int i = 0; i < length; i++) {
          double mean = 0;
          for (float[] in : inputs) {
            mean += in[i];
          }
          mean /= size;
          assertEquals(mean, results[0][i], 1e-6, "size " + size + " length " + length + " element " + i);
        }
        for (int r = 1; r < size; r++) {
          assertArrayEquals(results[0], results[r], "replica " + r + " differs from replica 0 (size " + size + ")");
        }
      }
    }
  }

  @Test
  void repeatedCallsStayInStep() throws Exception {
    float[][] inputs = {{1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}, {0, 0, 0, 0, 0}};
    float[][] results = run(inputs, 50);
    assertArrayEquals(new float[] {2, 2, 2, 2, 2}, results[0], 1e-6f);
    assertArrayEquals(results[0], results[2]);
  }

  @Test
  void aMissingNeighbourFailsInsteadOfHanging() throws Exception {
    try (ServerSocket mine = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<InetSocketAddress> addresses = List.of(
          new InetSocketAddress(InetAddress.getLoopbackAddress(), mine.getLocalPort()),
          new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort()));
      // Replica 1 never connects back: replica 0's accept times out with a message.
      UncheckedIOException e = assertThrows(UncheckedIOException.class,
          () -> RingAllReduce.connect(0, mine, addresses, 500));
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("replica 0 of 2"), e.getMessage());
    }
  }
}
