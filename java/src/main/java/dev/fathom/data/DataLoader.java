package dev.fathom.data;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Iterates over a {@link Dataset} in mini-batches, optionally shuffled and
 * loaded ahead on a background thread (PyTorch's {@code DataLoader} with at
 * most one worker). Each call to {@link #iterator()} is one epoch.
 *
 * <pre>{@code
 * try (DataLoader loader = DataLoader.builder(train).batchSize(256).shuffle(true).seed(42).prefetch(2).build()) {
 *   for (Batch b : loader) {                 // one epoch
 *     try (b) { ... b.x() ... b.y() ... }    // the consumer closes each batch
 *   }
 * }
 * }</pre>
 *
 * <p>Order: without shuffle, rows come in index order. With shuffle, epoch e
 * visits the rows in a Fisher-Yates permutation drawn from
 * {@code new SplittableRandom(seed ^ (e * 0x9E3779B97F4A7C15L))}: the same seed
 * and epoch always give the same order, and each epoch a different one.
 * {@link #iterator()} numbers epochs 0, 1, 2, ... per loader;
 * {@link #iterator(long)} starts a given epoch (e.g. when resuming).
 *
 * <p>Threads and memory: with {@code prefetch(k)}, k > 0, each epoch's batches
 * are loaded (and transformed) on one daemon thread named
 * {@value #THREAD_NAME}, at most k ahead of the consumer, and handed over
 * through a bounded queue; with {@code prefetch(0)} (the default) they are
 * loaded on the consumer's thread in {@code next()}. Either way the batches
 * are identical and their tensors belong to no scope: the consumer closes
 * each batch (or adopts it into a scope with {@link Batch#adoptInto}).
 * Closing an iterator before its end, or closing the loader (which closes
 * every iterator it started), stops the thread and closes the batches loaded
 * but not yet handed out. A for-each loop left with {@code break} leaves its
 * iterator open until the loader is closed: close the iterator yourself
 * (it is {@link AutoCloseable}) to release it earlier. The loader never closes
 * its dataset.
 *
 * <p>Errors: an exception thrown while loading batch b (by the dataset or the
 * transform, on either thread) reaches the consumer from {@code next()} as a
 * {@link RuntimeException} whose cause is the original exception; the
 * iterator is then closed.
 */
public final class DataLoader implements Iterable<Batch>, AutoCloseable {
  /** Name of the background loading thread. */
  public static final String THREAD_NAME = "fathom-loader";

  // NOTE: the 64-bit golden ratio spreads consecutive epochs far apart in seed
  // space; SplittableRandom mixes the seed again, so nearby seeds also differ.
  private static final long EPOCH_MIX = 0x9E3779B97F4A7C15L;
  // How often a blocked producer or consumer rechecks for cancellation.
  private static final long POLL_MS = 50;

  private final Dataset dataset;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private final int prefetch;
  private final Function<Batch, Batch> transform;
  private final AtomicLong nextEpoch = new AtomicLong();
  private final Set<BatchIterator> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private DataLoader(Builder b) {
    this.dataset = b.dataset;
    this.batchSize = b.batchSize;
    this.shuffle = b.shuffle;
    this.seed = b.seed;
    this.dropLast = b.dropLast;
    this.prefetch = b.prefetch;
    this.transform = b.transform;
  }

  /** A builder for a loader over {@code dataset}. */
  public static Builder builder(Dataset dataset) {
    return new Builder(dataset);
  }

  public Dataset dataset() {
    return dataset;
  }

  public int batchSize() {
    return batchSize;
  }

  /** Seed of the shuffle permutations. */
  public long seed() {
    return seed;
  }

  public boolean isShuffled() {
    return shuffle;
  }

  /** Batches per epoch: ceil(size / batchSize), or floor with dropLast. */
  public long numBatches() {
    long n = dataset.size();
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /**
   * The order in which epoch {@code epoch} visits the rows: 0..size-1 without
   * shuffle, otherwise the seeded permutation described in the class comment.
   */
  public long[] order(long epoch) {
    long n = dataset.size();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("DataLoader: dataset of " + n + " rows is too large to index");
    }
    long[] order = new long[(int) n];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    if (shuffle) {
      // Fisher-Yates (Durstenfeld): swap each position with a uniform earlier-or-same one.
      SplittableRandom rng = new SplittableRandom(seed ^ (epoch * EPOCH_MIX));
      for (int i = order.length - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        long t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    return order;
  }

  /** Starts the next epoch (0 for the first call on this loader). */
  @Override
  public BatchIterator iterator() {
    return iterator(nextEpoch.getAndIncrement());
  }

  /** Starts epoch {@code epoch} (its shuffle order) without changing the loader's epoch counter. */
  public BatchIterator iterator(long epoch) {
    if (closed) {
      throw new IllegalStateException("DataLoader: iterator() on a closed loader");
    }
    BatchIterator it = new BatchIterator(epoch);
    open.add(it);
    if (closed) {
      // NOTE: close() may have run between the check above and add(): do not leak the thread.
      it.close();
      throw new IllegalStateException("DataLoader: iterator() on a closed loader");
    }
    it.start();
    return it;
  }

  /** Closes every iterator this loader started (stopping their threads); not the dataset. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (BatchIterator it : open) {
      it.close();
    }
  }

  /** Loads batch {@code b} of an epoch: gather, transform, and detach from any scope. */
  private Batch load(long[] order, long b) {
    int start = Math.toIntExact(b * batchSize);
    int end = Math.min(start + batchSize, order.length);
    long[] indices = Arrays.copyOfRange(order, start, end);
    // NOTE: the scope frees whatever a dataset or transform leaves behind
    // (temporaries of e.g. x.sub(mean).div(std)); the batch's own tensors are
    // unscoped below, so they survive it and belong to no scope on any thread.
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Batch raw = dataset.batch(indices);
      if (raw == null) {
        throw new IllegalStateException("DataLoader: " + dataset.getClass().getSimpleName()
            + ".batch returned null");
      }
      Batch out = raw;
      if (transform != null) {
        try {
          out = transform.apply(raw);
        } catch (RuntimeException | Error e) {
          raw.close();
          throw e;
        }
        if (out == null) {
          raw.close();
          throw new IllegalStateException("DataLoader: transform returned null");
        }
        closeReplaced(raw, out);
      }
      out.x().unscope();
      if (out.y() != null) {
        out.y().unscope();
      }
      return out;
    }
  }

  /** Closes the tensors of {@code raw} that {@code out} does not reuse (closing twice is harmless). */
  private static void closeReplaced(Batch raw, Batch out) {
    if (raw == out) {
      return;
    }
    closeUnless(raw.x(), out);
    if (raw.y() != null) {
      closeUnless(raw.y(), out);
    }
  }

  private static void closeUnless(Tensor t, Batch out) {
    if (t != out.x() && t != out.y()) {
      t.close();
    }
  }

  /** The item a failed load leaves in the queue. */
  private record Failure(long batch, Throwable cause) {}

  private static final Object END = new Object();

  /**
   * One epoch of batches. Closing it early stops its loading thread and closes
   * the batches loaded but not handed out; batches already handed out are the
   * consumer's.
   */
  public final class BatchIterator implements Iterator<Batch>, AutoCloseable {
    private final long epoch;
    private final long[] order;
    private final long total;
    private final BlockingQueue<Object> queue;
    private final Thread thread;
    private final AtomicReference<Object> pending = new AtomicReference<>();
    private volatile boolean cancelled;
    private volatile boolean done;
    private long nextBatch;

    private BatchIterator(long epoch) {
      this.epoch = epoch;
      this.order = order(epoch);
      this.total = dropLast ? order.length / batchSize : (order.length + batchSize - 1L) / batchSize;
      if (prefetch > 0) {
        queue = new ArrayBlockingQueue<>(prefetch);
        thread = new Thread(this::produce, THREAD_NAME);
        thread.setDaemon(true);
      } else {
        queue = null;
        thread = null;
      }
    }

    private void start() {
      if (thread != null) {
        thread.start();
      }
    }

    /** The epoch whose order this iterator follows. */
    public long epoch() {
      return epoch;
    }

    @Override
    public boolean hasNext() {
      if (done) {
        return false;
      }
      if (thread == null) {
        if (nextBatch < total) {
          return true;
        }
        close();
        return false;
      }
      Object item = pending.get();
      if (item == null) {
        item = take();
        if (item == null) {
          return false;                          // closed while waiting
        }
        pending.set(item);
        if (done) {
          // NOTE: close() ran on another thread while this one waited: release what it missed.
          closeItem(pending.getAndSet(null));
          return false;
        }
      }
      if (item == END) {
        close();
        return false;
      }
      return true;
    }

    @Override
    public Batch next() {
      if (!hasNext()) {
        throw new NoSuchElementException("DataLoader: epoch " + epoch + " has no more batches");
      }
      if (thread == null) {
        long b = nextBatch++;
        try {
          return load(order, b);
        } catch (RuntimeException | Error e) {
          close();
          throw failed(b, e);
        }
      }
      Object item = pending.getAndSet(null);
      if (item == null) {
        // close() on another thread took the batch between hasNext() and here.
        throw new NoSuchElementException("DataLoader: epoch " + epoch + " was closed");
      }
      if (item instanceof Failure f) {
        close();
        throw failed(f.batch(), f.cause());
      }
      nextBatch++;
      return (Batch) item;
    }

    private RuntimeException failed(long b, Throwable cause) {
      return new RuntimeException("DataLoader: loading batch " + b + " of epoch " + epoch + " from "
          + dataset.getClass().getSimpleName() + " failed: " + cause, cause);
    }

    /** Waits for the next item from the loading thread; null once closed. */
    private Object take() {
      while (!done) {
        Object item;
        try {
          item = queue.poll(POLL_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          close();
          Thread.currentThread().interrupt();
          throw new IllegalStateException("DataLoader: interrupted while waiting for a batch", e);
        }
        if (item != null) {
          return item;
        }
        if (!thread.isAlive() && queue.isEmpty()) {
          close();
          throw new IllegalStateException("DataLoader: loader thread ended without a result (epoch "
              + epoch + ", batch " + nextBatch + ")");
        }
      }
      return null;
    }

    /** The loading thread: loads every batch in order, then END (or a Failure). */
    private void produce() {
      long b = 0;
      try {
        for (; b < total && !cancelled; b++) {
          Batch batch = load(order, b);
          if (!hand(batch)) {
            batch.close();
            return;
          }
        }
        hand(END);
      } catch (Throwable t) {
        hand(new Failure(b, t));
      }
    }

    /** Puts an item in the queue unless cancelled first; returns whether it went in. */
    private boolean hand(Object item) {
      while (!cancelled) {
        try {
          if (queue.offer(item, POLL_MS, TimeUnit.MILLISECONDS)) {
            if (cancelled) {
              // NOTE: close() may have drained the queue before this offer: drain
              // again so no batch stays behind. poll() hands each item to one thread.
              drain();
            }
            return true;
          }
        } catch (InterruptedException e) {
          // close() interrupts this thread; the cancelled flag says whether to stop.
        }
      }
      return false;
    }

    private void drain() {
      Object item;
      while ((item = queue.poll()) != null) {
        closeItem(item);
      }
    }

    private void closeItem(Object item) {
      if (item instanceof Batch batch) {
        batch.close();
      }
    }

    /** Stops the loading thread, waits for it, and closes batches not handed out. Idempotent. */
    @Override
    public void close() {
      if (done) {
        return;
      }
      done = true;
      cancelled = true;
      if (thread != null) {
        thread.interrupt();
        drain();
        // NOTE: wait for the thread: it may be inside dataset.batch reading the
        // dataset's tensors, which the caller may close right after this.
        boolean interrupted = false;
        while (thread.isAlive()) {
          try {
            thread.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
        drain();
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        closeItem(pending.getAndSet(null));
      }
      open.remove(this);
    }
  }

  /** Options for {@link DataLoader}; defaults: batchSize 1, no shuffle, seed 0, keep the last batch, prefetch 0. */
  public static final class Builder {
    private final Dataset dataset;
    private int batchSize = 1;
    private boolean shuffle;
    private long seed;
    private boolean dropLast;
    private int prefetch;
    private Function<Batch, Batch> transform;

    private Builder(Dataset dataset) {
      if (dataset == null) {
        throw new IllegalArgumentException("DataLoader: dataset must not be null");
      }
      this.dataset = dataset;
    }

    /** Rows per batch (>= 1); the last batch of an epoch may be smaller unless dropLast. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("DataLoader: batchSize=" + batchSize + " must be >= 1");
      }
      this.batchSize = batchSize;
      return this;
    }

    /** Visit the rows in a new seeded permutation each epoch. */
    public Builder shuffle(boolean shuffle) {
      this.shuffle = shuffle;
      return this;
    }

    /** Seed of the shuffle permutations (any value, 0 included). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Drop the final batch of an epoch when it has fewer than batchSize rows. */
    public Builder dropLast(boolean dropLast) {
      this.dropLast = dropLast;
      return this;
    }

    /** Load up to {@code batches} ahead on a background thread; 0 loads on the consumer's thread. */
    public Builder prefetch(int batches) {
      if (batches < 0) {
        throw new IllegalArgumentException("DataLoader: prefetch=" + batches + " must be >= 0");
      }
      this.prefetch = batches;
      return this;
    }

    /**
     * A function applied to each batch on the loading thread (e.g.
     * normalisation), with grad mode off. Temporaries it makes are freed by
     * the loader; tensors of the input batch that the result does not reuse
     * are closed by the loader too (closing them yourself is harmless). It
     * must not keep references to the input batch.
     *
     * <pre>{@code
     * .transform(b -> new Batch(b.x().sub(0.5).div(0.25), b.y()))
     * }</pre>
     */
    public Builder transform(Function<Batch, Batch> transform) {
      this.transform = transform;
      return this;
    }

    public DataLoader build() {
      return new DataLoader(this);
    }
  }
}
