package dev.fathom.tensor;

/**
 * Turns graph recording off for the current thread while open (inference,
 * optimizer updates). Nests; restores the previous mode on close.
 *
 * <pre>{@code
 * try (GradMode.Guard g = GradMode.disable()) {
 *   weights.sub_(weights.grad().mul(lr));
 * }
 * }</pre>
 */
public final class GradMode {
  private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

  private GradMode() {}

  public static boolean isEnabled() {
    return ENABLED.get()[0];
  }

  public static Guard disable() {
    return new Guard(false);
  }

  public static Guard enable() {
    return new Guard(true);
  }

  /** Restores the previous mode when closed. */
  public static final class Guard implements AutoCloseable {
    private final boolean previous;
    private boolean closed;

    private Guard(boolean mode) {
      boolean[] flag = ENABLED.get();
      previous = flag[0];
      flag[0] = mode;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        ENABLED.get()[0] = previous;
      }
    }
  }
}
