package dev.fathom.bench;

import dev.fathom.Fathom;
import dev.fathom.data.Batch;
import dev.fathom.data.FashionMnist;
import dev.fathom.data.TensorDataset;
import dev.fathom.loss.CrossEntropyLoss;
import dev.fathom.nn.Module;
import dev.fathom.optim.SGD;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.Models;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training throughput measured the way ../shared/bench/pytorch/train_fmnist.py
 * does: data in memory, a seeded permutation, batch 256; one timed iteration is
 * batch gather + forward + cross-entropy + backward + SGD step; images/s is
 * 256 / median iteration time over full batches after 5 warm-up iterations.
 */
public final class TrainBenchmark {
  private TrainBenchmark() {}

  public static double run(String model, int iters, PrintStream out) {
    int batch = 256;
    try (TensorDataset train = FashionMnist.load(FashionMnist.Split.TRAIN);
        Module net = Models.create(model, 10, new Generator(0));
        SGD sgd = new SGD(net.parameters(), 0.1)) {
      CrossEntropyLoss loss = new CrossEntropyLoss();
      long n = train.size();
      long[] perm = permutation(n, 0);
      double[] times = new double[iters];
      int timed = 0;
      for (int it = 0; it < iters + 5; it++) {
        long start = (long) it * batch % (n - batch);
        long[] idx = Arrays.copyOfRange(perm, (int) start, (int) start + batch);
        long t0 = System.nanoTime();
        try (Scope s = Scope.open(); Batch b = train.batch(idx)) {
          Tensor l = loss.apply(net.forward(b.x()), b.y());
          sgd.zeroGrad();
          l.backward();
          sgd.step();
        }
        double dt = (System.nanoTime() - t0) / 1e9;
        if (it >= 5) {
          times[timed++] = dt;
        }
      }
      Arrays.sort(times);
      double median = times[times.length / 2];
      double ips = batch / median;
      out.printf(Locale.ROOT, "RESULT {\"bench\": \"fathom_train_fmnist\", \"model\": \"%s\", \"threads\": %d, "
              + "\"batch\": %d, \"iters\": %d, \"iter_ms_median\": %.3f, \"img_per_s_median_iter\": %.1f}%n",
          model, Fathom.numThreads(), batch, iters, median * 1e3, ips);
      return ips;
    }
  }

  private static long[] permutation(long n, long seed) {
    long[] p = new long[(int) n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = p.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      long t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
