package dev.fathom.internal.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.FathomException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Convolution plans through the Java wrapper and the one plan cache. */
class Conv2dPlanTest {
  private static final int F32 = 0;
  private static final int F64 = 1;
  private final List<Long> buffers = new ArrayList<>();

  @AfterEach
  void free() {
    buffers.forEach(TensorKernels::free);
  }

  private static Conv2dPlan.Geometry geometry(long n, long c, long hw, long k, int dtype, boolean bias) {
    return new Conv2dPlan.Geometry(n, c, hw, hw, k, 3, 3, 1, 1, 1, 1, 1, 1, 1, bias, false,
        CnnKernels.BACKEND_AUTO, dtype);
  }

  /** A contiguous float32 tensor with values i * scale (mod 7), or zeros. */
  private NativeTensor f32(double scale, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    long address = TensorKernels.alloc(n * Float.BYTES);
    buffers.add(address);
    ByteBuffer b = TensorKernels.view(address, n * Float.BYTES);
    for (int i = 0; i < n; i++) {
      b.putFloat(i * Float.BYTES, (float) ((i % 7) * scale - 1.5 * scale));
    }
    long[] strides = new long[shape.length];
    long step = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = step;
      step *= shape[d];
    }
    return new NativeTensor(address, F32, shape, strides, CnnKernels.LAYOUT_NCHW);
  }

  private static float[] read(NativeTensor t) {
    long n = 1;
    for (long d : t.shape()) {
      n *= d;
    }
    float[] out = new float[(int) n];
    TensorKernels.view(t.address(), n * Float.BYTES).asFloatBuffer().get(out);
    return out;
  }

  @Test
  void planReportsItsChoicesAndMatchesTheReferenceBackend() {
    Conv2dPlan.Geometry g = geometry(2, 3, 6, 4, F32, true);
    Conv2dPlan.Geometry ref = new Conv2dPlan.Geometry(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true, false,
        CnnKernels.BACKEND_REFERENCE, F32);
    NativeTensor x = f32(0.5, 2, 3, 6, 6);
    NativeTensor w = f32(0.25, 4, 3, 3, 3);
    NativeTensor b = f32(1.0, 4);
    NativeTensor y = f32(0.0, 2, 4, 6, 6);
    NativeTensor yRef = f32(0.0, 2, 4, 6, 6);
    try (Conv2dPlan plan = CnnKernels.conv2dPlan(g); Conv2dPlan plain = CnnKernels.conv2dPlan(ref)) {
      assertArrayEquals(new long[] {2, 4, 6, 6}, plan.outputShape());
      assertEquals(CnnKernels.BACKEND_REFERENCE, plain.backend());
      for (int pass = 0; pass < 3; pass++) {
        assertEquals(CnnKernels.LAYOUT_NCHW, plain.srcLayout(pass), "3 input channels stay NCHW");
      }
      plan.forward(x, w, b, y);
      plain.forward(x, w, b, yRef);
    }
    float[] got = read(y);
    float[] want = read(yRef);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-4 * Math.max(1, Math.abs(want[i])), "element " + i);
    }
  }

  @Test
  void float64PlansRunTheReferenceKernels() {
    try (Conv2dPlan plan = CnnKernels.conv2dPlan(geometry(1, 16, 5, 16, F64, false))) {
      assertEquals(CnnKernels.BACKEND_REFERENCE, plan.backend());
      assertEquals(CnnKernels.LAYOUT_NCHW, plan.dstLayout(Conv2dPlan.FORWARD));
    }
  }

  @Test
  void theCacheSharesPlansAndNeverDestroysOneInUse() {
    PlanCache<Conv2dPlan.Geometry, Conv2dPlan> cache = new PlanCache<>(1, Conv2dPlan::new);
    Conv2dPlan.Geometry a = geometry(1, 2, 5, 3, F32, false);
    Conv2dPlan.Geometry b = geometry(1, 2, 6, 3, F32, false);
    NativeTensor x = f32(1.0, 1, 2, 5, 5);
    NativeTensor w = f32(1.0, 3, 2, 3, 3);
    NativeTensor y = f32(0.0, 1, 3, 5, 5);
    Conv2dPlan held = cache.acquire(a);
    try (Conv2dPlan again = cache.acquire(a)) {
      assertTrue(again == held, "one plan per geometry");
    }
    cache.acquire(b).close();  // evicts a while it is held
    assertEquals(1, cache.size());
    held.forward(x, w, null, y);  // still alive: the caller's reference
    held.close();
    FathomException gone = assertThrows(FathomException.class, () -> held.forward(x, w, null, y));
    assertTrue(gone.getMessage().contains("is not a live plan"), gone.getMessage());
  }

  @Test
  void badOperandsAreRefusedWithTheirShapes() {
    NativeTensor x = f32(1.0, 2, 5, 6, 6);  // 5 channels, the plan wants 3
    NativeTensor w = f32(1.0, 4, 3, 3, 3);
    NativeTensor y = f32(0.0, 2, 4, 6, 6);
    try (Conv2dPlan plan = CnnKernels.conv2dPlan(geometry(2, 3, 6, 4, F32, false))) {
      FathomException e = assertThrows(FathomException.class, () -> plan.forward(x, w, null, y));
      assertTrue(e.getMessage().contains("conv2d_forward: src [2,5,6,6] has 5 channels"), e.getMessage());
      assertTrue(e.getMessage().contains("dst [2,4,6,6]"), e.getMessage());
    }
    FathomException bad = assertThrows(FathomException.class,
        () -> CnnKernels.conv2dPlan(new Conv2dPlan.Geometry(1, 3, 4, 4, 2, 5, 5, 1, 1, 0, 0, 1, 1, 1, false,
            false, CnnKernels.BACKEND_AUTO, F32)));
    assertTrue(bad.getMessage().contains("conv2d_plan_create: output size"), bad.getMessage());
  }
}
