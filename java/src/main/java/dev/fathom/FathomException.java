package dev.fathom;

/**
 * A failure reported by Fathom's native core, carrying the native message
 * (which names the operation and the sizes involved) and its status.
 *
 * <pre>{@code
 * try { gemm.compute(a, b, c); }
 * catch (FathomException e) { log.warn("{} failed: {}", e.status(), e.getMessage()); }
 * }</pre>
 */
public class FathomException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Mirrors {@code fathom_status} in fathom.h. */
  public enum Status {
    OK,
    INVALID_ARGUMENT,
    OUT_OF_MEMORY,
    UNSUPPORTED,
    BACKEND_ERROR,
    INTERNAL_ERROR;

    public static Status of(int code) {
      Status[] all = values();
      return code >= 0 && code < all.length ? all[code] : INTERNAL_ERROR;
    }
  }

  private final Status status;

  public FathomException(Status status, String message) {
    super(message);
    this.status = status;
  }

  public FathomException(Status status, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public Status status() {
    return status;
  }
}
