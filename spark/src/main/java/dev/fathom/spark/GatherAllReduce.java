package dev.fathom.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import org.apache.spark.BarrierTaskContext;

/**
 * All-reduce through {@link BarrierTaskContext#allGather}: each replica sends its whole
 * buffer (Base64 text) to the driver, which sends every replica's buffer to every replica.
 * It needs no connection between executors, but the driver relays N x N buffers per call,
 * so its cost grows with N and with the model: kept for comparison and for clusters whose
 * executors cannot reach each other (docs/spark.md has both measured).
 */
public final class GatherAllReduce implements AllReduce {
  private final BarrierTaskContext context;
  private final int rank;
  private final int size;
  private long bytesSent;

  public GatherAllReduce(BarrierTaskContext context) {
    this.context = context;
    this.rank = context.partitionId();
    this.size = context.getTaskInfos().length;
  }

  @Override
  public void average(float[] data) {
    if (size == 1) {
      return;
    }
    ByteBuffer mine = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    mine.asFloatBuffer().put(data);
    String encoded = Base64.getEncoder().encodeToString(mine.array());
    bytesSent += encoded.length();
    String[] all = context.allGather(encoded);
    float[] sum = new float[data.length];
    // Summed in rank order on every replica: the same bits everywhere.
    for (String s : all) {
      byte[] bytes = Base64.getDecoder().decode(s);
      if (bytes.length != data.length * 4) {
        throw new IllegalStateException("GatherAllReduce: replica " + rank + " has " + data.length
            + " floats but received " + bytes.length / 4);
      }
      java.nio.FloatBuffer fb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      for (int i = 0; i < sum.length; i++) {
        sum[i] += fb.get(i);
      }
    }
    float inverse = 1f / size;
    for (int i = 0; i < data.length; i++) {
      data[i] = sum[i] * inverse;
    }
  }

  @Override
  public int rank() {
    return rank;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public long bytesSent() {
    return bytesSent;
  }

  @Override
  public void close() {}
}
