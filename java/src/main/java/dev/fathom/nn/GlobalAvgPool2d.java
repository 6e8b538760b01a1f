package dev.fathom.nn;

import dev.fathom.tensor.Tensor;

/** Mean over H and W: (N, C, H, W) -> (N, C, 1, 1), as AdaptiveAvgPool2d(1) (NiN, GoogLeNet, ResNet heads). */
public class GlobalAvgPool2d extends Module {
  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() != 4) {
      throw new IllegalArgumentException("GlobalAvgPool2d: input must be (N, C, H, W), got "
          + java.util.Arrays.toString(x.shape()));
    }
    return x.mean(new int[] {2, 3}, true);
  }
}
