package dev.fathom.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.List;

/**
 * The reference architectures of ../shared/bench/pytorch/models.py in DJL blocks
 * (1 input channel, 10 classes), with that script's initialisation:
 * softmax and mlp draw Linear weights from N(0, 0.01) with zero biases; the
 * others draw Linear and Conv2d weights with xavier_uniform_ and keep PyTorch's
 * default biases, U(-1/sqrt(fan_in), 1/sqrt(fan_in)). BatchNorm: weight 1, bias 0,
 * running statistics updated with PyTorch's momentum 0.1 (DJL's 0.9).
 */
final class Models {
  static final List<String> NAMES = List.of("softmax", "mlp", "lenet-sigmoid", "lenet", "lenet-bn", "resnet18");

  private Models() {}

  static Block create(String name) {
    Init init = name.equals("softmax") || name.equals("mlp") ? Init.NORMAL : Init.XAVIER;
    return switch (name) {
      case "softmax" -> new SequentialBlock().add(Blocks.batchFlattenBlock()).add(linear(784, 10, init));
      case "mlp" -> new SequentialBlock().add(Blocks.batchFlattenBlock()).add(linear(784, 256, init))
          .add(Activation.reluBlock()).add(linear(256, 10, init));
      case "lenet-sigmoid" -> lenet(init, false, false);
      case "lenet" -> lenet(init, true, false);
      case "lenet-bn" -> lenet(init, true, true);
      case "resnet18" -> resnet18(init);
      default -> throw new IllegalArgumentException("unknown model '" + name + "' (one of " + NAMES + ")");
    };
  }

  /** Conv 6@5x5, act, 2x2/2 max pool, conv 16@5x5, act, pool, dense 120-84-10; BatchNorm before each act with bn. */
  private static Block lenet(Init init, boolean relu, boolean bn) {
    SequentialBlock s = new SequentialBlock();
    s.add(conv(1, 6, 5, 1, 0, init));
    if (bn) {
      s.add(batchNorm());
    }
    s.add(relu ? Activation.reluBlock() : Activation.sigmoidBlock());
    s.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
    s.add(conv(6, 16, 5, 1, 0, init));
    if (bn) {
      s.add(batchNorm());
    }
    s.add(relu ? Activation.reluBlock() : Activation.sigmoidBlock());
    s.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
    s.add(Blocks.batchFlattenBlock());
    s.add(linear(16 * 4 * 4, 120, init));
    if (bn) {
      s.add(batchNorm());
    }
    s.add(relu ? Activation.reluBlock() : Activation.sigmoidBlock());
    s.add(linear(120, 84, init));
    if (bn) {
      s.add(batchNorm());
    }
    s.add(relu ? Activation.reluBlock() : Activation.sigmoidBlock());
    s.add(linear(84, 10, init));
    return s;
  }

  private static Block resnet18(Init init) {
    SequentialBlock net = new SequentialBlock();
    net.add(new SequentialBlock().add(conv(1, 64, 7, 2, 3, init)).add(batchNorm()).add(Activation.reluBlock())
        .add(Pool.maxPool2dBlock(new Shape(3, 3), new Shape(2, 2), new Shape(1, 1))));
    net.add(stage(64, 64, 2, true, init));
    net.add(stage(64, 128, 2, false, init));
    net.add(stage(128, 256, 2, false, init));
    net.add(stage(256, 512, 2, false, init));
    net.add(Pool.globalAvgPool2dBlock()); // AdaptiveAvgPool2d(1) + Flatten: (N, 512)
    net.add(linear(512, 10, init));
    return net;
  }

  private static Block stage(int in, int out, int n, boolean first, Init init) {
    SequentialBlock s = new SequentialBlock();
    for (int k = 0; k < n; k++) {
      s.add(k == 0 && !first ? new Residual(in, out, true, 2, init) : new Residual(out, out, false, 1, init));
    }
    return s;
  }

