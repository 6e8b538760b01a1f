package dev.fathom.internal.nativ;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongToIntFunction;
import java.util.function.ToIntFunction;

/**
 * The one cache of native plans: per key (an op family's geometry record) one
 * plan, shared by every thread, least recently used evicted past a bound. A
 * caller acquires a plan and closes it when its call is done; an evicted plan
 * is destroyed when its last caller closes it, never under a running call.
 *
 * <pre>{@code
 * try (Conv2dPlan plan = CnnKernels.conv2dPlan(geometry)) {
 *   plan.forward(src, weights, bias, dst);
 * }
 * }</pre>
 */
public final class PlanCache<K, P extends PlanCache.Plan> {
  /** A reference-counted native plan: the cache holds one reference, each caller another. */
  public abstract static class Plan implements AutoCloseable {
    private int refs = 1;

    synchronized void retain() {
      if (refs <= 0) {
        throw new IllegalStateException(this + " was already destroyed");
      }
      refs++;
    }

    /** Releases one reference; the last one destroys the native plan. */
    @Override
    public final void close() {
      boolean last;
      synchronized (this) {
        if (refs <= 0) {
          return;
        }
        last = --refs == 0;
      }
      if (last) {
        destroy();
      }
    }

    /** Frees the native plan (called once). */
    protected abstract void destroy();

    /**
     * The handle of a new native plan: `create` fills it, `info` reads what the
     * plan chose; a failed info destroys the plan before it rethrows.
     */
    protected static long open(ToIntFunction<long[]> create, LongToIntFunction info, LongToIntFunction destroy) {
      long[] handle = new long[1];
      Kernels.check(create.applyAsInt(handle));
      try {
        Kernels.check(info.applyAsInt(handle[0]));
      } catch (RuntimeException e) {
        destroy.applyAsInt(handle[0]);
        throw e;
      }
      return handle[0];
    }
  }

  private final int capacity;
  private final Function<K, P> create;
  private final Map<K, P> plans;

  public PlanCache(int capacity, Function<K, P> create) {
    this.capacity = capacity;
    this.create = create;
    this.plans = new LinkedHashMap<>(16, 0.75f, true);
  }

  /** The plan of `key` (created on first use), retained for the caller, who closes it. */
  public P acquire(K key) {
    P evicted = null;
    P plan;
    synchronized (this) {
      plan = plans.get(key);
      if (plan == null) {
        // NOTE: created under the lock, so two threads never build one plan
        // twice; creation happens once per shape.
        plan = create.apply(key);
        plans.put(key, plan);
        if (plans.size() > capacity) {
          K eldest = plans.keySet().iterator().next();
          evicted = plans.remove(eldest);
        }
      }
      plan.retain();
    }
    if (evicted != null) {
      evicted.close();
    }
    return plan;
  }

  /** Plans held now (tests). */
  public synchronized int size() {
    return plans.size();
  }
}
