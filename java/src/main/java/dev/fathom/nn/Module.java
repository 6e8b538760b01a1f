package dev.fathom.nn;

import dev.fathom.Device;
import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Base class of layers and models, as in PyTorch: named parameters (leaf
 * tensors that require grad), buffers (state that is not trained, e.g. running
 * statistics) and child modules, a train/eval mode, and {@link #apply}.
 *
 * <pre>{@code
 * Module mlp = new Sequential(new Flatten(), new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * mlp.apply(m -> { if (m instanceof Linear l) Init.normal_(l.weight(), 0, 0.01, gen); });
 * Tensor logits = mlp.forward(images);
 * }</pre>
 *
 * A module owns its parameters and buffers (they live outside any Scope) and
 * frees them, and its children's, in {@link #close()}.
 */
public abstract class Module implements AutoCloseable {
  private final Map<String, Tensor> parameters = new LinkedHashMap<>();
  private final Map<String, Tensor> buffers = new LinkedHashMap<>();
  private final Map<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;
  private boolean closed;

  /** Computes the output for one batch. */
  public abstract Tensor forward(Tensor input);

  /** Registers `value` as a trainable parameter: it becomes an owned leaf that requires grad. */
  protected Tensor registerParameter(String name, Tensor value) {
    checkName(name);
    value.unscope();
    try (GradMode.Guard g = GradMode.disable()) {
      value.requiresGrad(true);
    }
    parameters.put(name, value);
    return value;
  }

  /** Registers non-trainable state saved with the model (running statistics, ...). */
  protected Tensor registerBuffer(String name, Tensor value) {
    checkName(name);
    buffers.put(name, value.unscope());
    return value;
  }

  protected <M extends Module> M registerModule(String name, M module) {
    checkName(name);
    children.put(name, module);
    return module;
  }

  /** Replaces a buffer's tensor (closing the old one), e.g. when running statistics are updated. */
  protected void replaceBuffer(String name, Tensor value) {
    Tensor old = buffers.get(name);
    if (old == null) {
      throw new IllegalArgumentException("replaceBuffer: no buffer '" + name + "' in " + getClass().getSimpleName());
    }
    buffers.put(name, value.unscope());
    if (old != value) {
      old.close();
    }
  }

  /** This module's own parameter `name` (not a descendant's). */
  protected Tensor param(String name) {
    Tensor t = parameters.get(name);
    if (t == null) {
      throw new IllegalArgumentException(getClass().getSimpleName() + " has no parameter '" + name + "'");
    }
    return t;
  }

  /** This module's own buffer `name`. */
  protected Tensor buffer(String name) {
    Tensor t = buffers.get(name);
    if (t == null) {
      throw new IllegalArgumentException(getClass().getSimpleName() + " has no buffer '" + name + "'");
    }
    return t;
  }

  /**
   * Converts every floating-point parameter and buffer to `type` (e.g. float64
   * for gradient checks), in this module and its descendants.
   */
  public Module to(DType type) {
    for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
      Tensor old = e.getValue();
      if (old.dtype().isFloatingPoint() && old.dtype() != type) {
        Tensor converted;
        try (GradMode.Guard g = GradMode.disable()) {
          converted = old.to(type).unscope();
          converted.requiresGrad(true);
        }
        e.setValue(converted);
        old.close();
      }
    }
    for (Map.Entry<String, Tensor> e : buffers.entrySet()) {
      Tensor old = e.getValue();
      if (old.dtype().isFloatingPoint() && old.dtype() != type) {
        Tensor converted;
        try (GradMode.Guard g = GradMode.disable()) {
          converted = old.to(type).unscope();
        }
        e.setValue(converted);
        old.close();
      }
    }
    for (Module child : children.values()) {
      child.to(type);
    }
    return this;
  }

  /**
   * Moves every parameter and buffer to `device` (e.g. {@code Device.cuda(0)}),
   * in this module and its descendants. As with {@link #to(DType)}, moved
   * parameters are new tensors: build the optimizer after moving the model, and
   * its state is created where the parameters are. A device that is not
   * available fails before anything moves (a FathomException naming it).
   */
  public Module to(Device device) {
    if (device == null) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ".to: device is null");
    }
    moveTo(device);  // a missing device fails at the first copy, before any member is replaced
    return this;
  }

  private void moveTo(Device device) {
    for (Map<String, Tensor> members : List.of(parameters, buffers)) {
      for (Map.Entry<String, Tensor> e : members.entrySet()) {
        Tensor old = e.getValue();
        if (old.device().equals(device)) {
          continue;
        }
        Tensor moved;
        try (GradMode.Guard g = GradMode.disable()) {
          moved = old.to(device).unscope();
        }
        if (old.requiresGrad()) {
          moved.requiresGrad(true);
        }
        e.setValue(moved);
        old.close();
      }
    }
    for (Module child : children.values()) {
      child.moveTo(device);
    }
  }

  private void checkName(String name) {
    if (name == null || name.isEmpty() || name.contains(".")) {
      throw new IllegalArgumentException("invalid module member name '" + name + "'");
    }
    if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
      throw new IllegalArgumentException(getClass().getSimpleName() + ": '" + name + "' is already registered");
    }
  }

  /** Parameters of this module and its descendants, keyed "child.name" as in PyTorch's state_dict. */
  public Map<String, Tensor> namedParameters() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect(out, "", true, false);
    return Collections.unmodifiableMap(out);
  }

  public List<Tensor> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  public Map<String, Tensor> namedBuffers() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect(out, "", false, true);
    return Collections.unmodifiableMap(out);
  }

  /** Parameters and buffers, keyed as in PyTorch's state_dict. */
  public Map<String, Tensor> stateDict() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect(out, "", true, true);
    return Collections.unmodifiableMap(out);
  }

  private void collect(Map<String, Tensor> out, String prefix, boolean params, boolean bufs) {
    if (params) {
      parameters.forEach((k, v) -> out.put(prefix + k, v));
    }
    if (bufs) {
      buffers.forEach((k, v) -> out.put(prefix + k, v));
    }
    children.forEach((k, m) -> m.collect(out, prefix + k + ".", params, bufs));
  }

  public Map<String, Module> namedChildren() {
    return Collections.unmodifiableMap(children);
  }

  /** Number of trainable scalars. */
  public long parameterCount() {
    long n = 0;
    for (Tensor p : namedParameters().values()) {
      n += p.numel();
    }
    return n;
  }

  /** Applies fn to every descendant, then to this module (PyTorch order). */
  public Module apply(Consumer<Module> fn) {
    for (Module child : children.values()) {
      child.apply(fn);
    }
    fn.accept(this);
    return this;
  }

  /** Training mode (dropout active, batch statistics) for this module and its descendants. */
  public Module train() {
    return train(true);
  }

  public Module train(boolean mode) {
    training = mode;
    for (Module child : children.values()) {
      child.train(mode);
    }
    return this;
  }

  /** Inference mode: dropout off, running statistics. */
  public Module eval() {
    return train(false);
  }

  public boolean isTraining() {
    return training;
  }

  public void zeroGrad() {
    for (Tensor p : namedParameters().values()) {
      p.zeroGrad();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    parameters.values().forEach(Tensor::close);
    buffers.values().forEach(Tensor::close);
    children.values().forEach(Module::close);
  }

  /** One row of {@link #summary}. */
  public record SummaryRow(String name, String type, long[] outputShape, long parameters) {}

  /**
   * Runs one example (batch 1, zeros, eval mode, no graph) through the model and
   * returns a table of layer, output shape and parameter count, with totals.
   *
   * <pre>{@code
   * System.out.println(Models.create("lenet", 10, gen).summary(1, 28, 28));
   * }</pre>
   */
  public String summary(long... inputShape) {
    List<SummaryRow> rows = summaryRows(inputShape);
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%-28s %-18s %-20s %14s%n", "layer", "type", "output shape", "parameters"));
    long total = 0;
    for (SummaryRow r : rows) {
      sb.append(String.format("%-28s %-18s %-20s %,14d%n", r.name(), r.type(),
          java.util.Arrays.toString(r.outputShape()).replace(" ", ""), r.parameters()));
    }
    total = parameterCount();
    sb.append(String.format("total parameters: %,d (trainable scalars; buffers excluded)%n", total));
    return sb.toString();
  }

  /** The rows of {@link #summary}. */
  public List<SummaryRow> summaryRows(long... inputShape) {
    long[] shape = new long[inputShape.length + 1];
    shape[0] = 1;
    System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
    boolean wasTraining = training;
    List<SummaryRow> rows = new ArrayList<>();
    eval();
    try (GradMode.Guard g = GradMode.disable(); dev.fathom.tensor.Scope scope = dev.fathom.tensor.Scope.open()) {
      summarize("", dev.fathom.tensor.Tensor.zeros(shape), rows);
    } finally {
      train(wasTraining);
    }
    return rows;
  }

  /** Adds this module's rows and returns its output; containers override it to list their children. */
  protected Tensor summarize(String name, Tensor x, List<SummaryRow> rows) {
    Tensor y = forward(x);
    rows.add(new SummaryRow(name.isEmpty() ? "(model)" : name, getClass().getSimpleName(), y.shape(),
        parameterCount()));
    return y;
  }

  /** One line describing this module's configuration, e.g. "in=784, out=10". */
  protected String extraRepr() {
    return "";
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(').append(extraRepr());
    if (!children.isEmpty()) {
      sb.append('\n');
      children.forEach((k, m) -> sb.append("  (").append(k).append("): ")
          .append(m.toString().replace("\n", "\n  ")).append('\n'));
    }
    return sb.append(')').toString();
  }
}