  static Block batchNorm() {
    return BatchNorm.builder().optEpsilon(1e-5f).optMomentum(0.9f).build();
  }

  static Block linear(int in, int out, Init init) {
    Block b = Linear.builder().setUnits(out).build();
    if (init == Init.NORMAL) {
      b.setInitializer(normal(0.01f), "weight");
      b.setInitializer(Initializer.ZEROS, "bias");
    } else if (init == Init.XAVIER) {
      b.setInitializer(uniform((float) Math.sqrt(6.0 / (in + out))), "weight");
      b.setInitializer(uniform((float) (1 / Math.sqrt(in))), "bias");
    } else { // PyTorch's nn.Linear default: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), bias alike
      b.setInitializer(uniform((float) (1 / Math.sqrt(in))), "weight");
      b.setInitializer(uniform((float) (1 / Math.sqrt(in))), "bias");
    }
    return b;
  }

  static Block conv(int in, int out, int k, int stride, int pad, Init init) {
    Block b = Conv2d.builder().setFilters(out).setKernelShape(new Shape(k, k)).optStride(new Shape(stride, stride))
        .optPadding(new Shape(pad, pad)).build();
    int fanIn = in * k * k;
    int fanOut = out * k * k;
    float wBound = init == Init.XAVIER ? (float) Math.sqrt(6.0 / (fanIn + fanOut)) : (float) (1 / Math.sqrt(fanIn));
    b.setInitializer(uniform(wBound), "weight");
    b.setInitializer(uniform((float) (1 / Math.sqrt(fanIn))), "bias");
    return b;
  }

  static Initializer uniform(float bound) {
    return (NDManager m, Shape shape, DataType dt) -> m.randomUniform(-bound, bound, shape, dt);
  }

  static Initializer normal(float std) {
    return (NDManager m, Shape shape, DataType dt) -> m.randomNormal(0f, std, shape, dt);
  }

  /** How Linear and Conv2d weights are drawn (models.init_weights). */
  enum Init { NORMAL, XAVIER, TORCH_DEFAULT }

  /** models.Residual: relu(bn2(conv2(relu(bn1(conv1(x))))) + (conv3(x) or x)). */
  static final class Residual extends AbstractBlock {
    private final Block conv1;
    private final Block conv2;
    private final Block conv3;
    private final Block bn1;
    private final Block bn2;

    Residual(int in, int out, boolean use1x1, int stride, Init init) {
      super((byte) 1);
      conv1 = addChildBlock("conv1", conv(in, out, 3, stride, 1, init));
      conv2 = addChildBlock("conv2", conv(out, out, 3, 1, 1, init));
      conv3 = use1x1 ? addChildBlock("conv3", conv(in, out, 1, stride, 0, init)) : null;
      bn1 = addChildBlock("bn1", batchNorm());
      bn2 = addChildBlock("bn2", batchNorm());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
        PairList<String, Object> params) {
      NDArray x = inputs.singletonOrThrow();
      NDList y = bn1.forward(ps, conv1.forward(ps, inputs, training), training);
      y = bn2.forward(ps, conv2.forward(ps, new NDList(Activation.relu(y.singletonOrThrow())), training), training);
      if (conv3 != null) {
        x = conv3.forward(ps, inputs, training).singletonOrThrow();
      }
      return new NDList(Activation.relu(y.singletonOrThrow().add(x)));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
      return conv2.getOutputShapes(conv1.getOutputShapes(inputs));
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
      conv1.initialize(manager, dataType, inputShapes);
      Shape[] mid = conv1.getOutputShapes(inputShapes);
      bn1.initialize(manager, dataType, mid);
      conv2.initialize(manager, dataType, mid);
      bn2.initialize(manager, dataType, conv2.getOutputShapes(mid));
      if (conv3 != null) {
        conv3.initialize(manager, dataType, inputShapes);
      }
    }
  }
}
