package dev.fathom.onnx;

import dev.fathom.onnx.proto.Onnx.AttributeProto;
import dev.fathom.onnx.proto.Onnx.NodeProto;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rewrites {@link OnnxModel#loadForInference} applies to a validated, ordered graph, each
 * exact for an inference graph (up to float rounding):
 * <ul>
 *   <li>Conv then BatchNormalization (the Conv's only reader) becomes one Conv with
 *       W' = W * s and B' = (B - mean) * s + beta per output channel, s = gamma / sqrt(var + eps);
 *   <li>Conv then Relu (its only reader) becomes one FusedConv (domain dev.fathom), which runs
 *       the convolution with oneDNN's ReLU post-op.
 * </ul>
 * Values that are graph outputs are never fused away. Not a general optimizer: no constant
 * folding, no other patterns. The readable reference is the unrewritten graph, which
 * {@link OnnxModel#load} runs and OnnxInferenceGraphTest compares with.
 */
final class InferenceGraph {
  static final String DOMAIN = "dev.fathom";
  static final String FUSED_CONV = "FusedConv";

  private InferenceGraph() {}

  /**
   * Rewrites `order`; `initializers` (name -> tensor) gains the folded weights and loses (closes)
   * the tensors no node reads any more.
   */
  static List<NodeProto> rewrite(List<NodeProto> order, Map<String, Tensor> initializers, List<String> outputs) {
    Set<String> taken = new HashSet<>(initializers.keySet());
    for (NodeProto n : order) {
      taken.addAll(n.getOutputList());
    }
    List<NodeProto> nodes = new ArrayList<>(order);
    foldBatchNorm(nodes, initializers, new HashSet<>(outputs), taken);
    fuseRelu(nodes, new HashSet<>(outputs));
    Set<String> read = new HashSet<>(outputs);
    for (NodeProto n : nodes) {
      read.addAll(n.getInputList());
    }
    initializers.entrySet().removeIf(e -> {
      if (read.contains(e.getKey())) {
        return false;
      }
      e.getValue().close();
      return true;
    });
    return nodes;
  }

  /** For each value, the indices of the nodes that read it. */
  private static Map<String, List<Integer>> readers(List<NodeProto> nodes) {
    Map<String, List<Integer>> r = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : new HashSet<>(nodes.get(i).getInputList())) {
        r.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
      }
    }
    return r;
  }

  /** The node at `i`'s one reader, if it has exactly one and its output is no graph output. */
  private static int onlyReader(List<NodeProto> nodes, int i, Map<String, List<Integer>> readers,
      Set<String> outputs) {
    NodeProto n = nodes.get(i);
    if (n.getOutputCount() != 1 || outputs.contains(n.getOutput(0))) {
      return -1;
    }
    List<Integer> r = readers.getOrDefault(n.getOutput(0), List.of());
    return r.size() == 1 ? r.get(0) : -1;
  }

  private static boolean isConv(NodeProto n) {
    return n.getOpType().equals("Conv") && n.getDomain().isEmpty() && n.getInputCount() >= 2;
  }

  private static void foldBatchNorm(List<NodeProto> nodes, Map<String, Tensor> init, Set<String> outputs,
      Set<String> taken) {
    Map<String, List<Integer>> readers = readers(nodes);
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto conv = nodes.get(i);
      if (conv == null || !isConv(conv)) {
        continue;
      }
      int j = onlyReader(nodes, i, readers, outputs);
      NodeProto bn = j < 0 ? null : nodes.get(j);
      if (bn == null || !bn.getOpType().equals("BatchNormalization") || bn.getInputCount() != 5
          || !bn.getInput(0).equals(conv.getOutput(0)) || Ops.i(bn, "training_mode", 0) != 0
          || bn.getOutputList().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
        continue;
      }
      Tensor w = init.get(conv.getInput(1));
      Tensor b = conv.getInputCount() > 2 && !conv.getInput(2).isEmpty() ? init.get(conv.getInput(2)) : null;
      boolean hasBias = conv.getInputCount() > 2 && !conv.getInput(2).isEmpty();
      Tensor[] stats = new Tensor[4];   // gamma, beta, mean, var
      for (int k = 0; k < 4; k++) {
        stats[k] = init.get(bn.getInput(k + 1));
      }
      if (w == null || w.dtype() != DType.FLOAT32 || w.dim() != 4 || (hasBias && b == null)
          || Arrays.stream(stats).anyMatch(t -> t == null || t.numel() != w.size(0))
          || (b != null && b.numel() != w.size(0))) {
        continue;   // not constant, or malformed: the run reports it as the graph has it
      }
      int k = Math.toIntExact(w.size(0));
      double eps = Ops.f(bn, "epsilon", 1e-5f);
      double[] gamma = stats[0].toDoubleArray();
      double[] beta = stats[1].toDoubleArray();
      double[] mean = stats[2].toDoubleArray();
      double[] var = stats[3].toDoubleArray();
      double[] bias = b == null ? new double[k] : b.toDoubleArray();
      float[] wf = w.toFloatArray();
      int per = wf.length / k;
      float[] folded = new float[wf.length];
      float[] foldedBias = new float[k];
      for (int c = 0; c < k; c++) {
        double s = gamma[c] / Math.sqrt(var[c] + eps);
        for (int e = c * per; e < (c + 1) * per; e++) {
          folded[e] = (float) (wf[e] * s);
        }
        foldedBias[c] = (float) ((bias[c] - mean[c]) * s + beta[c]);
      }
      String wName = unique(bn.getOutput(0) + "_folded_weight", taken);
      String bName = unique(bn.getOutput(0) + "_folded_bias", taken);
      init.put(wName, Tensor.fromArray(folded, w.shape()).unscope());
      init.put(bName, Tensor.fromArray(foldedBias, k).unscope());
      nodes.set(i, conv.toBuilder().clearInput().addInput(conv.getInput(0)).addInput(wName).addInput(bName)
          .setOutput(0, bn.getOutput(0)).build());
      nodes.set(j, null);
    }
    nodes.removeIf(n -> n == null);
  }

  private static void fuseRelu(List<NodeProto> nodes, Set<String> outputs) {
    Map<String, List<Integer>> readers = readers(nodes);
    for (int i = 0; i < nodes.size(); i++) {
      NodeProto conv = nodes.get(i);
      if (conv == null || !isConv(conv)) {
        continue;
      }
      int j = onlyReader(nodes, i, readers, outputs);
      NodeProto relu = j < 0 ? null : nodes.get(j);
      if (relu == null || !relu.getOpType().equals("Relu") || !relu.getDomain().isEmpty()) {
        continue;
      }
      nodes.set(i, conv.toBuilder().setOpType(FUSED_CONV).setDomain(DOMAIN).setOutput(0, relu.getOutput(0))
          .addAttribute(AttributeProto.newBuilder().setName("activation")
              .setType(AttributeProto.AttributeType.STRING)
              .setS(com.google.protobuf.ByteString.copyFromUtf8("Relu"))).build());
      nodes.set(j, null);
    }
    nodes.removeIf(n -> n == null);
  }

  private static String unique(String base, Set<String> taken) {
    String n = base;
    for (int k = 1; !taken.add(n); k++) {
      n = base + "_" + k;
    }
    return n;
  }
}
