package dev.fathom.optim;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.GradMode;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Updates parameters from their gradients. A base for {@link SGD}, {@link Adam} and
 * {@link AdamW}; names and formulas follow PyTorch's {@code torch.optim}.
 *
 * <pre>{@code
 * try (Optimizer opt = new SGD(List.of(w, b), 0.03)) {
 *   for (...) { try (Scope s = Scope.open()) { loss(...).backward(); opt.step(); opt.zeroGrad(); } }
 * }
 * }</pre>
 *
 * <p>Parameters are leaf tensors with {@code requiresGrad(true)}, owned by their creator
 * (a Module), never by the optimizer. The optimizer owns its state (momentum buffers, Adam
 * moments): tensors outside every scope, made lazily at a parameter's first update and
 * freed by {@link #close()}. {@link #step()} runs under {@code GradMode.disable()} inside its
 * own scope, so its temporaries are freed before it returns and memory stays flat.
 *
 * <p>Checkpoints: {@link #stateDict()} exports the learning rate and every parameter's
 * state under PyTorch's names ({@code state.<i>.momentum_buffer}, {@code state.<i>.exp_avg},
 * ...), and {@link #loadStateDict} restores it into an optimizer built over the same
 * parameters, so that training resumes with exactly the same updates.
 *
 * <p>Not thread-safe: step from one thread at a time.
 */
public abstract class Optimizer implements AutoCloseable {
  private final String name;
  private final List<Tensor> params;
  private final List<Tensor> state = new ArrayList<>();
  private double lr;
  private boolean closed;

  protected Optimizer(String name, List<Tensor> params, double lr) {
    this.name = name;
    if (params == null || params.isEmpty()) {
      throw new IllegalArgumentException(name + ": got an empty parameter list");
    }
    Map<Tensor, Integer> seen = new IdentityHashMap<>();
    for (int i = 0; i < params.size(); i++) {
      Tensor p = params.get(i);
      if (p == null) {
        throw new IllegalArgumentException(name + ": parameter " + i + " is null");
      }
      String what = name + ": parameter " + i + " " + shape(p) + " " + p.dtype();
      if (p.isClosed()) {
        throw new IllegalArgumentException(what + " is closed");
      }
      if (!p.isLeaf()) {
        throw new IllegalArgumentException(what + " is not a leaf (it was computed by "
            + p.gradFnName() + "); optimizers update leaf tensors");
      }
      if (!p.requiresGrad()) {
        throw new IllegalArgumentException(what + " does not require grad; call requiresGrad(true)"
            + " on parameters");
      }
      Integer first = seen.put(p, i);
      if (first != null) {
        throw new IllegalArgumentException(what + " is the same tensor as parameter " + first
            + "; it would be updated twice per step");
      }
    }
    this.params = Collections.unmodifiableList(new ArrayList<>(params));
    setLearningRate(lr);
  }

  /**
   * One update of every parameter that has a gradient; parameters whose {@code grad()} is
   * null (unused in this step's graph) are skipped and their state is left unchanged.
   */
  public final void step() {
    ensureOpen("step");
    try (GradMode.Guard g = GradMode.disable(); Scope scope = Scope.open()) {
      for (int i = 0; i < params.size(); i++) {
        Tensor p = params.get(i);
        Tensor grad = p.grad();
        if (grad != null) {
          update(i, p, grad);
        }
      }
    }
  }

  /**
   * Updates parameter `index` in place from `grad` (never modified). Runs with grad mode off
   * inside the step's scope: temporaries need no closing; state comes from {@link #newState}.
   */
  protected abstract void update(int index, Tensor param, Tensor grad);

  /** Drops every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}). */
  public void zeroGrad() {
    for (Tensor p : params) {
      p.zeroGrad();
    }
  }

  public double learningRate() {
    return lr;
  }

  /** Sets the learning rate used from the next step on (what LR schedulers call). */
  public void setLearningRate(double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException(name + ": learning rate must be finite and >= 0, got " + lr);
    }
    this.lr = lr;
  }

  /** The parameters, in the order given (unmodifiable). */
  public List<Tensor> parameters() {
    return params;
  }

  /** What one named per-parameter state entry holds, for {@link #loadStateDict} to check. */
  protected enum StateKind {
    /** A tensor with the parameter's shape and dtype (momentum, moments). */
    LIKE_PARAMETER,
    /** A 0-dimensional int64 count (Adam's step). */
    COUNT
  }

  /** The per-parameter state names this optimizer keeps, in export order; all present or none per parameter. */
  protected abstract Map<String, StateKind> stateNames();

  /**
   * Parameter `index`'s state as live tensors (this optimizer's own, or scoped
   * temporaries), keyed by the names of {@link #stateNames()}; empty before its first update.
   */
  protected abstract Map<String, Tensor> exportState(int index);

  /**
   * Replaces parameter `index`'s state with copies of `state` (already checked
   * against {@link #stateNames()}), or clears it when `state` is empty.
   */
  protected abstract void importState(int index, Map<String, Tensor> state);

  /**
   * The learning rate ({@code "lr"}, float64 scalar) and every parameter's state
   * ({@code "state.<i>.<name>"}), as new tensors the caller owns (they join the
   * current Scope, if one is open).
   *
   * <pre>{@code
   * try (Scope s = Scope.open()) { SafeTensors.save(opt.stateDict(), file); }
   * }</pre>
   */
  public final Map<String, Tensor> stateDict() {
    ensureOpen("stateDict");
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (GradMode.Guard g = GradMode.disable()) {
      out.put("lr", Tensor.scalar(lr, DType.FLOAT64));
      for (int i = 0; i < params.size(); i++) {
        Map<String, Tensor> live;
        try (Scope scope = Scope.open()) {
          live = exportState(i);
          for (Map.Entry<String, Tensor> e : live.entrySet()) {
            Tensor copy = Tensor.empty(e.getValue().dtype(), e.getValue().shape());
            copy.copy_(e.getValue());
            out.put("state." + i + "." + e.getKey(), scope.keep(copy));
          }
        }
      }
    }
    return out;
  }

  /**
   * Restores what {@link #stateDict()} exported from an optimizer of the same kind over
   * parameters of the same shapes. Everything is checked first (keys, parameter
   * indices, shapes, dtypes, complete per-parameter state): on any mismatch nothing
   * changes and the error lists the problems. The tensors are copied, not kept.
   */
  public final void loadStateDict(Map<String, Tensor> state) {
    ensureOpen("loadStateDict");
    Map<String, StateKind> names = stateNames();
    List<String> problems = new ArrayList<>();
    Map<Integer, Map<String, Tensor>> perParam = new TreeMap<>();
    Tensor lrTensor = state.get("lr");
    if (lrTensor == null || lrTensor.dim() != 0) {
      problems.add("'lr' must be a scalar");
    }
    for (Map.Entry<String, Tensor> e : state.entrySet()) {
      String key = e.getKey();
      if (key.equals("lr")) {
        continue;
      }
      String[] parts = key.split("\\.", 3);
      int index = -1;
      if (parts.length == 3 && parts[0].equals("state") && parts[1].matches("[0-9]{1,9}")) {
        index = Integer.parseInt(parts[1]);
      }
      if (index < 0 || index >= params.size() || !names.containsKey(parts[2])) {
        problems.add("unexpected '" + key + "' (" + name + " keeps " + names.keySet() + " for "
            + params.size() + " parameters)");
        continue;
      }
      Tensor t = e.getValue();
      Tensor p = params.get(index);
      boolean fits = names.get(parts[2]) == StateKind.COUNT
          ? t.dim() == 0 && t.dtype() == DType.INT64
          : Arrays.equals(t.shape(), p.shape()) && t.dtype() == p.dtype();
      if (!fits) {
        problems.add("'" + key + "' is " + shape(t) + " " + t.dtype() + " but parameter " + index + " is "
            + shape(p) + " " + p.dtype());
      }
      perParam.computeIfAbsent(index, k -> new LinkedHashMap<>()).put(parts[2], t);
    }
    perParam.forEach((index, entries) -> {
      if (entries.size() != names.size()) {
        TreeSet<String> missing = new TreeSet<>(names.keySet());
        missing.removeAll(entries.keySet());
        problems.add("parameter " + index + " lacks " + missing);
      }
    });
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(name + ".loadStateDict: " + String.join("; ", problems));
    }
    setLearningRate(lrTensor.item());
    try (GradMode.Guard g = GradMode.disable()) {
      for (int i = 0; i < params.size(); i++) {
        importState(i, perParam.getOrDefault(i, Map.of()));
      }
    }
  }

  /** Frees a state tensor made by {@link #newState} (e.g. when loaded state clears it). */
  protected final void freeState(Tensor t) {
    if (t != null && state.remove(t)) {
      t.close();
    }
  }

  /** A state tensor of the given shape and dtype, filled with `init`, owned by this optimizer. */
  protected final Tensor newState(DType dtype, long[] shape, double init) {
    Tensor t = Tensor.full(init, dtype, shape).unscope();
    state.add(t);
    return t;
  }

  /** A state tensor holding a copy of `src`, owned by this optimizer. */
  protected final Tensor newStateCopy(Tensor src) {
    Tensor t = newState(src.dtype(), src.shape(), 0);
    t.copy_(src);
    return t;
  }

  /** Frees the optimizer's state (not the parameters). Idempotent; step() then throws. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      for (Tensor t : state) {
        t.close();
      }
      state.clear();
    }
  }

  private void ensureOpen(String op) {
    if (closed) {
      throw new IllegalStateException(name + "." + op + ": optimizer was closed");
    }
  }

  static String shape(Tensor t) {
    return Arrays.toString(t.shape()).replace(" ", "");
  }

  /** Throws IllegalArgumentException "name: what=value must be rule" unless ok. */
  static void require(boolean ok, String name, String what, double value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException(name + ": " + what + "=" + value + " must be " + rule);
    }
  }
}
