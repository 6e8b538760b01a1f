package dev.fathom.spark;

import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.train.GradientHook;
import java.util.List;

/**
 * The data-parallel step: flattens every parameter's gradient into one buffer, averages
 * it across the replicas with an {@link AllReduce} (one call per step, so the transport's
 * latency is paid once), and writes the averages back. A parameter without a gradient
 * contributes zeros, so all replicas keep the same buffer layout.
 */
public final class GradientAverager implements GradientHook {
  private final AllReduce allReduce;
  private float[] buffer = new float[0];
  private long calls;
  private long nanos;

  public GradientAverager(AllReduce allReduce) {
    this.allReduce = allReduce;
  }

  @Override
  public void beforeStep(List<Tensor> parameters) {
    long total = 0;
    for (Tensor p : parameters) {
      total += p.numel();
    }
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("GradientAverager: " + total + " parameters do not fit one buffer");
    }
    if (buffer.length != total) {
      buffer = new float[(int) total];
    }
    int at = 0;
    for (Tensor p : parameters) {
      int n = (int) p.numel();
      Tensor g = p.grad();
      if (g == null) {
        java.util.Arrays.fill(buffer, at, at + n, 0f);
      } else {
        System.arraycopy(g.toFloatArray(), 0, buffer, at, n);
      }
      at += n;
    }
    long start = System.nanoTime();
    allReduce.average(buffer);
    nanos += System.nanoTime() - start;
    calls++;
    at = 0;
    try (Scope s = Scope.open()) {
      for (Tensor p : parameters) {
        int n = (int) p.numel();
        Tensor g = p.grad();
        if (g != null) {
          float[] part = java.util.Arrays.copyOfRange(buffer, at, at + n);
          g.copy_(Tensor.fromArray(part, g.shape()));
        }
        at += n;
      }
    }
  }

  /** All-reduce calls so far. */
  public long calls() {
    return calls;
  }

  /** Seconds spent inside the all-reduce, summed over the calls. */
  public double allReduceSeconds() {
    return nanos / 1e9;
  }

  /** Floats averaged per call. */
  public int bufferSize() {
    return buffer.length;
  }
}
