package dev.fathom.text;

import dev.fathom.data.Batch;
import dev.fathom.tensor.Tensor;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * The notes' two ways of cutting a corpus of token indices into language-model minibatches:
 * X (batch, steps) int64 and Y = X shifted by one token.
 * <ul>
 *   <li>{@link Method#RANDOM}: the corpus is cut into back-to-back windows of `steps` tokens,
 *   which are shuffled and taken `batch` at a time. Windows of one batch are unrelated to those of
 *   the next, so the hidden state must be re-initialised for every batch.</li>
 *   <li>{@link Method#SEQUENTIAL} (adjacent partitioning): the corpus is laid out as `batch` rows
 *   and cut into (batch, steps) blocks from left to right, so row i of a batch continues row i of
 *   the previous one: the hidden state is carried across batches (and detached: truncated BPTT).</li>
 * </ul>
 * Each epoch starts at a random offset (RANDOM: in [0, steps); SEQUENTIAL: in [0, steps], as
 * train_charlm.py) so that all window alignments are seen over epochs. Epoch e is a function of
 * (seed, e) only, as in {@code DataLoader}.
 *
 * <pre>{@code
 * SequenceSampler sampler = SequenceSampler.sequential(ids, 32, 35, seed);
 * for (Batch b : sampler.epoch(epoch)) {
 *   try (b; Scope step = Scope.open()) { ... b.x() ... b.y() ... }
 * }
 * }</pre>
 */
public final class SequenceSampler {
  /** The notes' sampling methods. */
  public enum Method { RANDOM, SEQUENTIAL }

  // Spreads consecutive epochs far apart in seed space (as DataLoader).
  private static final long EPOCH_MIX = 0x9E3779B97F4A7C15L;

  private final Method method;
  private final int[] corpus;
  private final int batchSize;
  private final int steps;
  private final long seed;
  private final boolean randomOffset;

  private SequenceSampler(Method method, int[] corpus, int batchSize, int steps, long seed, boolean randomOffset) {
    if (batchSize < 1 || steps < 1) {
      throw new IllegalArgumentException("SequenceSampler: batchSize=" + batchSize + " and steps=" + steps
          + " must be positive");
    }
    // Enough for one batch at the largest offset.
    long needed = (long) (batchSize + 1) * steps + 1;
    if (corpus.length < needed) {
      throw new IllegalArgumentException("SequenceSampler: a corpus of " + corpus.length + " tokens is too short "
          + "for batches of " + batchSize + " x " + steps + " steps (needs at least " + needed + ")");
    }
    this.method = method;
    this.corpus = corpus.clone();
    this.batchSize = batchSize;
    this.steps = steps;
    this.seed = seed;
    this.randomOffset = randomOffset;
  }

  /** Random sampling (shuffled independent windows) with a random offset per epoch. */
  public static SequenceSampler random(int[] corpus, int batchSize, int steps, long seed) {
    return new SequenceSampler(Method.RANDOM, corpus, batchSize, steps, seed, true);
  }

  /** Sequential (adjacent) partitioning with a random offset per epoch. */
  public static SequenceSampler sequential(int[] corpus, int batchSize, int steps, long seed) {
    return new SequenceSampler(Method.SEQUENTIAL, corpus, batchSize, steps, seed, true);
  }

  public static SequenceSampler of(Method method, int[] corpus, int batchSize, int steps, long seed) {
    return new SequenceSampler(method, corpus, batchSize, steps, seed, true);
  }

  /** The same sampler with every epoch starting at token 0 (the notes' pictures; tests). */
  public SequenceSampler withoutRandomOffset() {
    return new SequenceSampler(method, corpus, batchSize, steps, seed, false);
  }

  public Method method() {
    return method;
  }

  public int batchSize() {
    return batchSize;
  }

  public int steps() {
    return steps;
  }

  /** The batches of epoch `epoch` (any int; 1-based in the trainer). */
  public Epoch epoch(int epoch) {
    SplittableRandom rng = new SplittableRandom(seed ^ (epoch * EPOCH_MIX));
    return method == Method.RANDOM ? randomEpoch(rng) : sequentialEpoch(rng);
  }

  private Epoch randomEpoch(SplittableRandom rng) {
    int offset = randomOffset ? rng.nextInt(steps) : 0;
    int windows = (corpus.length - offset - 1) / steps;   // the last token of a window needs its target
    int[] order = new int[windows];
    for (int i = 0; i < windows; i++) {
      order[i] = i;
    }
    for (int i = windows - 1; i > 0; i--) {   // Fisher-Yates
      int j = rng.nextInt(i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    int batches = windows / batchSize;
    int[][] starts = new int[batches][batchSize];
    for (int b = 0; b < batches; b++) {
      for (int i = 0; i < batchSize; i++) {
        starts[b][i] = offset + order[b * batchSize + i] * steps;
      }
    }
    return new Epoch(starts);
  }

  private Epoch sequentialEpoch(SplittableRandom rng) {
    int offset = randomOffset ? rng.nextInt(steps + 1) : 0;
    int rowLength = (corpus.length - offset - 1) / batchSize;   // each row keeps one token for its last target
    int batches = rowLength / steps;
    int[][] starts = new int[batches][batchSize];
    for (int b = 0; b < batches; b++) {
      for (int i = 0; i < batchSize; i++) {
        starts[b][i] = offset + i * rowLength + b * steps;
      }
    }
    return new Epoch(starts);
  }

  /** One epoch: batch b row i covers corpus[starts[b][i] .. + steps) and its targets one further. */
  public final class Epoch implements Iterable<Batch> {
    private final int[][] starts;

    private Epoch(int[][] starts) {
      this.starts = starts;
    }

    public int size() {
      return starts.length;
    }

    /** Corpus position of the first token of each row, per batch (a copy). */
    public int[][] starts() {
      int[][] copy = new int[starts.length][];
      for (int i = 0; i < starts.length; i++) {
        copy[i] = starts[i].clone();
      }
      return copy;
    }

    /**
     * Batches with unowned int64 tensors x, y (batch, steps), made when the iterator reaches them;
     * close each batch (or adopt it into the step's scope).
     */
    @Override
    public Iterator<Batch> iterator() {
      return new Iterator<>() {
        private int next;

        @Override
        public boolean hasNext() {
          return next < starts.length;
        }

        @Override
        public Batch next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return batch(starts[next++]);
        }
      };
    }
  }

  private Batch batch(int[] rowStarts) {
    long[] x = new long[batchSize * steps];
    long[] y = new long[batchSize * steps];
    for (int i = 0; i < batchSize; i++) {
      for (int j = 0; j < steps; j++) {
        x[i * steps + j] = corpus[rowStarts[i] + j];
        y[i * steps + j] = corpus[rowStarts[i] + j + 1];
      }
    }
    return new Batch(Tensor.fromArray(x, batchSize, steps).unscope(), Tensor.fromArray(y, batchSize, steps).unscope());
  }
}
