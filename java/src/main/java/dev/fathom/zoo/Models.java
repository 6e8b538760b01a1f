package dev.fathom.zoo;

import dev.fathom.nn.AvgPool2d;
import dev.fathom.nn.BatchNorm1d;
import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Dropout;
import dev.fathom.nn.Flatten;
import dev.fathom.nn.GlobalAvgPool2d;
import dev.fathom.nn.Init;
import dev.fathom.nn.Linear;
import dev.fathom.nn.MaxPool2d;
import dev.fathom.nn.Module;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.nn.Sigmoid;
import dev.fathom.tensor.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
  public static final List<String> NAMES = List.of("softmax", "mlp", "lenet-sigmoid", "lenet", "lenet-bn",
      "alexnet", "vgg11", "nin", "googlenet", "resnet18", "densenet");

  /** The input side each model is defined for (28 unless listed; ResNet-18 also runs at 28). */
  public static final Map<String, Integer> INPUT_SIZE = Map.of("alexnet", 224, "vgg11", 224, "nin", 224,
      "googlenet", 96, "resnet18", 96, "densenet", 96);

  public static int inputSize(String name) {
    return INPUT_SIZE.getOrDefault(name, 28);
  }

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

  /** A model by name for 1 input channel. */
  public static Module create(String name, int classes, Generator gen) {
    return create(name, classes, 1, gen);
  }

  /** A model by name with its reference configuration and initialisation. */
  public static Module create(String name, int classes, long inChannels, Generator gen) {
    return create(name, classes, inChannels, inputSize(name), gen);
  }

  /**
   * A model by name for square inputs of side {@code inputSize}: AlexNet's and
   * VGG's first dense layer is sized for it (the others do not depend on it,
   * or adapt through global pooling), so they can train on smaller images than
   * the notes' 224 when the budget is tight.
   */
  public static Module create(String name, int classes, long inChannels, int inputSize, Generator gen) {
    if (classes < 1 || inChannels < 1) {
      throw new IllegalArgumentException("create: classes=" + classes + " and inChannels=" + inChannels
          + " must be positive");
    }
    Sequential net = switch (name) {
      case "softmax" -> {
        if (inChannels != 1) {
          throw new IllegalArgumentException(name + " is defined for 1x28x28 inputs");
        }
        yield softmaxRegression(classes, gen);
      }
      case "mlp" -> {
        if (inChannels != 1) {
          throw new IllegalArgumentException(name + " is defined for 1x28x28 inputs");
        }
        yield mlp(classes, 0, gen);
      }
      case "lenet-sigmoid" -> xavier(lenet(inChannels, classes, false, false, gen), gen);
      case "lenet" -> xavier(lenet(inChannels, classes, true, false, gen), gen);
      case "lenet-bn" -> xavier(lenet(inChannels, classes, true, true, gen), gen);
      case "alexnet" -> xavier(alexnet(inChannels, classes, inputSize, gen), gen);
      case "vgg11" -> xavier(vgg(new int[][] {{1, 64}, {1, 128}, {2, 256}, {2, 512}, {2, 512}}, inChannels, classes,
          inputSize, gen), gen);
      case "nin" -> xavier(nin(inChannels, classes, gen), gen);
      case "googlenet" -> xavier(googlenet(inChannels, classes, gen), gen);
      case "resnet18" -> xavier(resnet18(inChannels, classes, gen), gen);
      case "densenet" -> xavier(densenet(inChannels, classes, 32, new int[] {4, 4, 4, 4}, gen), gen);
      default -> throw new IllegalArgumentException("unknown model '" + name + "'; available: " + NAMES);
    };
    return net;
  }

  /**
   * LeNet (the notes): conv 6@5x5, pool 2/2, conv 16@5x5, pool 2/2, dense
   * 120-84-classes. relu=false is the notes' sigmoid version; batchNorm adds
   * BN between each conv/dense layer and its activation.
   */
  public static Sequential lenet(long in, int classes, boolean relu, boolean batchNorm, Generator gen) {
    Sequential s = new Sequential();
    s.add(new Conv2d(in, 6, 5, 1, 0, true, gen));
    if (batchNorm) {
      s.add(new BatchNorm2d(6));
    }
    s.add(relu ? new ReLU() : new Sigmoid()).add(new MaxPool2d(2, 2));
    s.add(new Conv2d(6, 16, 5, 1, 0, true, gen));
    if (batchNorm) {
      s.add(new BatchNorm2d(16));
    }
    s.add(relu ? new ReLU() : new Sigmoid()).add(new MaxPool2d(2, 2)).add(new Flatten());
    s.add(new Linear(16 * 4 * 4, 120, true, gen));
    if (batchNorm) {
      s.add(new BatchNorm1d(120));
    }
    s.add(relu ? new ReLU() : new Sigmoid());
    s.add(new Linear(120, 84, true, gen));
    if (batchNorm) {
      s.add(new BatchNorm1d(84));
    }
    s.add(relu ? new ReLU() : new Sigmoid());
    s.add(new Linear(84, classes, true, gen));
    return s;
  }

  /** AlexNet as in the notes (224x224 input, dropout 0.5). */
  public static Sequential alexnet(long in, int classes, Generator gen) {
    return alexnet(in, classes, 224, gen);
  }

  /** AlexNet for inputSize x inputSize images: the first dense layer takes 256 x side x side features. */
  public static Sequential alexnet(long in, int classes, int inputSize, Generator gen) {
    long side = pooled(pooled(pooled((inputSize - 11) / 4 + 1)));  // conv 11/4, then three 3x3/2 max pools
    if (inputSize < 11 || side < 1) {
      throw new IllegalArgumentException("alexnet: input side " + inputSize + " is too small (at least 67)");
    }
    return new Sequential(
        new Conv2d(in, 96, 11, 4, 0, true, gen), new ReLU(), new MaxPool2d(3, 2),
        new Conv2d(96, 256, 5, 1, 2, true, gen), new ReLU(), new MaxPool2d(3, 2),
        new Conv2d(256, 384, 3, 1, 1, true, gen), new ReLU(), new Conv2d(384, 384, 3, 1, 1, true, gen), new ReLU(),
        new Conv2d(384, 256, 3, 1, 1, true, gen), new ReLU(), new MaxPool2d(3, 2), new Flatten(),
        new Linear(256 * side * side, 4096, true, gen), new ReLU(), new Dropout(0.5, gen),
        new Linear(4096, 4096, true, gen), new ReLU(), new Dropout(0.5, gen),
        new Linear(4096, classes, true, gen));
  }

  private static long pooled(long side) {
    return side < 3 ? 0 : (side - 3) / 2 + 1;
  }

  /** VGG from (convs, channels) blocks, each ending in a 2x2 max pool; VGG-11 is {{1,64},{1,128},{2,256},{2,512},{2,512}}. */
  public static Sequential vgg(int[][] arch, long in, int classes, int inputSize, Generator gen) {
    // Checked before any layer is built: a refused size must not leave parameters to the Cleaner.
    long side = inputSize >> arch.length;
    if (side < 1) {
      throw new IllegalArgumentException("vgg: input side " + inputSize + " is too small for " + arch.length
          + " pooling blocks (at least " + (1 << arch.length) + ")");
    }
    Sequential s = new Sequential();
    long c = in;
    for (int[] block : arch) {
      for (int i = 0; i < block[0]; i++) {
        s.add(new Conv2d(c, block[1], 3, 1, 1, true, gen)).add(new ReLU());
        c = block[1];
      }
      s.add(new MaxPool2d(2, 2));
    }
    return s.add(new Flatten()).add(new Linear(c * side * side, 4096, true, gen)).add(new ReLU())
        .add(new Dropout(0.5, gen)).add(new Linear(4096, 4096, true, gen)).add(new ReLU())
        .add(new Dropout(0.5, gen)).add(new Linear(4096, classes, true, gen));
  }

  static Sequential ninBlock(long in, long out, int k, int stride, int pad, Generator gen) {
    return new Sequential(new Conv2d(in, out, k, stride, pad, true, gen), new ReLU(),
        new Conv2d(out, out, 1, 1, 0, true, gen), new ReLU(), new Conv2d(out, out, 1, 1, 0, true, gen), new ReLU());
  }

  /** Network in Network (the notes): NiN blocks and a global-average-pooling head. */
  public static Sequential nin(long in, int classes, Generator gen) {
    return new Sequential(ninBlock(in, 96, 11, 4, 0, gen), new MaxPool2d(3, 2), ninBlock(96, 256, 5, 1, 2, gen),
        new MaxPool2d(3, 2), ninBlock(256, 384, 3, 1, 1, gen), new MaxPool2d(3, 2), new Dropout(0.5, gen),
        ninBlock(384, classes, 3, 1, 1, gen), new GlobalAvgPool2d(), new Flatten());
  }

  /** GoogLeNet with the notes' Inception channel configuration (96x96 input). */
  public static Sequential googlenet(long in, int classes, Generator gen) {
    Sequential b1 = new Sequential(new Conv2d(in, 64, 7, 2, 3, true, gen), new ReLU(), new MaxPool2d(3, 2, 1));
    Sequential b2 = new Sequential(new Conv2d(64, 64, 1, 1, 0, true, gen), new ReLU(),
        new Conv2d(64, 192, 3, 1, 1, true, gen), new ReLU(), new MaxPool2d(3, 2, 1));
    Sequential b3 = new Sequential(inception(192, 64, 96, 128, 16, 32, 32, gen),
        inception(256, 128, 128, 192, 32, 96, 64, gen), new MaxPool2d(3, 2, 1));
    Sequential b4 = new Sequential(inception(480, 192, 96, 208, 16, 48, 64, gen),
        inception(512, 160, 112, 224, 24, 64, 64, gen), inception(512, 128, 128, 256, 24, 64, 64, gen),
        inception(512, 112, 144, 288, 32, 64, 64, gen), inception(528, 256, 160, 320, 32, 128, 128, gen),
        new MaxPool2d(3, 2, 1));
    Sequential b5 = new Sequential(inception(832, 256, 160, 320, 32, 128, 128, gen),
        inception(832, 384, 192, 384, 48, 128, 128, gen), new GlobalAvgPool2d(), new Flatten());
    return new Sequential(b1, b2, b3, b4, b5, new Linear(1024, classes, true, gen));
  }

  private static Inception inception(long in, long c1, long c21, long c22, long c31, long c32, long c4,
      Generator gen) {
    return new Inception(in, c1, new long[] {c21, c22}, new long[] {c31, c32}, c4, gen);
  }

  /** ResNet-18 (the notes): 7x7 stem with BN and max pool, four stages of two residual blocks, GAP head. */
  public static Sequential resnet18(long in, int classes, Generator gen) {
    Sequential stem = new Sequential(new Conv2d(in, 64, 7, 2, 3, true, gen), new BatchNorm2d(64), new ReLU(),
        new MaxPool2d(3, 2, 1));
    return new Sequential(stem, stage(64, 64, 2, true, gen), stage(64, 128, 2, false, gen),
        stage(128, 256, 2, false, gen), stage(256, 512, 2, false, gen), new GlobalAvgPool2d(), new Flatten(),
        new Linear(512, classes, true, gen));
  }

  private static Sequential stage(long in, long out, int blocks, boolean first, Generator gen) {
    List<Module> rs = new ArrayList<>();
    for (int k = 0; k < blocks; k++) {
      rs.add(k == 0 && !first ? new Residual(in, out, true, 2, gen) : new Residual(out, out, false, 1, gen));
    }
    return new Sequential(rs);
  }

  /** DenseNet (the notes): growth rate 32, dense blocks of 4 convs, transitions halving channels. */
  public static Sequential densenet(long in, int classes, long growth, int[] convs, Generator gen) {
    Sequential s = new Sequential(new Conv2d(in, 64, 7, 2, 3, true, gen), new BatchNorm2d(64), new ReLU(),
        new MaxPool2d(3, 2, 1));
    long c = 64;
    for (int k = 0; k < convs.length; k++) {
      s.add(new DenseBlock(convs[k], c, growth, gen));
      c += convs[k] * growth;
      if (k != convs.length - 1) {
        s.add(new Sequential(new BatchNorm2d(c), new ReLU(), new Conv2d(c, c / 2, 1, 1, 0, true, gen),
            new AvgPool2d(2)));
        c /= 2;
      }
    }
    return s.add(new BatchNorm2d(c)).add(new ReLU()).add(new GlobalAvgPool2d()).add(new Flatten())
        .add(new Linear(c, classes, true, gen));
  }

  /** The reference CNN initialisation: Xavier-uniform weights for Conv2d and Linear (biases as built). */
  private static Sequential xavier(Sequential net, Generator gen) {
    net.apply(m -> {
      if (m instanceof Linear l) {
        Init.xavierUniform_(l.weight(), gen);
      } else if (m instanceof Conv2d c) {
        Init.xavierUniform_(c.weight(), gen);
      }
    });
    return net;
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
