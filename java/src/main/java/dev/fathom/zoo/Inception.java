package dev.fathom.zoo;

import dev.fathom.nn.Conv2d;
import dev.fathom.nn.MaxPool2d;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;
import java.util.List;

/**
 * GoogLeNet's Inception block (the notes' version): four parallel paths -- 1x1;
 * 1x1 then 3x3; 1x1 then 5x5; 3x3 max pool then 1x1 -- concatenated along
 * channels: out = c1 + c2[1] + c3[1] + c4 channels, spatial size unchanged.
 */
public class Inception extends Module {
  private final Sequential p1;
  private final Sequential p2;
  private final Sequential p3;
  private final Sequential p4;

  public Inception(long in, long c1, long[] c2, long[] c3, long c4, Generator gen) {
    p1 = registerModule("p1", new Sequential(new Conv2d(in, c1, 1, 1, 0, true, gen), new ReLU()));
    p2 = registerModule("p2", new Sequential(new Conv2d(in, c2[0], 1, 1, 0, true, gen), new ReLU(),
        new Conv2d(c2[0], c2[1], 3, 1, 1, true, gen), new ReLU()));
    p3 = registerModule("p3", new Sequential(new Conv2d(in, c3[0], 1, 1, 0, true, gen), new ReLU(),
        new Conv2d(c3[0], c3[1], 5, 1, 2, true, gen), new ReLU()));
    p4 = registerModule("p4", new Sequential(new MaxPool2d(3, 1, 1), new Conv2d(in, c4, 1, 1, 0, true, gen),
        new ReLU()));
  }

  @Override
  public Tensor forward(Tensor x) {
    return Tensor.cat(List.of(p1.forward(x), p2.forward(x), p3.forward(x), p4.forward(x)), 1);
  }
}
