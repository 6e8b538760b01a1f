package dev.fathom.data;

import dev.fathom.tensor.Functional;
import java.util.function.Function;

/**
 * Batch transforms for {@link DataLoader.Builder#transform}, run on the loading thread.
 *
 * <pre>{@code
 * DataLoader.builder(train).batchSize(128).transform(Transforms.resize(96)).build();  // 28x28 -> 96x96
 * }</pre>
 */
public final class Transforms {
  private Transforms() {}

  /** Bilinear resize of (N, C, H, W) images to size x size (PyTorch interpolate, align_corners=False). */
  public static Function<Batch, Batch> resize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("resize: size=" + size + " must be positive");
    }
    return b -> new Batch(Functional.resizeBilinear(b.x(), size, size), b.y());
  }
}
