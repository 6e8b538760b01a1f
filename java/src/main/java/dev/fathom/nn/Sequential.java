package dev.fathom.nn;

import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Runs its children in order; they are named "0", "1", ... as in PyTorch.
 *
 * <pre>{@code
 * Sequential net = new Sequential(new Flatten(), new Linear(784, 10));
 * }</pre>
 */
public class Sequential extends Module {
  private final List<Module> layers = new ArrayList<>();

  public Sequential(Module... layers) {
    this(Arrays.asList(layers));
  }

  public Sequential(List<? extends Module> layers) {
    for (Module m : layers) {
      add(m);
    }
  }

  /** Appends a layer. */
  public Sequential add(Module m) {
    registerModule(Integer.toString(layers.size()), m);
    layers.add(m);
    return this;
  }

  public List<Module> layers() {
    return Collections.unmodifiableList(layers);
  }

  public Module get(int i) {
    return layers.get(i);
  }

  @Override
  protected Tensor summarize(String name, Tensor x, List<SummaryRow> rows) {
    Tensor y = x;
    for (int i = 0; i < layers.size(); i++) {
      y = layers.get(i).summarize(name.isEmpty() ? Integer.toString(i) : name + "." + i, y, rows);
    }
    return y;
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor y = x;
    // Without a graph, Conv2d followed by ReLU runs as one fused primitive.
    boolean fuse = !GradMode.isEnabled();
    for (int i = 0; i < layers.size(); i++) {
      try {
        if (fuse && layers.get(i) instanceof Conv2d conv && i + 1 < layers.size()
            && layers.get(i + 1) instanceof ReLU) {
          y = conv.forwardRelu(y);
          i++;
          continue;
        }
        y = layers.get(i).forward(y);
      } catch (IllegalArgumentException e) {
        // Name the failing layer: shape errors otherwise do not say where they happened.
        throw new IllegalArgumentException("layer " + i + " (" + layers.get(i).getClass().getSimpleName()
            + "): " + e.getMessage(), e);
      }
    }
    return y;
  }
}
