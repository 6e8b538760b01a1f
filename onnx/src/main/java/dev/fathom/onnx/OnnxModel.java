package dev.fathom.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.fathom.nn.Module;
import dev.fathom.onnx.proto.Onnx.GraphProto;
import dev.fathom.onnx.proto.Onnx.ModelProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.onnx.proto.Onnx.OperatorSetIdProto;
import dev.fathom.onnx.proto.Onnx.TensorProto;
import dev.fathom.onnx.proto.Onnx.ValueInfoProto;
import dev.fathom.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An ONNX model imported as a Fathom {@link Module}: the graph's nodes run in
 * topological order over Fathom tensors, so the result runs, and (where its ops
 * are differentiable) trains, like any other module.
 *
 * <pre>{@code
 * try (OnnxModel m = OnnxModel.load(Path.of("lenet.onnx")); Scope s = Scope.open()) {
 *   Tensor logits = m.forward(images);
 * }
 * }</pre>
 *
 * Float initializers become parameters (they require grad), except the running
 * statistics of BatchNormalization, which become buffers; int64 initializers and
 * Constant nodes become buffers. Imports are checked before anything is
 * allocated: unsupported ops are listed together in one exception, tensor sizes
 * are checked against the bytes present, and external data must stay inside the
 * model's folder. See docs/onnx.md.
 */
public final class OnnxModel extends Module {
  /** Opsets of the default domain this importer implements. */
  public static final int MIN_OPSET = 11;
  public static final int MAX_OPSET = 18;
  /** The largest model file (and external data file) read. */
  public static final long MAX_FILE_BYTES = 2_000_000_000L;
  /** The largest tensor, in elements (float32 arrays are indexed by int). */
  public static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;
  /** The largest tensor an op may create from sizes the graph gives (Pad, Expand, ConstantOfShape, OneHot): 2^28. */
  public static final long MAX_COMPUTED_ELEMENTS = 1L << 28;

  static final Set<String> SUPPORTED = Set.of("Conv", "BatchNormalization", "Relu", "LeakyRelu", "PRelu",
      "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul",
      "Add", "Sub", "Mul", "Div", "Concat", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Dropout",
      "Constant", "Identity", "Clip", "Pad", "Shape", "Gather", "Expand", "Cast", "ConstantOfShape", "OneHot",
      "LSTM", "GRU", "RNN");

  private final int opset;
  private final List<NodeProto> nodes;
  private final Map<String, Tensor> constants;
  private final List<String> inputNames;
  private final List<String> outputNames;
  private final Map<String, long[]> declaredShapes = new HashMap<>();

  private OnnxModel(int opset, List<NodeProto> nodes, List<String> inputNames, List<String> outputNames) {
    this.opset = opset;
    this.nodes = nodes;
    this.inputNames = inputNames;
    this.outputNames = outputNames;
    this.constants = new LinkedHashMap<>();
  }

  /** Reads an .onnx file; external data files are resolved inside its folder. */
  public static OnnxModel load(Path file) {
    byte[] bytes = read(file);
    Path dir = file.toAbsolutePath().getParent();
    return load(bytes, dir);
  }

  /** Parses a serialized ModelProto; `dir` (may be null: then external data is refused) holds external data. */
  public static OnnxModel load(byte[] bytes, Path dir) {
    return build(parse(bytes), dir, false);
  }

  /**
   * Reads an .onnx file for inference only: BatchNormalization is folded into the Conv before
   * it and Conv + Relu runs as one fused primitive, so there are fewer nodes and passes over the
   * activations. The folded weights are a snapshot, so every tensor is a buffer (nothing
   * requires grad); fine-tune a model from {@link #load(Path)} instead. Outputs match
   * {@link #load(Path)}'s to float rounding.
   *
   * <pre>{@code
   * try (OnnxModel m = OnnxModel.loadForInference(Path.of("resnet18.onnx")); Scope s = Scope.open();
   *     GradMode.Guard g = GradMode.disable()) {
   *   Tensor logits = m.forward(images);
   * }
   * }</pre>
   */
  public static OnnxModel loadForInference(Path file) {
    byte[] bytes = read(file);
    return build(parse(bytes), file.toAbsolutePath().getParent(), true);
  }

  /** {@link #loadForInference(Path)} of a serialized ModelProto (external data in `dir`, may be null). */
  public static OnnxModel loadForInference(byte[] bytes, Path dir) {
    return build(parse(bytes), dir, true);
  }

