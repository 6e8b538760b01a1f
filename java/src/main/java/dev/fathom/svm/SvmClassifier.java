package dev.fathom.svm;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;

/**
 * What {@link LinearSVM} and {@link KernelSVM} share once fitted: the classes, the
 * decision rule and accuracy. A model is one or more linear machines
 * {@code f_k(x) = w_k . phi(x) + b_k} (phi the identity for the linear SVM):
 * <ul>
 *   <li>two classes: one machine; {@code predict} gives the larger label where
 *       {@code f(x) > 0} (the notes' sign of {@code w^T x + b}), the smaller otherwise;
 *   <li>K > 2 classes: one-vs-rest, K machines; {@code predict} gives the class whose
 *       machine scores highest.
 * </ul>
 *
 * <p>Models own native tensors (weights, support vectors): close them. A model is not
 * thread-safe while fitting; after {@code fit} returns, concurrent {@code predict} calls
 * only read it.
 */
public abstract class SvmClassifier implements AutoCloseable {
  private final String name;
  private long[] classes;
  private long features = -1;
  private DType dtype;
  private boolean closed;

  SvmClassifier(String name) {
    this.name = name;
  }

  /** Scores [n, machines] of a checked, finite x [n, D] in the model's dtype. */
  abstract Tensor scores(Tensor x);

  /** Releases the fitted tensors (called before a refit and by close). */
  abstract void release();

  /** Checks x and y, and returns their labels; called first by fit. */
  final Labels beginFit(Tensor x, Tensor y) {
    String op = name + ".fit";
    ensureOpen(op);
    Inputs.requireMatrix(op, "x", x);
    Labels labels = Labels.of(op, x, y);
    Inputs.requireFinite(op, "x", x);
    release();
    classes = null;
    features = -1;
    dtype = null;
    return labels;
  }

  /** Marks the model fitted on x's features, dtype and these labels' classes. */
  final void endFit(Tensor x, Labels labels) {
    classes = labels.classes.clone();
    features = x.size(1);
    dtype = x.dtype();
  }

  /** Sorted class labels seen by fit. */
  public long[] classes() {
    requireFitted("classes");
    return classes.clone();
  }

  /** Number of features the model was fitted on. */
  public long numFeatures() {
    requireFitted("numFeatures");
    return features;
  }

  public boolean isFitted() {
    return classes != null;
  }

  /**
   * Decision values: [n] with one machine (binary: > 0 means the larger label),
   * [n, K] one-vs-rest. Same dtype as the training data.
   */
  public Tensor decisionFunction(Tensor x) {
    String op = name + ".decisionFunction";
    checkQuery(op, x);
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor s = scores(x.to(dtype));
      return scope.keep(s.size(1) == 1 ? s.reshape(s.size(0)) : s);
    }
  }

  /** Predicted labels (values from {@link #classes()}), int64 [n]. */
  public Tensor predict(Tensor x) {
    String op = name + ".predict";
    checkQuery(op, x);
    try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.disable()) {
      Tensor s = scores(x.to(dtype));
      Tensor which = s.size(1) == 1 ? s.reshape(s.size(0)).gt(0).to(DType.INT64) : s.argmax(1, false);
      Tensor labels = Tensor.fromArray(classes, classes.length).indexSelect(0, which);
      return scope.keep(labels);
    }
  }

  /** Fraction of rows of x whose predicted label equals y (labels as for fit). */
  public double accuracy(Tensor x, Tensor y) {
    String op = name + ".accuracy";
    checkQuery(op, x);
    long[] truth = Labels.values(op, x, y);
    long[] predicted;
    try (Tensor p = predict(x)) {
      predicted = p.toLongArray();
    }
    long correct = 0;
    for (int i = 0; i < truth.length; i++) {
      if (truth[i] == predicted[i]) {
        correct++;
      }
    }
    return (double) correct / truth.length;
  }

  private void checkQuery(String op, Tensor x) {
    requireFitted(op);
    Inputs.requireMatrix(op, "x", x);
    if (x.size(1) != features) {
      throw new IllegalArgumentException(op + ": x " + Inputs.shape(x) + " has " + x.size(1)
          + " features but the model was fitted on " + features);
    }
    Inputs.requireFinite(op, "x", x);
  }

  private void requireFitted(String op) {
    ensureOpen(op);
    if (classes == null) {
      throw new IllegalStateException(op + ": " + name + " is not fitted (call fit first)");
    }
  }

  private void ensureOpen(String op) {
    if (closed) {
      throw new IllegalStateException(op + ": " + name + " was closed");
    }
  }

  /** Frees the fitted tensors; idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      release();
      classes = null;
    }
  }
}
