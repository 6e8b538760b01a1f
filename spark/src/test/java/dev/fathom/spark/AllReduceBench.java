package dev.fathom.spark;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Cost of one ring all-reduce between two replicas over loopback against the buffer size
 * (the zoo's LeNet, MLP, and ResNet-18 parameter counts). Run by ci/bench-spark.sh.
 */
@Tag("bench")
class AllReduceBench {
  @Test
  void ringAllReduceAgainstModelSize() throws Exception {
    int[] sizes = {44_426, 203_530, 1_000_000, 11_178_378};
    String[] names = {"lenet", "mlp", "1M floats", "resnet18"};
    System.out.println("| buffer | floats | MB per replica sent | ms per all-reduce (2 replicas, loopback) |");
    System.out.println("|---|---|---|---|");
    for (int k = 0; k < sizes.length; k++) {
      int n = sizes[k];
      int calls = n > 5_000_000 ? 10 : 50;
      double ms = time(n, calls);
      System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %.2f |%n", names[k], n, n * 4 / 1e6, ms);
    }
  }

  private static double time(int n, int calls) throws Exception {
    List<ServerSocket> listeners = new ArrayList<>();
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      listeners.add(s);
      addresses.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()));
    }
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Double>> out = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        int rank = r;
        out.add(pool.submit(() -> {
          try (ServerSocket l = listeners.get(rank);
               RingAllReduce ring = RingAllReduce.connect(rank, l, addresses, 60_000)) {
            float[] data = new float[n];
            ring.average(data);   // warm-up
            long start = System.nanoTime();
            for (int c = 0; c < calls; c++) {
              ring.average(data);
            }
            return (System.nanoTime() - start) / 1e6 / calls;
          }
        }));
      }
      return Math.max(out.get(0).get(), out.get(1).get());
    } finally {
      pool.shutdownNow();
    }
  }
}
