package dev.fathom.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Ring all-reduce over TCP: replica r sends to r + 1 and receives from r - 1. A
 * reduce-scatter (N - 1 rounds, each adding one chunk of 1/N of the buffer) followed by an
 * all-gather (N - 1 rounds, each copying one reduced chunk) moves 2 (N - 1) / N of the
 * buffer per replica per call, whatever N is, and no replica (nor the Spark driver)
 * carries everyone's data. Each chunk's sum is computed on one replica and then copied,
 * so all replicas end with the same bits, and the replicas' weights stay identical.
 *
 * <p>Sending runs on one background thread while the caller receives, so two replicas
 * that send to each other at once never wait on full socket buffers.
 */
public final class RingAllReduce implements AllReduce {
  /** How long a call waits for its neighbour before failing (a lost peer must not hang the job). */
  public static final int DEFAULT_TIMEOUT_MS = 120_000;

  private final int rank;
  private final int size;
  private final Socket toNext;
  private final Socket fromPrevious;
  private final OutputStream out;
  private final DataInputStream in;
  private final ExecutorService sender;
  private final int timeoutMs;
  private byte[] sendBytes = new byte[0];
  private byte[] receiveBytes = new byte[0];
  private long bytesSent;

  private RingAllReduce(int rank, int size, Socket toNext, Socket fromPrevious, int timeoutMs) throws IOException {
    this.rank = rank;
    this.size = size;
    this.toNext = toNext;
    this.fromPrevious = fromPrevious;
    this.timeoutMs = timeoutMs;
    this.out = toNext == null ? null : new BufferedOutputStream(toNext.getOutputStream(), 1 << 16);
    this.in = fromPrevious == null ? null
        : new DataInputStream(new BufferedInputStream(fromPrevious.getInputStream(), 1 << 16));
    this.sender = toNext == null ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fathom-allreduce-send-" + rank);
      t.setDaemon(true);
      return t;
    });
  }

  /** A ring of one: {@link #average} leaves the buffer as it is. */
  public static RingAllReduce single() {
    try {
      return new RingAllReduce(0, 1, null, null, DEFAULT_TIMEOUT_MS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Joins the ring: `listener` is this replica's open server socket, whose address is
   * `addresses.get(rank)`; connects to the next replica and accepts the previous one.
   */
  public static RingAllReduce connect(int rank, ServerSocket listener, List<InetSocketAddress> addresses,
      int timeoutMs) {
    int size = addresses.size();
    if (rank < 0 || rank >= size) {
      throw new IllegalArgumentException("RingAllReduce: rank " + rank + " outside a ring of " + size);
    }
    if (size == 1) {
      return single();
    }
    Socket next = null;
    try {
      // The listen backlog takes this connection before the neighbour accepts, so every
      // replica can connect first and accept second without a deadlock.
      next = new Socket();
      next.setTcpNoDelay(true);
      next.connect(addresses.get((rank + 1) % size), timeoutMs);
      next.getOutputStream().write(ByteBuffer.allocate(4).putInt(rank).array());
      next.getOutputStream().flush();
      listener.setSoTimeout(timeoutMs);
      Socket previous = listener.accept();
      previous.setTcpNoDelay(true);
      previous.setSoTimeout(timeoutMs);
      int from = new DataInputStream(previous.getInputStream()).readInt();
      int expected = (rank - 1 + size) % size;
      if (from != expected) {
        previous.close();
        throw new IllegalStateException("RingAllReduce: replica " + rank + " expected its neighbour " + expected
            + " but replica " + from + " connected");
      }
      return new RingAllReduce(rank, size, next, previous, timeoutMs);
    } catch (IOException e) {
      closeQuietly(next);
      throw new UncheckedIOException("RingAllReduce: replica " + rank + " of " + size + " could not join the ring "
          + addresses + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void average(float[] data) {
    if (size == 1) {
      return;
    }
    int n = data.length;
    // Chunk c covers [start(c), start(c + 1)).
    int[] start = new int[size + 1];
    for (int c = 0; c <= size; c++) {
      start[c] = (int) ((long) n * c / size);
    }
    ensureCapacity((start[1] - start[0] + 1) * 4);
    try {
      for (int round = 0; round < size - 1; round++) {
        int sendChunk = Math.floorMod(rank - round, size);
        int receiveChunk = Math.floorMod(rank - round - 1, size);
        exchange(data, start[sendChunk], start[sendChunk + 1], start[receiveChunk], start[receiveChunk + 1], true);
      }
      for (int round = 0; round < size - 1; round++) {
        int sendChunk = Math.floorMod(rank + 1 - round, size);
        int receiveChunk = Math.floorMod(rank - round, size);
        exchange(data, start[sendChunk], start[sendChunk + 1], start[receiveChunk], start[receiveChunk + 1], false);
      }
    } catch (java.io.EOFException e) {
      throw new UncheckedIOException("RingAllReduce: replica " + rank + " of " + size + ": replica "
          + Math.floorMod(rank - 1, size) + " closed the connection (it failed or stopped)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("RingAllReduce: replica " + rank + " of " + size + ": " + e.getMessage(), e);
    }
    float inverse = 1f / size;
    for (int i = 0; i < n; i++) {
      data[i] *= inverse;
    }
  }

  private void exchange(float[] data, int sendFrom, int sendTo, int receiveFrom, int receiveTo, boolean add)
      throws IOException {
    int sendCount = sendTo - sendFrom;
    ByteBuffer sb = ByteBuffer.wrap(sendBytes, 0, sendCount * 4).order(ByteOrder.LITTLE_ENDIAN);
    sb.asFloatBuffer().put(data, sendFrom, sendCount);
    Future<?> sent = sender.submit(() -> {
      out.write(sendBytes, 0, sendCount * 4);
      out.flush();
      return null;
    });
    int receiveCount = receiveTo - receiveFrom;
    in.readFully(receiveBytes, 0, receiveCount * 4);
    java.nio.FloatBuffer rb = ByteBuffer.wrap(receiveBytes, 0, receiveCount * 4).order(ByteOrder.LITTLE_ENDIAN)
        .asFloatBuffer();
    if (add) {
      for (int i = 0; i < receiveCount; i++) {
        data[receiveFrom + i] += rb.get(i);
      }
    } else {
      rb.get(data, receiveFrom, receiveCount);
    }
    try {
      sent.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("sending to replica " + (rank + 1) % size + " timed out after " + timeoutMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    bytesSent += sendCount * 4L;
  }

  private void ensureCapacity(int bytes) {
    if (sendBytes.length < bytes) {
      sendBytes = new byte[bytes];
      receiveBytes = new byte[bytes];
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
  public void close() {
    if (sender != null) {
      sender.shutdownNow();
    }
    closeQuietly(toNext);
    closeQuietly(fromPrevious);
  }

  private static void closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // Closing after a failure: the failure is what gets reported.
      }
    }
  }
}
