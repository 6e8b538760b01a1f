package dev.fathom.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Reverse-mode differentiation over the recorded graph. */
final class Autograd {
  private Autograd() {}

  /** True when an op on these inputs must record a node. */
  static boolean needed(Tensor... inputs) {
    if (!GradMode.isEnabled()) {
      return false;
    }
    for (Tensor t : inputs) {
      if (t != null && t.requiresGrad) {
        return true;
      }
    }
    return false;
  }

  /** Attaches a node producing `out`; `saved` are views released after backward. */
  static void record(Tensor out, OpName op, Tensor[] inputs, Node.Backward backward, Tensor... saved) {
    out.gradFn = new Node(op, inputs, backward, saved);
    out.requiresGrad = true;
  }

  static void backward(Tensor root, Tensor seed, boolean retainGraph) {
    if (!root.requiresGrad) {
      throw new IllegalStateException(
          "backward: tensor " + Shapes.str(root.shape) + " does not require grad");
    }
    if (!Shapes.same(seed.shape, root.shape)) {
      throw new IllegalArgumentException(
          "backward: seed shape " + Shapes.str(seed.shape) + " does not match "
              + Shapes.str(root.shape));
    }
    // The scope frees every intermediate gradient; leaf gradients are unscoped.
    try (GradMode.Guard g = GradMode.disable(); Scope scope = Scope.open()) {
      if (root.gradFn == null) {
        accumulateLeaf(root, seed);
        return;
      }
      List<Node> order = topologicalOrder(root.gradFn);
      Map<Node, Tensor> grads = new IdentityHashMap<>();
      grads.put(root.gradFn, seed);
      for (Node node : order) {
        Tensor grad = grads.remove(node);
        if (grad == null) {
          continue;
        }
        Tensor[] inputGrads = node.apply(grad);
        for (int i = 0; i < node.inputs.length; i++) {
          Tensor input = node.inputs[i];
          Tensor ig = inputGrads[i];
          if (input == null || ig == null || !input.requiresGrad) {
            continue;
          }
          if (!Shapes.same(ig.shape, input.shape)) {
            throw new IllegalStateException(
                node.op + ": backward produced gradient " + Shapes.str(ig.shape)
                    + " for input " + Shapes.str(input.shape));
          }
          if (input.gradFn == null) {
            accumulateLeaf(input, ig);
          } else {
            Tensor prev = grads.get(input.gradFn);
            grads.put(input.gradFn, prev == null ? ig : prev.add(ig));
          }
        }
        if (!retainGraph) {
          node.release();
        }
      }
    }
  }

  private static void accumulateLeaf(Tensor leaf, Tensor grad) {
    if (leaf.grad == null) {
      // NOTE: the leaf owns its gradient; it must outlive the step's scope.
      Tensor copy = grad.to(leaf.dtype).contiguousCopy();
      copy.unscope();
      leaf.grad = copy;
    } else {
      leaf.grad.add_(grad.to(leaf.dtype));
    }
  }

  /** Nodes ordered so that each comes before the nodes producing its inputs. */
  private static List<Node> topologicalOrder(Node root) {
    Map<Node, Boolean> state = new IdentityHashMap<>();  // false: visiting, true: done
    List<Node> post = new ArrayList<>();
    ArrayDeque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {root, 0});
    state.put(root, false);
    while (!stack.isEmpty()) {
      Object[] frame = stack.peek();
      Node node = (Node) frame[0];
      int i = (Integer) frame[1];
      if (i < node.inputs.length) {
        frame[1] = i + 1;
        Tensor in = node.inputs[i];
        if (in != null && in.gradFn != null && !state.containsKey(in.gradFn)) {
          state.put(in.gradFn, false);
          stack.push(new Object[] {in.gradFn, 0});
        }
      } else {
        stack.pop();
        state.put(node, true);
        post.add(node);
      }
    }
    List<Node> order = new ArrayList<>(post.size());
    for (int i = post.size() - 1; i >= 0; i--) {
      order.add(post.get(i));
    }
    return order;
  }
}
