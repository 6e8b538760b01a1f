package dev.fathom.spark;

import java.io.Serializable;

/** One training example as an RDD row: its features (flattened, e.g. 784 pixels) and its class. */
public record Example(float[] features, long label) implements Serializable {
  public Example {
    if (features == null) {
      throw new IllegalArgumentException("Example: features are null");
    }
  }
}
