package dev.fathom.zoo;

import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Module;
import dev.fathom.tensor.Generator;
import dev.fathom.tensor.Tensor;

/**
 * ResNet's residual block (the notes): relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
 * where the shortcut is a 1x1 convolution when the stride or the channel count changes.
 */
public class Residual extends Module {
  private final Conv2d conv1;
  private final Conv2d conv2;
  private final Conv2d conv3;
  private final BatchNorm2d bn1;
  private final BatchNorm2d bn2;

  public Residual(long in, long out, boolean use1x1, int stride, Generator gen) {
    // Registration order = PyTorch's attribute order, so state-dict keys line up.
    conv1 = registerModule("conv1", new Conv2d(in, out, 3, stride, 1, true, gen));
    conv2 = registerModule("conv2", new Conv2d(out, out, 3, 1, 1, true, gen));
    conv3 = use1x1 ? registerModule("conv3", new Conv2d(in, out, 1, stride, 0, true, gen)) : null;
    bn1 = registerModule("bn1", new BatchNorm2d(out));
    bn2 = registerModule("bn2", new BatchNorm2d(out));
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor y = bn1.forward(conv1.forward(x)).relu();
    y = bn2.forward(conv2.forward(y));
    Tensor shortcut = conv3 == null ? x : conv3.forward(x);
    return y.add(shortcut).relu();
  }
}
