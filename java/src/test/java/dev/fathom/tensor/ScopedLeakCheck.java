package dev.fathom.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * {@code @ExtendWith(ScopedLeakCheck.class)}: each test runs inside a {@link Scope}, and after the
 * scope closes live native bytes must be back where the test started.
 */
public final class ScopedLeakCheck implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ScopedLeakCheck.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NS);
    store.put("baseline", Tensor.liveNativeBytes());
    store.put("scope", Scope.open());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    ExtensionContext.Store store = context.getStore(NS);
    store.remove("scope", Scope.class).close();
    assertEquals(store.remove("baseline", Long.class), Tensor.liveNativeBytes(), "leaked native bytes");
  }
}
