package dev.fathom.data;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * A dataset over tensors already in memory: row i is {@code features[i]} with
 * label {@code labels[i]} (rows along dim 0), like PyTorch's
 * {@code TensorDataset}. It is not lazy: both tensors stay resident.
 *
 * <pre>{@code
 * try (TensorDataset data = new TensorDataset(Tensor.randn(gen, 100, 3), labels)) {
 *   Batch b = data.batch(new long[] {4, 2});   // x [2, 3], y [2]
 * }
 * }</pre>
 *
 * <p>Ownership: the dataset takes ownership of both tensors (it removes them
 * from any scope) and closes them in {@link #close()}. Batches are copies, so
 * they stay valid after the dataset is closed.
 */
public final class TensorDataset implements Dataset, AutoCloseable {
  private final Tensor features;
  private final Tensor labels;

  /** Rows of {@code features} with {@code labels} (which may be null); takes ownership of both. */
  public TensorDataset(Tensor features, Tensor labels) {
    if (features == null) {
      throw new IllegalArgumentException("TensorDataset: features must not be null");
    }
    if (features.dim() == 0) {
      throw new IllegalArgumentException("TensorDataset: features must have a row dimension, got shape []");
    }
    if (labels != null && (labels.dim() == 0 || labels.size(0) != features.size(0))) {
      throw new IllegalArgumentException("TensorDataset: features " + Arrays.toString(features.shape())
          + " and labels " + Arrays.toString(labels.shape()) + " must have the same first dimension");
    }
    this.features = features.unscope();
    this.labels = labels == null ? null : labels.unscope();
  }

  /** The feature tensor (owned by this dataset: do not close it). */
  public Tensor features() {
    return features;
  }

  /** The label tensor, or null (owned by this dataset: do not close it). */
  public Tensor labels() {
    return labels;
  }

  @Override
  public long size() {
    return features.size(0);
  }

  @Override
  public Batch batch(long[] indices) {
    long n = size();
    // NOTE: the native gather checks bounds too; checking here gives a message
    // that names the dataset row rather than a kernel argument.
    for (int i = 0; i < indices.length; i++) {
      if (indices[i] < 0 || indices[i] >= n) {
        throw new IndexOutOfBoundsException(
            "TensorDataset: index " + indices[i] + " at position " + i + " is outside [0, " + n + ")");
      }
    }
    Tensor x = null;
    Tensor y = null;
    try (GradMode.Guard g = GradMode.disable(); Tensor index = Tensor.fromArray(indices, indices.length)) {
      x = features.indexSelect(0, index).unscope();
      y = labels == null ? null : labels.indexSelect(0, index).unscope();
      return new Batch(x, y);
    } catch (RuntimeException | Error e) {
      if (x != null) {
        x.close();
      }
      throw e;
    }
  }

  @Override
  public void close() {
    features.close();
    if (labels != null) {
      labels.close();
    }
  }

  @Override
  public String toString() {
    return "TensorDataset(features=" + Arrays.toString(features.shape()) + " " + features.dtype()
        + (labels == null ? "" : ", labels=" + Arrays.toString(labels.shape()) + " " + labels.dtype()) + ")";
  }
}
