package dev.fathom.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Releases every tensor created inside it, except those kept. Scopes nest per
 * thread; a new tensor joins the innermost open scope of its thread.
 *
 * <pre>{@code
 * try (Scope scope = Scope.open()) {
 *   Tensor loss = model.forward(x).sub(y).square().mean();
 *   loss.backward();
 *   return scope.keep(loss);   // survives, moves to the enclosing scope (if any)
 * }
 * }</pre>
 *
 * Tensors created outside any scope (model parameters, optimizer state) are
 * owned by whoever created them and must be closed explicitly.
 */
public final class Scope implements AutoCloseable {
  private static final ThreadLocal<ArrayDeque<Scope>> STACK =
      ThreadLocal.withInitial(ArrayDeque::new);

  private final List<Tensor> tensors = new ArrayList<>();
  private final Thread owner = Thread.currentThread();
  private boolean closed;

  private Scope() {}

  public static Scope open() {
    Scope s = new Scope();
    STACK.get().push(s);
    return s;
  }

  /** The innermost open scope of this thread, or null. */
  static Scope current() {
    return STACK.get().peek();
  }

  void add(Tensor t) {
    tensors.add(t);
  }

  /** Keeps `t` alive past this scope: it moves to the enclosing scope, or is unowned. */
  public Tensor keep(Tensor t) {
    if (t.scope == this) {
      Scope parent = parent();
      t.scope = parent;
      if (parent != null) {
        parent.add(t);
      }
    }
    return t;
  }

  /**
   * Takes ownership of an unowned tensor (one made outside any scope, e.g. by a
   * data-loading thread, or released with {@link Tensor#unscope()}).
   */
  public Tensor adopt(Tensor t) {
    if (t.scope != null && t.scope != this) {
      throw new IllegalStateException("adopt: tensor " + Shapes.str(t.shape)
          + " already belongs to another scope");
    }
    if (t.scope == null) {
      t.scope = this;
      add(t);
    }
    return t;
  }

  /** Keeps every tensor in `ts`. */
  public void keepAll(Iterable<Tensor> ts) {
    for (Tensor t : ts) {
      keep(t);
    }
  }

  private Scope parent() {
    boolean seen = false;
    for (Scope s : STACK.get()) {
      if (seen) {
        return s;
      }
      if (s == this) {
        seen = true;
      }
    }
    return null;
  }

  /** Number of tensors this scope would release now. */
  public int size() {
    int n = 0;
    for (Tensor t : tensors) {
      if (t.scope == this && !t.isClosed()) {
        n++;
      }
    }
    return n;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException("Scope closed from another thread than the one that opened it");
    }
    closed = true;
    ArrayDeque<Scope> stack = STACK.get();
    if (stack.peek() != this) {
      throw new IllegalStateException("Scopes must be closed innermost first");
    }
    stack.pop();
    for (Tensor t : tensors) {
      if (t.scope == this) {
        t.scope = null;
        t.close();
      }
    }
    tensors.clear();
  }
}
