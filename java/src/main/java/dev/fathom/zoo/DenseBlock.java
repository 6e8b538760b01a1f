package dev.fathom.zoo;

import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;
import java.util.List;

/**
 * DenseNet's dense block (the notes): n conv blocks (BN, ReLU, 3x3 conv of
 * `growth` channels), each fed the concatenation of the block input and all
 * earlier outputs; out channels = in + n * growth.
 */
public class DenseBlock extends Module {
  private final Sequential net;

  public DenseBlock(int n, long in, long growth, Generator gen) {
    net = registerModule("net", new Sequential());
    for (int k = 0; k < n; k++) {
      long c = in + k * growth;
      net.add(new Sequential(new BatchNorm2d(c), new ReLU(), new Conv2d(c, growth, 3, 1, 1, true, gen)));
    }
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor y = x;
    for (Module block : net.layers()) {
      y = Tensor.cat(List.of(y, block.forward(y)), 1);
    }
    return y;
  }
}
