package dev.fathom.internal.nativ;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.FathomException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Pooling, batch-norm and recurrent plans through their Java wrappers and the plan caches. */
class FamilyPlansTest {
  private static final int F32 = 0;
  private static final int I32 = 2;
  private final List<Long> buffers = new ArrayList<>();

  @AfterEach
  void free() {
    buffers.forEach(TensorKernels::free);
  }

  private NativeTensor f32(double scale, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    long address = TensorKernels.alloc(Math.max(n, 1) * Float.BYTES);
    buffers.add(address);
    ByteBuffer b = TensorKernels.view(address, n * Float.BYTES);
    for (int i = 0; i < n; i++) {
      b.putFloat(i * Float.BYTES, (float) (((i * 5) % 11) * scale - 2 * scale));
    }
    long[] strides = new long[shape.length];
    long step = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = step;
      step *= shape[d];
    }
    return new NativeTensor(address, F32, shape, strides, CnnKernels.LAYOUT_NCHW);
  }

  private NativeTensor bytes(long n) {
    long address = TensorKernels.alloc(Math.max(n, 64));
    buffers.add(address);
    return new NativeTensor(address, 4, new long[] {n}, new long[] {1}, CnnKernels.LAYOUT_NCHW);
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

  private static Pool2dPlan.Geometry pool(int backend, int dtype) {
    return new Pool2dPlan.Geometry(2, 3, 7, 7, 3, 3, 2, 2, 1, 1, CnnKernels.POOL_MAX, backend, dtype);
  }

  @Test
  void poolPlanMatchesTheReferenceThroughItsWorkspace() {
    NativeTensor x = f32(0.5, 2, 3, 7, 7);
    NativeTensor y = f32(0, 2, 3, 4, 4);
    NativeTensor yRef = f32(0, 2, 3, 4, 4);
    NativeTensor dy = f32(0.25, 2, 3, 4, 4);
    NativeTensor dx = f32(0, 2, 3, 7, 7);
    NativeTensor dxRef = f32(0, 2, 3, 7, 7);
    try (Pool2dPlan plan = CnnKernels.pool2dPlan(pool(CnnKernels.BACKEND_AUTO, F32));
        Pool2dPlan ref = CnnKernels.pool2dPlan(pool(CnnKernels.BACKEND_REFERENCE, F32))) {
      assertArrayEquals(new long[] {2, 3, 4, 4}, plan.outputShape());
      assertEquals(CnnKernels.BACKEND_REFERENCE, ref.backend());
      // The reference keeps a 64-byte header and one int32 argmax per output.
      assertEquals(64 + 4 * 2 * 3 * 4 * 4, ref.workspaceBytes());
      NativeTensor ws = bytes(plan.workspaceBytes());
      NativeTensor wsRef = bytes(ref.workspaceBytes());
      plan.forward(x, y, ws);
      ref.forward(x, yRef, wsRef);
      plan.backward(dy, ws, dx);
      ref.backward(dy, wsRef, dxRef);
      assertArrayEquals(read(yRef), read(y), 0f);
      assertArrayEquals(read(dxRef), read(dx), 1e-6f);
      if (plan.backend() != ref.backend()) {
        FathomException e = assertThrows(FathomException.class, () -> ref.backward(dy, ws, dx));
        assertTrue(e.getMessage().contains("pool2d_backward: workspace was written by the oneDNN backend"),
            e.getMessage());
      }
    }
  }

  @Test
  void plansAreSharedPerGeometryAndBadParamsAreRefusedByName() {
    try (Pool2dPlan a = CnnKernels.pool2dPlan(pool(CnnKernels.BACKEND_AUTO, F32));
        Pool2dPlan b = CnnKernels.pool2dPlan(pool(CnnKernels.BACKEND_AUTO, F32))) {
      assertSame(a, b);
    }
    FathomException e = assertThrows(FathomException.class, () -> CnnKernels.pool2dPlan(
        new Pool2dPlan.Geometry(2, 3, 7, 7, 3, 3, 2, 2, 2, 2, CnnKernels.POOL_MAX, CnnKernels.BACKEND_AUTO, F32)));
    assertTrue(e.getMessage().startsWith("pool2d_plan_create: padding must be between 0 and half the kernel"),
        e.getMessage());
    e = assertThrows(FathomException.class, () -> CnnKernels.batchNormPlan(
        new BatchNormPlan.Geometry(1, 4, 1, 1e-5, 0.1, true, CnnKernels.BACKEND_AUTO, F32)));
    assertTrue(e.getMessage().startsWith("batch_norm_plan_create: training needs more than one value"),
        e.getMessage());
    e = assertThrows(FathomException.class, () -> RnnKernels.plan(
        new RnnPlan.Geometry(RnnKernels.MODE_LSTM, 3, 2, 4, 5, 1, false, RnnKernels.BACKEND_AUTO, I32)));
    assertTrue(e.getMessage().startsWith("rnn_plan_create: dtype int32 not supported"), e.getMessage());
  }

  @Test
  void batchNormPlanMatchesTheReferenceAndChecksOperandsAgainstThePlan() {
    NativeTensor x = f32(0.5, 4, 3, 5);
    NativeTensor y = f32(0, 4, 3, 5);
    NativeTensor yRef = f32(0, 4, 3, 5);
    NativeTensor[] stats = {f32(0, 3), f32(0, 3), f32(0, 3), f32(0, 3)};
    BatchNormPlan.Geometry g = new BatchNormPlan.Geometry(4, 3, 5, 1e-5, 0.1, true, CnnKernels.BACKEND_AUTO, F32);
    BatchNormPlan.Geometry r = new BatchNormPlan.Geometry(4, 3, 5, 1e-5, 0.1, true, CnnKernels.BACKEND_REFERENCE,
        F32);
    try (BatchNormPlan plan = CnnKernels.batchNormPlan(g); BatchNormPlan ref = CnnKernels.batchNormPlan(r)) {
      plan.forward(x, null, null, null, null, stats[0], stats[1], y);
      ref.forward(x, null, null, null, null, stats[2], stats[3], yRef);
      assertArrayEquals(read(yRef), read(y), 1e-5f);
      assertArrayEquals(read(stats[2]), read(stats[0]), 1e-6f);
      NativeTensor wrong = f32(0, 4, 3, 6);
      FathomException e = assertThrows(FathomException.class,
          () -> plan.forward(x, null, null, null, null, null, null, wrong));
      assertTrue(e.getMessage().startsWith("batch_norm_forward: dst [4,3,6] does not match n=4 c=3 s=5"),
          e.getMessage());
    }
  }

  @Test
  void rnnPlanRunsForwardAndBackwardAgainstTheReference() {
    long t = 3;
    long n = 2;
    long i = 4;
    long h = 5;
    int g = 4;
    float[][] outs = new float[2][];
    float[][] grads = new float[2][];
    int k = 0;
    for (int backend : new int[] {RnnKernels.BACKEND_AUTO, RnnKernels.BACKEND_REFERENCE}) {
      try (RnnPlan plan = RnnKernels.plan(
          new RnnPlan.Geometry(RnnKernels.MODE_LSTM, t, n, i, h, 1, false, backend, F32))) {
        RnnPlan.Operands o = new RnnPlan.Operands();
        o.src = f32(0.1, t, n, i);
        o.weights = new NativeTensor[] {f32(0.05, g * h, i), f32(0.05, g * h, h), f32(0.1, g * h), f32(0.1, g * h)};
        o.dst = f32(0, t, n, h);
        o.dstIter = f32(0, 1, n, h);
        o.dstIterC = f32(0, 1, n, h);
        o.workspace = bytes(plan.workspaceBytes());
        plan.forward(true, o);
        o.diffDst = f32(0.2, t, n, h);
        o.diffSrc = f32(0, t, n, i);
        plan.backward(o);
        outs[k] = read(o.dst);
        grads[k++] = read(o.diffSrc);
      }
    }
    assertArrayEquals(outs[1], outs[0], 1e-5f);
    assertArrayEquals(grads[1], grads[0], 1e-5f);
  }
}
