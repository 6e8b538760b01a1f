package dev.fathom.zoo;

import dev.fathom.nn.Dropout;
import dev.fathom.nn.Flatten;
import dev.fathom.nn.Init;
import dev.fathom.nn.Linear;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.tensor.Generator;
import java.util.List;

/**
 * Reference models of the curriculum for 1x28x28 inputs (Fashion-MNIST), built
 * with their reference initialisation, module names matching PyTorch's
 * (../shared/bench/pytorch/models.py), so state dicts line up.
 *
 * <pre>{@code
 * Module mlp = Models.mlp(10, 0.0, new Generator(0));   // 784-256-10, ReLU
 * }</pre>
 */
public final class Models {
  private Models() {}

  /** Names accepted by {@link #create}. */
  public static final List<String> NAMES = List.of("softmax", "mlp");

  /** Softmax regression: Flatten, Linear(784, classes); weights N(0, 0.01), bias 0 (the notes). */
  public static Sequential softmaxRegression(int classes, Generator gen) {
    Sequential net = new Sequential(new Flatten(), new Linear(784, classes, true, gen));
    return normalInit(net, gen);
  }

  /**
   * MLP 784-256-classes with ReLU; dropout > 0 adds inverted dropout after the
   * hidden layer (the notes' regularisation experiment). Weights N(0, 0.01), bias 0.
   */
  public static Sequential mlp(int classes, double dropout, Generator gen) {
    Sequential net = new Sequential(new Flatten(), new Linear(784, 256, true, gen), new ReLU());
    if (dropout > 0) {
      net.add(new Dropout(dropout, gen));
    }
    net.add(new Linear(256, classes, true, gen));
    return normalInit(net, gen);
  }

  /** A model by name with default settings. */
  public static Module create(String name, int classes, Generator gen) {
    switch (name) {
      case "softmax":
        return softmaxRegression(classes, gen);
      case "mlp":
        return mlp(classes, 0, gen);
      default:
        throw new IllegalArgumentException("unknown model '" + name + "'; available: " + NAMES);
    }
  }

  private static Sequential normalInit(Sequential net, Generator gen) {
    net.apply(m -> {
      if (m instanceof Linear l) {
        Init.normal_(l.weight(), 0, 0.01, gen);
        Init.zeros_(l.bias());
      }
    });
    return net;
  }
}