  private static byte[] read(Path file) {
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw new IllegalArgumentException("onnx: " + file + " is " + size + " bytes, more than " + MAX_FILE_BYTES);
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("onnx: cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static ModelProto parse(byte[] bytes) {
    ModelProto model;
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.setRecursionLimit(64);
      model = ModelProto.parseFrom(in);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("onnx: not a valid ONNX model (protobuf): " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("onnx: cannot parse the model: " + e.getMessage(), e);
    }
    return model;
  }

  private static OnnxModel build(ModelProto model, Path dir, boolean inference) {
    if (!model.hasGraph()) {
      throw new IllegalArgumentException("onnx: the model has no graph");
    }
    int opset = -1;
    for (OperatorSetIdProto o : model.getOpsetImportList()) {
      if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
        opset = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, o.getVersion()));
      }
    }
    if (opset < 0) {
      throw new IllegalArgumentException("onnx: the model imports no opset of the default (ai.onnx) domain");
    }
    if (opset < MIN_OPSET || opset > MAX_OPSET) {
      throw new IllegalArgumentException("onnx: opset " + opset + " is not supported (supported: "
          + MIN_OPSET + " to " + MAX_OPSET + ")");
    }
    GraphProto g = model.getGraph();
    // Every unsupported op, once, in one message.
    Set<String> unsupported = new LinkedHashSet<>();
    for (NodeProto n : g.getNodeList()) {
      boolean defaultDomain = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx");
      if (!defaultDomain || !SUPPORTED.contains(n.getOpType())) {
        unsupported.add((defaultDomain ? "" : n.getDomain() + ".") + n.getOpType() + " (opset " + opset + ")");
      }
    }
    if (!unsupported.isEmpty()) {
      throw new IllegalArgumentException("onnx: unsupported ops: " + String.join(", ", unsupported)
          + "; supported: " + new java.util.TreeSet<>(SUPPORTED));
    }
    Set<String> initNames = new HashSet<>();
    for (TensorProto t : g.getInitializerList()) {
      if (!initNames.add(t.getName())) {
        throw new IllegalArgumentException("onnx: initializer '" + t.getName() + "' appears twice");
      }
    }
    List<String> inputs = new ArrayList<>();
    Map<String, long[]> shapes = new HashMap<>();
    for (ValueInfoProto v : g.getInputList()) {
      if (!initNames.contains(v.getName())) {
        inputs.add(v.getName());
        if (v.getType().hasTensorType() && v.getType().getTensorType().hasShape()) {
          var dims = v.getType().getTensorType().getShape().getDimList();
          long[] shape = new long[dims.size()];
          for (int k = 0; k < shape.length; k++) {
            shape[k] = dims.get(k).hasDimValue() ? dims.get(k).getDimValue() : -1;
          }
          shapes.put(v.getName(), shape);
        }
      }
    }
    List<String> outputs = new ArrayList<>();
    for (ValueInfoProto v : g.getOutputList()) {
      outputs.add(v.getName());
    }
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("onnx: the graph has no outputs");
    }
    List<NodeProto> order = topologicalOrder(g.getNodeList(), initNames, inputs, outputs);
    Set<String> statistics = new HashSet<>();
    for (NodeProto n : order) {
      if (n.getOpType().equals("BatchNormalization") && n.getInputCount() >= 5) {
        statistics.add(n.getInput(3));
        statistics.add(n.getInput(4));
      }
    }
    Map<String, Tensor> decoded = new LinkedHashMap<>();
    OnnxModel m = null;
    try {
      for (TensorProto t : g.getInitializerList()) {
        decoded.put(t.getName(), Tensors.decode(t, dir));
      }
      List<NodeProto> nodes = inference ? InferenceGraph.rewrite(order, decoded, outputs) : order;
      m = new OnnxModel(opset, nodes, inputs, outputs);
      m.declaredShapes.putAll(shapes);
      Set<String> memberNames = new HashSet<>();
      for (Map.Entry<String, Tensor> e : decoded.entrySet()) {
        Tensor v = e.getValue();
        String member = memberName(e.getKey(), memberNames);
        // An inference model's tensors are a snapshot (folded weights): buffers, not parameters.
        if (!inference && v.dtype().isFloatingPoint() && !statistics.contains(e.getKey())) {
          m.constants.put(e.getKey(), m.registerParameter(member, v));
        } else {
          m.constants.put(e.getKey(), m.registerBuffer(member, v));
        }
      }
      for (NodeProto n : nodes) {
        if (n.getOpType().equals("Constant")) {
          Tensor v = Ops.constant(n, dir);
          m.constants.put(n.getOutput(0), m.registerBuffer(memberName(n.getOutput(0), memberNames), v));
        }
      }
    } catch (RuntimeException e) {
      decoded.values().forEach(Tensor::close);   // those not registered yet; close is idempotent
      if (m != null) {
        m.close();
      }
      throw e;
    }
    m.eval();
    return m;
  }

  private static String memberName(String onnxName, Set<String> taken) {
    String base = onnxName.isEmpty() ? "_" : onnxName.replace('.', '_');
    String name = base;
    for (int i = 1; !taken.add(name); i++) {
      name = base + "_" + i;
    }
    return name;
  }

  private static List<NodeProto> topologicalOrder(List<NodeProto> nodes, Set<String> inits, List<String> inputs,
      List<String> outputs) {
    Set<String> known = new HashSet<>(inits);
    known.addAll(inputs);
    known.add("");
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String o : nodes.get(i).getOutputList()) {
        if (o.isEmpty()) {
          continue;
        }
        if (known.contains(o) || producer.putIfAbsent(o, i) != null) {
          throw new IllegalArgumentException("onnx: value '" + o + "' is produced twice (node "
              + describe(nodes.get(i)) + ")");
        }
      }
    }
    for (NodeProto n : nodes) {
      for (String in : n.getInputList()) {
        if (!known.contains(in) && !producer.containsKey(in)) {
          throw new IllegalArgumentException("onnx: node " + describe(n) + " reads '" + in
              + "', which is no graph input, initializer or node output");
        }
      }
    }
    for (String o : outputs) {
      if (!known.contains(o) && !producer.containsKey(o)) {
        throw new IllegalArgumentException("onnx: graph output '" + o + "' is produced by no node");
      }
    }
    // Kahn's algorithm, linear in nodes and edges; ties keep the file's order.
    int[] pending = new int[nodes.size()];
    Map<String, List<Integer>> readers = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : new LinkedHashSet<>(nodes.get(i).getInputList())) {
        if (!known.contains(in)) {
          pending[i]++;
          readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
        }
      }
    }
    java.util.PriorityQueue<Integer> ready = new java.util.PriorityQueue<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    List<NodeProto> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      int i = ready.poll();
      order.add(nodes.get(i));
      for (String o : new LinkedHashSet<>(nodes.get(i).getOutputList())) {
        for (int r : readers.getOrDefault(o, List.of())) {
          if (--pending[r] == 0) {
            ready.add(r);
          }
        }
      }
    }
    if (order.size() < nodes.size()) {
      for (int i = 0; i < nodes.size(); i++) {
        if (pending[i] > 0) {
          throw new IllegalArgumentException("onnx: the graph has a cycle through node " + describe(nodes.get(i)));
        }
      }
    }
    return order;
  }

  static String describe(NodeProto n) {
    return "'" + (n.getName().isEmpty() ? String.join(",", n.getOutputList()) : n.getName()) + "' ("
        + n.getOpType() + ")";
  }

  /** The default-domain opset the model imports. */
  public int opset() {
    return opset;
  }

  /** Names of the graph inputs that are not initializers. */
  public List<String> inputNames() {
    return Collections.unmodifiableList(inputNames);
  }

  /** The shape a graph input declares (-1 for a symbolic or unknown size), or null if it declares none. */
  public long[] declaredShape(String input) {
    long[] s = declaredShapes.get(input);
    return s == null ? null : s.clone();
  }

  public List<String> outputNames() {
    return Collections.unmodifiableList(outputNames);
  }

  /** How many nodes of each op type the graph runs, by op type. */
  public SortedMap<String, Integer> opCounts() {
    SortedMap<String, Integer> counts = new TreeMap<>();
    nodes.forEach(n -> counts.merge(n.getOpType(), 1, Integer::sum));
    return counts;
  }

  /** Runs the graph on its one input and returns its first output. */
  @Override
  public Tensor forward(Tensor input) {
    if (inputNames.size() != 1) {
      throw new IllegalArgumentException("onnx: the graph has " + inputNames.size() + " inputs " + inputNames
          + "; use run(Map)");
    }
    return run(Map.of(inputNames.get(0), input)).get(outputNames.get(0));
  }

  /** Runs the graph on named inputs; returns every graph output by name. */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    Map<String, Tensor> env = new HashMap<>(constants);
    for (String name : inputNames) {
      Tensor t = inputs.get(name);
      if (t == null) {
        throw new IllegalArgumentException("onnx: missing graph input '" + name + "' (inputs: " + inputNames + ")");
      }
      env.put(name, t);
    }
    for (NodeProto n : nodes) {
      if (n.getOpType().equals("Constant")) {
        continue;
      }
      Tensor[] args = new Tensor[n.getInputCount()];
      for (int i = 0; i < args.length; i++) {
        String name = n.getInput(i);
        args[i] = name.isEmpty() ? null : env.get(name);
      }
      Tensor[] out;
      try {
        out = Ops.run(n, opset, args);
      } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
        List<String> shapes = new ArrayList<>();
        for (Tensor a : args) {
          shapes.add(a == null ? "none" : Arrays.toString(a.shape()));
        }
        throw new IllegalArgumentException("onnx: node " + describe(n) + " with inputs " + shapes + ": "
            + e.getMessage(), e);
      }
      for (int i = out.length; i < n.getOutputCount(); i++) {
        if (!n.getOutput(i).isEmpty()) {
          throw new IllegalArgumentException("onnx: node " + describe(n) + " declares " + n.getOutputCount()
              + " outputs; this importer produces " + out.length);
        }
      }
      for (int i = 0; i < out.length && i < n.getOutputCount(); i++) {
        if (!n.getOutput(i).isEmpty()) {
          env.put(n.getOutput(i), out[i]);
        }
      }
    }
    Map<String, Tensor> result = new LinkedHashMap<>();
    for (String o : outputNames) {
      result.put(o, env.get(o));
    }
    return result;
  }
}
