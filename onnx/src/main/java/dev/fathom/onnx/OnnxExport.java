package dev.fathom.onnx;

import com.google.protobuf.ByteString;
import dev.fathom.io.AtomicFiles;
import dev.fathom.nn.AvgPool2d;
import dev.fathom.nn.BatchNorm;
import dev.fathom.nn.BatchNorm1d;
import dev.fathom.nn.BatchNorm2d;
import dev.fathom.nn.Conv2d;
import dev.fathom.nn.Dropout;
import dev.fathom.nn.Embedding;
import dev.fathom.nn.Flatten;
import dev.fathom.nn.GRU;
import dev.fathom.nn.GlobalAvgPool2d;
import dev.fathom.nn.Identity;
import dev.fathom.nn.LSTM;
import dev.fathom.nn.LeakyReLU;
import dev.fathom.nn.Linear;
import dev.fathom.nn.LogSoftmax;
import dev.fathom.nn.MaxPool2d;
import dev.fathom.nn.Module;
import dev.fathom.nn.PReLU;
import dev.fathom.nn.RNN;
import dev.fathom.nn.RNNBase;
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
import dev.fathom.tensor.RnnMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import dev.fathom.text.CharLanguageModel;
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
 *
 * <p>A {@link CharLanguageModel} is exported with its state: int64 tokens "input" (N, T) and
 * "h0" (layers, N, H) (and "c0" for LSTM) in; logits "output" (T*N, V), time-major rows as
 * {@link CharLanguageModel#forward(Tensor, CharLanguageModel.State)}, and "hn" (and "cn") out.
 * The example shape is (N, T); both stay symbolic.
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
    write(module, exampleInputShape, out, opset, Map.of());
  }

  /**
   * As {@link #write(Module, long[], Path, int)}, with `metadata` as the model's metadata_props
   * (e.g. a language model's vocabulary, which its token inputs need).
   */
  public static void write(Module module, long[] exampleInputShape, Path out, int opset,
      Map<String, String> metadata) {
    ModelProto.Builder model = toProto(module, exampleInputShape, opset).toBuilder();
    new java.util.TreeMap<>(metadata).forEach((k, v) -> model.addMetadataProps(
        dev.fathom.onnx.proto.Onnx.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
    byte[] bytes = model.build().toByteArray();
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
      if (module instanceof CharLanguageModel lm) {
        return b.charLanguageModel(lm, exampleInputShape);
      }
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

    /** Adds one node whose outputs are named by the caller (already reserved). */
    private void nodeNamed(String op, String path, List<String> inputs, List<String> outputs,
        AttributeProto... attrs) {
      NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(fresh((path.isEmpty() ? "" : path + "/")
          + op)).addAllInput(inputs).addAllOutput(outputs);
      for (AttributeProto a : attrs) {
        n.addAttribute(a);
      }
      graph.addNode(n);
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

    /** A float constant that is no state-dict entry (e.g. OneHot's off/on values). */
    private String initFloats(String name, long[] dims, float... values) {
      String n = fresh(name);
      ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      buf.asFloatBuffer().put(values);
      graph.addInitializer(TensorProto.newBuilder().setName(n).setDataType(TensorProto.DataType.FLOAT_VALUE)
          .addAllDims(box(dims)).setRawData(ByteString.copyFrom(buf.array())));
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

    private static AttributeProto stringAttr(String name, String v) {
      return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
          .setS(ByteString.copyFromUtf8(v)).build();
    }

    private static AttributeProto stringsAttr(String name, String... v) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
          .setType(AttributeProto.AttributeType.STRINGS);
      for (String s : v) {
        a.addStrings(ByteString.copyFromUtf8(s));
      }
      return a.build();
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
      if (c == RNN.class || c == GRU.class || c == LSTM.class) {
        RNNBase r = (RNNBase) m;
        if (t.dim() != 3) {
          throw unsupported(m, path, "needs a 3-D input, got " + Arrays.toString(t.shape()));
        }
        Tensor y = r.forward(t);
        // ONNX recurrences are time-major: batch-first input is transposed in and out.
        String in = r.batchFirst() ? node("Transpose", join(path, "time_major"), List.of(x.name()), null,
            ints("perm", 1, 0, 2)) : x.name();
        String out = recurrent(r, path, in, null, null, null, null);
        return r.batchFirst() ? op("Transpose", path, List.of(out), y, ints("perm", 1, 0, 2)) : new Value(out, y);
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

    /**
     * The ONNX gate (row block) order as indices into Fathom's (PyTorch's): LSTM i, o, f, c from
     * i, f, g, o; GRU z, r, h from r, z, n.
     */
    private static int[] onnxGateOrder(RnnMode mode) {
      return switch (mode) {
        case LSTM -> new int[] {0, 3, 1, 2};
        case GRU, GRU_PYTORCH -> new int[] {1, 0, 2};
        default -> new int[] {0};
      };
    }

    private static Tensor reorderGates(Tensor rows, int[] order, long h) {
      if (order.length == 1) {
        return rows;
      }
      List<Tensor> parts = new ArrayList<>();
      for (int g : order) {
        parts.add(rows.narrow(0, g * h, h));
      }
      return Tensor.cat(parts, 0);
    }

    /**
     * One ONNX LSTM/GRU/RNN node per layer over time-major `x` (T, N, I); returns the output's name,
     * (T, N, D*H). Initial states h0/c0 (layers*D, N, H) are optional (null: zeros); the final
     * states are written to hnName/cnName when these are not null. Each initializer is a state-dict
     * entry with its gate rows in ONNX's order and a leading direction axis: W, R and B are
     * concatenated from them per layer (B = bias_ih, bias_hh).
     */
    String recurrent(RNNBase m, String path, String x, String h0, String c0, String hnName, String cnName) {
      RnnMode mode = m.mode();
      int dirs = m.bidirectional() ? 2 : 1;
      long h = m.hiddenSize();
      int[] order = onnxGateOrder(mode);
      long rows = (long) order.length * h;
      String opType = switch (mode) {
        case LSTM -> "LSTM";
        case GRU, GRU_PYTORCH -> "GRU";
        default -> "RNN";
      };
      Map<String, Tensor> p = m.namedParameters();
      List<String> hs = new ArrayList<>();
      List<String> cs = new ArrayList<>();
      String in = x;
      for (int k = 0; k < m.numLayers(); k++) {
        String lp = join(path, "l" + k);
        List<String> w = new ArrayList<>();
        List<String> r = new ArrayList<>();
        List<String> b = new ArrayList<>();
        for (int d = 0; d < dirs; d++) {
          String sfx = "_l" + k + (d == 1 ? "_reverse" : "");
          Tensor wih = p.get("weight_ih" + sfx);
          w.add(init(join(path, "weight_ih" + sfx), reorderGates(wih, order, h), 1, rows, wih.size(1)));
          r.add(init(join(path, "weight_hh" + sfx), reorderGates(p.get("weight_hh" + sfx), order, h), 1, rows, h));
          String bih = init(join(path, "bias_ih" + sfx), reorderGates(p.get("bias_ih" + sfx), order, h), 1, rows);
          String bhh = init(join(path, "bias_hh" + sfx), reorderGates(p.get("bias_hh" + sfx), order, h), 1, rows);
          b.add(node("Concat", join(lp, "B" + (d == 1 ? "_reverse" : "")), List.of(bih, bhh), null,
              intAttr("axis", 1)));
        }
        String wk = dirs == 1 ? w.get(0) : node("Concat", join(lp, "W"), w, null, intAttr("axis", 0));
        String rk = dirs == 1 ? r.get(0) : node("Concat", join(lp, "R"), r, null, intAttr("axis", 0));
        String bk = dirs == 1 ? b.get(0) : node("Concat", join(lp, "B"), b, null, intAttr("axis", 0));
        List<String> inputs = new ArrayList<>(List.of(in, wk, rk, bk));
        long[] slots = new long[dirs];
        for (int d = 0; d < dirs; d++) {
          slots[d] = (long) k * dirs + d;
        }
        if (h0 != null || c0 != null) {
          inputs.add("");  // sequence_lens: every sequence has full length
          inputs.add(h0 == null ? "" : node("Gather", join(lp, "h0"), List.of(h0, initInt64(join(lp, "h0_rows"),
              slots)), null, intAttr("axis", 0)));
          if (c0 != null) {
            inputs.add(node("Gather", join(lp, "c0"), List.of(c0, initInt64(join(lp, "c0_rows"), slots)), null,
                intAttr("axis", 0)));
          }
        }
        boolean last = k == m.numLayers() - 1;
        String y = fresh(join(lp, "Y"));
        List<String> outputs = new ArrayList<>(List.of(y));
        if (hnName != null || (cnName != null && mode == RnnMode.LSTM)) {
          String hk = m.numLayers() == 1 && hnName != null ? hnName : fresh(join(lp, "Y_h"));
          outputs.add(hk);
          hs.add(hk);
          if (cnName != null && mode == RnnMode.LSTM) {
            String ck = m.numLayers() == 1 ? cnName : fresh(join(lp, "Y_c"));
            outputs.add(ck);
            cs.add(ck);
          }
        }
        List<AttributeProto> attrs = new ArrayList<>(List.of(intAttr("hidden_size", h),
            stringAttr("direction", dirs == 2 ? "bidirectional" : "forward")));
        if (opType.equals("GRU")) {
          // Fathom's default cell is ONNX's linear_before_reset=0; torch.nn.GRU's is 1.
          attrs.add(intAttr("linear_before_reset", mode == RnnMode.GRU_PYTORCH ? 1 : 0));
        } else if (opType.equals("RNN")) {
          String act = mode == RnnMode.RNN_RELU ? "Relu" : "Tanh";
          attrs.add(dirs == 2 ? stringsAttr("activations", act, act) : stringsAttr("activations", act));
        }
        nodeNamed(opType, lp, inputs, outputs, attrs.toArray(new AttributeProto[0]));
        // Y is (T, D, N, H): the next layer (and the caller) reads (T, N, D*H).
        if (dirs == 1) {
          in = opset >= 13
              ? node("Squeeze", join(lp, "out"), List.of(y, initInt64(join(lp, "axes"), new long[] {1})), null)
              : node("Squeeze", join(lp, "out"), List.of(y), null, ints("axes", 1));
        } else {
          String tnd = node("Transpose", join(lp, "out_t"), List.of(y), null, ints("perm", 0, 2, 1, 3));
          in = node("Reshape", join(lp, "out"), List.of(tnd, initInt64(join(lp, "out_shape"),
              new long[] {0, 0, -1})), null);
        }
        if (last && m.numLayers() > 1) {
          if (hnName != null) {
            nodeNamed("Concat", join(path, "hn"), hs, List.of(hnName), intAttr("axis", 0));
          }
          if (cnName != null && mode == RnnMode.LSTM) {
            nodeNamed("Concat", join(path, "cn"), cs, List.of(cnName), intAttr("axis", 0));
          }
        }
      }
      return in;
    }

    /** The char LM with its recurrent state as graph inputs and outputs (see the class comment). */
    ModelProto charLanguageModel(CharLanguageModel lm, long[] shape) {
      if (shape.length != 2) {
        throw new IllegalArgumentException("onnx export: a CharLanguageModel reads int64 tokens (N, T); the "
            + "example shape " + Arrays.toString(shape) + " must have 2 dimensions");
      }
      CharLanguageModel.Config cfg = lm.config();
      Map<String, Module> ch = lm.namedChildren();
      RNNBase rnn = (RNNBase) ch.get("rnn");
      Linear linear = (Linear) ch.get("linear");
      Embedding embedding = (Embedding) ch.get("embedding");
      boolean lstm = rnn.mode() == RnnMode.LSTM;
      long layers = cfg.layers();
      long h = cfg.hidden();
      for (String n : List.of("h0", "hn", "output")) {
        names.add(n);
      }
      if (lstm) {
        names.add("c0");
        names.add("cn");
      }
      String tokens = node("Transpose", "time_major", List.of("input"), null, ints("perm", 1, 0));
      String x;
      if (embedding == null) {
        // One-hot rows as the model builds them: 1 at the token, 0 elsewhere.
        x = node("OneHot", "one_hot", List.of(tokens, initInt64("one_hot_depth", new long[] {cfg.vocabSize()}),
            initFloats("one_hot_values", new long[] {2}, 0f, 1f)), null, intAttr("axis", -1));
      } else {
        x = node("Gather", "embedding", List.of(init("embedding.weight", embedding.weight()), tokens), null,
            intAttr("axis", 0));
      }
      String y = recurrent(rnn, "rnn", x, "h0", lstm ? "c0" : null, "hn", lstm ? "cn" : null);
      String rows = node("Reshape", "rnn.rows", List.of(y, initInt64("rnn.rows_shape", new long[] {-1, h})), null);
      nodeNamed("Gemm", "linear", List.of(rows, init("linear.weight", linear.weight()),
          init("linear.bias", linear.bias())), List.of("output"), intAttr("transB", 1));
      graph.addInput(valueInfo("input", TensorProto.DataType.INT64_VALUE, "N", "T"));
      graph.addInput(valueInfo("h0", TensorProto.DataType.FLOAT_VALUE, layers, "N", h));
      if (lstm) {
        graph.addInput(valueInfo("c0", TensorProto.DataType.FLOAT_VALUE, layers, "N", h));
      }
      graph.addOutput(valueInfo("output", TensorProto.DataType.FLOAT_VALUE, "TN", (long) cfg.vocabSize()));
      graph.addOutput(valueInfo("hn", TensorProto.DataType.FLOAT_VALUE, layers, "N", h));
      if (lstm) {
        graph.addOutput(valueInfo("cn", TensorProto.DataType.FLOAT_VALUE, layers, "N", h));
      }
      return model();
    }

    /** A value's type; each dimension a size (Long) or a symbolic name (String). */
    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (Object d : dims) {
        s.addDim(d instanceof String sym ? TensorShapeProto.Dimension.newBuilder().setDimParam(sym)
            : TensorShapeProto.Dimension.newBuilder().setDimValue((Long) d));
      }
      return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
          TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    private ModelProto model() {
      return ModelProto.newBuilder().setIrVersion(irVersion(opset)).setProducerName("fathom")
          .setProducerVersion(producerVersion())
          .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
          .setGraph(graph).build();
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
      return model();
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
