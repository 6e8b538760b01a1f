package dev.fathom.nn;

import dev.fathom.FathomException;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;
import java.util.Arrays;

/**
 * A lookup table: row i of weight (numEmbeddings, embeddingDim) for index i, as
 * torch.nn.Embedding (same parameter name and N(0, 1) initialisation). Equivalent to
 * oneHot(indices) W, without building the one-hot matrix; the gradient adds the output
 * gradient into the rows that were looked up.
 *
 * <pre>{@code
 * Embedding emb = new Embedding(vocab.size(), 32, gen);
 * Tensor e = emb.forward(tokens);   // int64 (N, T) -> (N, T, 32)
 * }</pre>
 */
public class Embedding extends Module {
  private final long numEmbeddings;
  private final long embeddingDim;

  public Embedding(long numEmbeddings, long embeddingDim) {
    this(numEmbeddings, embeddingDim, Generator.defaultGenerator());
  }

  public Embedding(long numEmbeddings, long embeddingDim, Generator gen) {
    if (numEmbeddings < 1 || embeddingDim < 1) {
      throw new IllegalArgumentException("Embedding: numEmbeddings=" + numEmbeddings + " and embeddingDim="
          + embeddingDim + " must be positive");
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    registerParameter("weight", Tensor.normal(gen, 0, 1, DType.FLOAT32, numEmbeddings, embeddingDim));
  }

  /** (numEmbeddings, embeddingDim). */
  public Tensor weight() {
    return param("weight");
  }

  public long numEmbeddings() {
    return numEmbeddings;
  }

  public long embeddingDim() {
    return embeddingDim;
  }

  /** Integer indices of any shape, each in [0, numEmbeddings) -> shape + [embeddingDim]. */
  @Override
  public Tensor forward(Tensor indices) {
    if (indices.dtype() != DType.INT64 && indices.dtype() != DType.INT32) {
      throw new IllegalArgumentException("Embedding(" + numEmbeddings + ", " + embeddingDim + "): indices "
          + Arrays.toString(indices.shape()) + " must be int64 or int32, got " + indices.dtype());
    }
    long[] shape = Arrays.copyOf(indices.shape(), indices.dim() + 1);
    shape[indices.dim()] = embeddingDim;
    Tensor rows;
    try {
      rows = weight().indexSelect(0, indices.to(DType.INT64).reshape(-1));
    } catch (FathomException e) {
      if (e.status() != FathomException.Status.INVALID_ARGUMENT) {
        throw e;  // e.g. OUT_OF_MEMORY: not the indices' fault
      }
      throw new IllegalArgumentException("Embedding(" + numEmbeddings + ", " + embeddingDim + "): indices "
          + Arrays.toString(indices.shape()) + " must lie in [0, " + numEmbeddings + "): " + e.getMessage(), e);
    }
    return rows.reshape(shape);
  }

  @Override
  protected String extraRepr() {
    return "num=" + numEmbeddings + ", dim=" + embeddingDim;
  }
}
