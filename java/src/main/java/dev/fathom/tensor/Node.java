package dev.fathom.tensor;

/**
 * One recorded op in the autograd graph: the op's inputs and a backward
 * closure that maps the gradient of the output to gradients of the inputs
 * (written next to the op's forward in {@link Ops}). Saved tensors are views
 * held only for backward and closed as soon as backward has used them.
 */
final class Node {
  /** dL/dinput for each input, from dL/doutput; null entries mean "no gradient". */
  interface Backward {
    Tensor[] apply(Tensor grad);
  }

  final OpName op;
  final Tensor[] inputs;
  private final Backward backward;
  private Tensor[] saved;
  private boolean released;

  Node(OpName op, Tensor[] inputs, Backward backward, Tensor[] saved) {
    this.op = op;
    this.inputs = inputs;
    this.backward = backward;
    this.saved = saved;
  }

  Tensor[] apply(Tensor grad) {
    if (released) {
      throw new IllegalStateException(
          op + ": backward through the graph a second time; its saved tensors were already "
              + "freed (call backward(seed, true) to retain the graph)");
    }
    for (Tensor s : saved) {
      if (s.isClosed()) {
        throw new IllegalStateException(
            op + ": a tensor saved for backward was released before backward ran "
                + "(was the scope that created it closed before calling backward?)");
      }
    }
    return backward.apply(grad);
  }

  void release() {
    released = true;
    for (Tensor s : saved) {
      s.close();
    }
    saved = new Tensor[0];
  }
}
