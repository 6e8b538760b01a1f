package dev.fathom.onnx;

import com.google.protobuf.ByteString;
import dev.fathom.io.AtomicFiles;
import dev.fathom.nn.AvgPool2d;
import dev.fathom.nn.BatchNorm;
import dev.fathom.nn.BatchNorm1d;
import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Dropout;
import dev.fathom.nn.Flatten;
import dev.fathom.nn.GlobalAvgPool2d;
import dev.fathom.nn.Identity;
import dev.fathom.nn.LeakyReLU;
import dev.fathom.nn.Linear;
import dev.fathom.nn.LogSoftmax;
import dev.fathom.nn.MaxPool2d;
import dev.fathom.nn.Module;
import dev.fathom.nn.PReLU;
import dev.fathom.nn.ReLU;
import dev.fathom.nn.Sequential;
import dev.fathom.nn.Sigmoid;
import dev.fathom.nn.Softmax;
import dev.fathom.nn.Tanh;
import dev.fathom.onnx.proto.Onnx.AttributeProto;
import dev.fathom.onnx.proto.Onnx.GraphProto;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.OperatorSetIdProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.onnx.proto.Onnx.TensorShapeProto;
import dev.fathom.onnx.proto.Onnx.TypeProto;
import dev.fathom.onnx.proto.Onnx.ValueInfoProto;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.zoo.DenseBlock;
import dev.fathom.zoo.Inception;
import dev.fathom.zoo.Residual;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a Fathom module as an ONNX model (the inference graph: BatchNorm with
 * its running statistics, Dropout left out).
 *
 * <pre>{@code
 * Module net = Models.create("resnet18", 10, new Generator(0));
 * OnnxExport.write(net, new long[] {1, 1, 28, 28}, Path.of("resnet18.onnx"));
 * }</pre>
 *
 * The graph has one float input "input" of the example's shape, its batch
 * dimension symbolic ("N"), and one output "output". Initializers are named as
 * in {@link Module#stateDict()} ("0.weight", "1.conv1.bias", ...) and hold
 * float32 little-endian raw data. Modules are matched by exact class, so a
 * subclass that overrides forward is refused, as is any module not listed in
 * docs/onnx.md, with an IllegalArgumentException naming its class and path.
 */
public final class OnnxExport {
  /** The opset written when none is given. */
  public static final int DEFAULT_OPSET = 17;

  private OnnxExport() {}

  /** Writes `module` at opset {@link #DEFAULT_OPSET}. */
  public static void write(Module module, long[] exampleInputShape, Path out) {
    write(module, exampleInputShape, out, DEFAULT_OPSET);
  }

  /** Writes `module` for inputs shaped like `exampleInputShape` (batch first) at `opset` (11 to 18). */
  public static void write(Module module, long[] exampleInputShape, Path out, int opset) {
    byte[] bytes = toBytes(module, exampleInputShape, opset);
    try {
      AtomicFiles.write(out, ch -> AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
    } catch (IOException e) {
      throw new UncheckedIOException("onnx export: cannot write " + out + ": " + e.getMessage(), e);
    }
  }

  /** The serialized ModelProto. */
  public static byte[] toBytes(Module module, long[] exampleInputShape, int opset) {
    return toProto(module, exampleInputShape, opset).toByteArray();
  }

  /** The ModelProto for `module`. */
  public static ModelProto toProto(Module module, long[] exampleInputShape, int opset) {
    if (opset < OnnxModel.MIN_OPSET || opset > OnnxModel.MAX_OPSET) {
      throw new IllegalArgumentException("onnx export: opset " + opset + " is outside " + OnnxModel.MIN_OPSET
          + ".." + OnnxModel.MAX_OPSET);
    }
    if (exampleInputShape == null || exampleInputShape.length == 0) {
      throw new IllegalArgumentException("onnx export: the example input shape must have at least one dimension");
    }
    for (long d : exampleInputShape) {
      if (d < 1) {
        throw new IllegalArgumentException("onnx export: example input shape "
            + Arrays.toString(exampleInputShape) + " must be positive");
      }
    }
    // The example runs in eval mode (the exported semantics); the caller's modes are restored after.
    List<Module> all = new ArrayList<>();
    List<Boolean> modes = new ArrayList<>();
    module.apply(m -> {
      all.add(m);
      modes.add(m.isTraining());
    });
    module.eval();
    try (GradMode.Guard g = GradMode.disable(); Scope scope = Scope.open()) {
      Builder b = new Builder(opset);
      Value x = new Value("input", Tensor.zeros(exampleInputShape));
      Value y = b.emit(module, "", x);
      return b.finish(x, y);
    } finally {
      for (int k = all.size() - 1; k >= 0; k--) {
        all.get(k).train(modes.get(k));
      }
    }
  }

  /** A graph value: its name and the example tensor flowing through it (for shapes). */
  private record Value(String name, Tensor t) {}

  private static final class Builder {
    private final int opset;
    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("fathom");
    private final Set<String> names = new HashSet<>();
    private final Set<String> initializers = new HashSet<>();
    private boolean batchMerged;

    Builder(int opset) {
      this.opset = opset;
      names.add("input");
    }

    private static String join(String path, String child) {
      return path.isEmpty() ? child : path + "." + child;
    }

    private String fresh(String base) {
      String b = base.isEmpty() ? "x" : base;
      String n = b;
      for (int k = 1; !names.add(n); k++) {
        n = b + "_" + k;
      }
      return n;
    }

    /** Adds one node with one output; returns the output's name. */
    private String node(String op, String path, List<String> inputs, Tensor result, AttributeProto... attrs) {
      String out = fresh(path.isEmpty() ? op.toLowerCase() : path);
      NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(fresh((path.isEmpty() ? "" : path + "/")
          + op)).addAllInput(inputs).addOutput(out);
      for (AttributeProto a : attrs) {
        n.addAttribute(a);
      }
      graph.addNode(n);
      return out;
    }

    private Value op(String op, String path, List<String> inputs, Tensor result, AttributeProto... attrs) {
      return new Value(node(op, path, inputs, result, attrs), result);
    }

    /** The initializer for a state-dict entry (added once); dims default to the tensor's own. */
    private String init(String name, Tensor t, long... dims) {
      if (initializers.add(name)) {
        Tensor f = t.dtype() == DType.FLOAT32 ? t : t.to(DType.FLOAT32);
        float[] data = f.toFloatArray();
        ByteBuffer buf = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data);
        long[] shape = dims.length == 0 ? t.shape() : dims;
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
            .addAllDims(box(shape)).setRawData(ByteString.copyFrom(buf.array())));
        names.add(name);
      }
      return name;
    }

    private String initInt64(String name, long[] values) {
      String n = fresh(name);
      ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
      buf.asLongBuffer().put(values);
      graph.addInitializer(TensorProto.newBuilder().setName(n).setDataType(TensorProto.DataType.INT64_VALUE)
          .addDims(values.length).setRawData(ByteString.copyFrom(buf.array())));
      initializers.add(n);
      return n;
    }

    private static List<Long> box(long[] a) {
      List<Long> out = new ArrayList<>(a.length);
      for (long v : a) {
        out.add(v);
      }
      return out;
    }

    private static AttributeProto ints(String name, long... v) {
      return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
          .addAllInts(box(v)).build();
    }

    private static AttributeProto intAttr(String name, long v) {
      return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto floatAttr(String name, double v) {
      return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
          .setF((float) v).build();
    }

    private static IllegalArgumentException unsupported(Module m, String path, String why) {
      return new IllegalArgumentException("onnx export: " + m.getClass().getName() + " at "
          + (path.isEmpty() ? "(root)" : "'" + path + "'") + " " + why);
    }

    private static int normAxis(Module m, String path, int dim, int rank) {
      int a = dim < 0 ? dim + rank : dim;
      if (a < 0 || a >= rank) {
        throw unsupported(m, path, "has dimension " + dim + " out of range for a rank-" + rank + " input");
      }
      return a;
    }

    Value emit(Module m, String path, Value x) {
      Class<?> c = m.getClass();
      Tensor t = x.t();
      if (c == Sequential.class) {
        Value y = x;
        List<Module> layers = ((Sequential) m).layers();
        for (int i = 0; i < layers.size(); i++) {
          y = emit(layers.get(i), join(path, Integer.toString(i)), y);
        }
        return y;
      }
      if (c == Identity.class || c == Dropout.class) {
        return x;  // the identity at inference
      }
      if (c == Linear.class) {
        Linear l = (Linear) m;
        Tensor y = l.forward(t);
        String w = init(join(path, "weight"), l.weight());
        String b = l.bias() == null ? null : init(join(path, "bias"), l.bias());
        if (t.dim() == 2) {
          List<String> in = b == null ? List.of(x.name(), w) : List.of(x.name(), w, b);
          return op("Gemm", path, in, y, intAttr("transB", 1));
        }
        String wt = node("Transpose", join(path, "weight_t"), List.of(w), null, ints("perm", 1, 0));
        Value mm = op("MatMul", b == null ? path : join(path, "matmul"), List.of(x.name(), wt), y);
        return b == null ? mm : op("Add", path, List.of(mm.name(), b), y);
      }
      if (c == Conv2d.class) {
        Conv2d k = (Conv2d) m;
        Tensor y = k.forward(t);
        String w = init(join(path, "weight"), k.weight());
        List<String> in = k.bias() == null ? List.of(x.name(), w)
            : List.of(x.name(), w, init(join(path, "bias"), k.bias()));
        int p = k.padding();
        return op("Conv", path, in, y, ints("kernel_shape", k.kernelSize(), k.kernelSize()),
            ints("strides", k.stride(), k.stride()), ints("pads", p, p, p, p),
            ints("dilations", k.dilation(), k.dilation()), intAttr("group", k.groups()));
      }
      if (c == BatchNorm1d.class || c == BatchNorm2d.class) {
        BatchNorm bn = (BatchNorm) m;
        Tensor y = bn.forward(t);
        List<String> in = List.of(x.name(), init(join(path, "weight"), bn.weight()),
            init(join(path, "bias"), bn.bias()), init(join(path, "running_mean"), bn.runningMean()),
            init(join(path, "running_var"), bn.runningVar()));
        return op("BatchNormalization", path, in, y, floatAttr("epsilon", bn.eps()));
      }
      if (c == ReLU.class) {
        return op("Relu", path, List.of(x.name()), t.relu());
      }
      if (c == Sigmoid.class) {
        return op("Sigmoid", path, List.of(x.name()), t.sigmoid());
      }
      if (c == Tanh.class) {
        return op("Tanh", path, List.of(x.name()), t.tanh());
      }
      if (c == LeakyReLU.class) {
        LeakyReLU l = (LeakyReLU) m;
        return op("LeakyRelu", path, List.of(x.name()), l.forward(t), floatAttr("alpha", l.slope()));
      }
      if (c == Softmax.class || c == LogSoftmax.class) {
        int dim = c == Softmax.class ? ((Softmax) m).dim() : ((LogSoftmax) m).dim();
        int a = normAxis(m, path, dim, t.dim());
        if (opset < 13 && a != t.dim() - 1) {
          // Before opset 13 Softmax normalises over all dimensions from `axis` on.
          throw unsupported(m, path, "normalises over dimension " + dim + " of a rank-" + t.dim()
              + " input, which opset " + opset + " cannot express (only the last; use opset 13 or newer)");
        }
        return op(c == Softmax.class ? "Softmax" : "LogSoftmax", path, List.of(x.name()), m.forward(t),
            intAttr("axis", a));
      }
      if (c == PReLU.class) {
        PReLU pr = (PReLU) m;
        Tensor y = pr.forward(t);
        long n = pr.numParameters();
        long[] dims;
        if (n > 1 && t.dim() > 2) {
          // ONNX broadcasts the slope from the right: [C, 1, ..., 1] for (N, C, ...).
          dims = new long[t.dim() - 1];
          Arrays.fill(dims, 1);
          dims[0] = n;
        } else {
          dims = new long[] {n};
        }
        return op("PRelu", path, List.of(x.name(), init(join(path, "weight"), pr.slope(), dims)), y);
      }
      if (c == MaxPool2d.class || c == AvgPool2d.class) {
        boolean max = c == MaxPool2d.class;
        int k = max ? ((MaxPool2d) m).kernelSize() : ((AvgPool2d) m).kernelSize();
        int s = max ? ((MaxPool2d) m).stride() : ((AvgPool2d) m).stride();
        int p = max ? ((MaxPool2d) m).padding() : ((AvgPool2d) m).padding();
        Tensor y = m.forward(t);
        AttributeProto[] attrs = max
            ? new AttributeProto[] {ints("kernel_shape", k, k), ints("strides", s, s), ints("pads", p, p, p, p)}
            : new AttributeProto[] {ints("kernel_shape", k, k), ints("strides", s, s), ints("pads", p, p, p, p),
                intAttr("count_include_pad", ((AvgPool2d) m).countIncludePad() ? 1 : 0)};
        return op(max ? "MaxPool" : "AveragePool", path, List.of(x.name()), y, attrs);
      }
      if (c == GlobalAvgPool2d.class) {
        return op("GlobalAveragePool", path, List.of(x.name()), m.forward(t));
      }
      if (c == Flatten.class) {
        int s = ((Flatten) m).startDim();
        s = s < 0 ? s + t.dim() : s;
        if (s < 0 || s >= Math.max(t.dim(), 1)) {
          throw unsupported(m, path, "has startDim " + ((Flatten) m).startDim() + " out of range for a rank-"
              + t.dim() + " input");
        }
        Tensor y = m.forward(t);
        if (s == 1) {
          return op("Flatten", path, List.of(x.name()), y, intAttr("axis", 1));
        }
        long[] shape;
        if (s == 0) {
          batchMerged = true;
          shape = new long[] {-1};
        } else {
          shape = new long[s + 1];
          shape[0] = 0;  // copy the (symbolic) batch dimension
          for (int d = 1; d < s; d++) {
            shape[d] = t.size(d);
          }
          shape[s] = -1;
        }
        return op("Reshape", path, List.of(x.name(), initInt64(join(path, "shape"), shape)), y);
      }
      if (c == Residual.class) {
        Map<String, Module> ch = m.namedChildren();
        Value y = emit(ch.get("conv1"), join(path, "conv1"), x);
        y = emit(ch.get("bn1"), join(path, "bn1"), y);
        y = op("Relu", join(path, "relu1"), List.of(y.name()), y.t().relu());
        y = emit(ch.get("conv2"), join(path, "conv2"), y);
        y = emit(ch.get("bn2"), join(path, "bn2"), y);
        Value sc = ch.containsKey("conv3") ? emit(ch.get("conv3"), join(path, "conv3"), x) : x;
        Value sum = op("Add", join(path, "add"), List.of(y.name(), sc.name()), y.t().add(sc.t()));
        return op("Relu", path, List.of(sum.name()), sum.t().relu());
      }
      if (c == Inception.class) {
        Map<String, Module> ch = m.namedChildren();
        List<String> outs = new ArrayList<>();
        List<Tensor> ts = new ArrayList<>();
        for (String p : List.of("p1", "p2", "p3", "p4")) {
          Value v = emit(ch.get(p), join(path, p), x);
          outs.add(v.name());
          ts.add(v.t());
        }
        return op("Concat", path, outs, Tensor.cat(ts, 1), intAttr("axis", 1));
      }
      if (c == DenseBlock.class) {
        Sequential net = (Sequential) m.namedChildren().get("net");
        Value y = x;
        List<Module> blocks = net.layers();
        for (int i = 0; i < blocks.size(); i++) {
          String p = join(join(path, "net"), Integer.toString(i));
          Value b = emit(blocks.get(i), p, y);
          y = op("Concat", join(p, "cat"), List.of(y.name(), b.name()), Tensor.cat(List.of(y.t(), b.t()), 1),
              intAttr("axis", 1));
        }
        return y;
      }
      throw unsupported(m, path, "is not supported by the ONNX export (see docs/onnx.md, Export)");
    }

    ModelProto finish(Value input, Value output) {
      String last = output.name();
      if (last.equals("input") || initializers.contains(last)) {
        node("Identity", "output_identity", List.of(last), null);
        last = graph.getNode(graph.getNodeCount() - 1).getOutput(0);
      }
      // Rename the final value to "output" wherever it appears.
      for (int i = 0; i < graph.getNodeCount(); i++) {
        NodeProto n = graph.getNode(i);
        NodeProto.Builder nb = n.toBuilder();
        for (int k = 0; k < n.getInputCount(); k++) {
          if (n.getInput(k).equals(last)) {
            nb.setInput(k, "output");
          }
        }
        for (int k = 0; k < n.getOutputCount(); k++) {
          if (n.getOutput(k).equals(last)) {
            nb.setOutput(k, "output");
          }
        }
        graph.setNode(i, nb);
      }
      boolean symbolic = input.t().dim() >= 2 && !batchMerged;
      graph.addInput(valueInfo("input", input.t().shape(), symbolic));
      graph.addOutput(valueInfo("output", output.t().shape(),
          symbolic && output.t().dim() >= 1 && output.t().size(0) == input.t().size(0)));
      return ModelProto.newBuilder().setIrVersion(irVersion(opset)).setProducerName("fathom")
          .setProducerVersion(producerVersion())
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
          .setGraph(graph).build();
    }

    private static ValueInfoProto valueInfo(String name, long[] shape, boolean symbolicBatch) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (int d = 0; d < shape.length; d++) {
        s.addDim(d == 0 && symbolicBatch ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
            : TensorShapeProto.Dimension.newBuilder().setDimValue(shape[d]));
      }
      return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
          TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }

    /** The IR version that goes with an opset (ONNX's release table). */
    private static long irVersion(int opset) {
      return opset <= 11 ? 6 : opset <= 14 ? 7 : 8;
    }

    private static String producerVersion() {
      String v = OnnxExport.class.getPackage().getImplementationVersion();
      return v == null ? "dev" : v;
    }
  }
}
