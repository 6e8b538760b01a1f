package dev.fathom.data;

/**
 * A map-style dataset: {@link #size()} rows addressed by index, fetched a batch
 * at a time (like PyTorch's {@code Dataset} with a batched {@code __getitems__}).
 * A {@link DataLoader} decides which rows make up each batch.
 *
 * <pre>{@code
 * Dataset data = new TensorDataset(features, labels);
 * try (Batch b = data.batch(new long[] {0, 5, 7})) { ... }  // rows 0, 5 and 7
 * }</pre>
 *
 * <p>Contract for implementations: {@link #batch(long[])} returns a new batch
 * whose tensors belong to no scope (call {@code unscope()} on them if they
 * were made inside one) and whose first dimension is {@code indices.length}.
 * It may be called from a loader thread, one call at a time per loader
 * iterator, while other threads read the same dataset: it must not mutate
 * shared state without synchronisation. Gather rows with one native op per
 * tensor (e.g. {@code indexSelect}), not a Java loop over elements.
 */
public interface Dataset {
  /** Number of rows. */
  long size();

  /**
   * The rows {@code indices} (each in [0, size())), in that order, as a new
   * batch owned by the caller.
   */
  Batch batch(long[] indices);
}
