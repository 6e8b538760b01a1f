package dev.fathom.spark;

/**
 * Averages a float buffer across the replicas of a data-parallel job. Every replica
 * calls {@link #average} with a buffer of the same length, in the same order of calls;
 * on return every replica holds the identical element-wise mean.
 */
public interface AllReduce extends AutoCloseable {
  /** Replaces `data` with the mean of every replica's `data`, bit-identical on all of them. */
  void average(float[] data);

  int rank();

  int size();

  /** Bytes this replica has sent so far. */
  long bytesSent();

  @Override
  void close();
}
