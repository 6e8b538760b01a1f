package dev.fathom.tensor;

import static dev.fathom.tensor.Ops.closeTemporaries;
import static dev.fathom.tensor.Ops.desc;
import static dev.fathom.tensor.Ops.descAs;
import static dev.fathom.tensor.Ops.promoted;
import static dev.fathom.tensor.Ops.requireFloat;
import static dev.fathom.tensor.Ops.requireSameDevice;
import static dev.fathom.tensor.Ops.viewAs;

import dev.fathom.internal.nativ.TensorKernels;
import dev.fathom.internal.nativ.TensorKernels.Slots;
import java.util.Arrays;

/** Linear algebra: matmul (batched, broadcast) and its backward. */
final class LinalgOps {
  private LinalgOps() {}

  // ------------------------------------------------------------------ matmul

  static Tensor matmul(Tensor a0, Tensor b0) {
    requireSameDevice("matmul", a0, b0);
    Tensor[] ab = promoted("matmul", a0, b0);
    Tensor a = ab[0];
    Tensor b = ab[1];
    requireFloat("matmul", a);
    if (a.shape.length == 0 || b.shape.length == 0) {
      throw new IllegalArgumentException("matmul: scalars are not matrices: "
          + Shapes.str(a.shape) + " @ " + Shapes.str(b.shape));
    }
    boolean vecA = a.shape.length == 1;
    boolean vecB = b.shape.length == 1;
    Tensor am = vecA ? a.unsqueeze(0) : a;
    Tensor bm = vecB ? b.unsqueeze(-1) : b;
    long m = am.shape[am.shape.length - 2];
    long k = am.shape[am.shape.length - 1];
    long k2 = bm.shape[bm.shape.length - 2];
    long n = bm.shape[bm.shape.length - 1];
    if (k != k2) {
      throw new IllegalArgumentException("matmul: inner dimensions differ: "
          + Shapes.str(a.shape) + " @ " + Shapes.str(b.shape));
    }
    long[] batch = Shapes.broadcast("matmul",
        Arrays.copyOf(am.shape, am.shape.length - 2), Arrays.copyOf(bm.shape, bm.shape.length - 2));
    long[] outShape = Arrays.copyOf(batch, batch.length + 2);
    outShape[batch.length] = m;
    outShape[batch.length + 1] = n;
    long[] aTarget = Arrays.copyOf(batch, batch.length + 2);
    aTarget[batch.length] = m;
    aTarget[batch.length + 1] = k;
    long[] bTarget = Arrays.copyOf(batch, batch.length + 2);
    bTarget[batch.length] = k;
    bTarget[batch.length + 1] = n;
    Tensor out = Tensor.emptyOn(a.deviceCode(), a.dtype, outShape);
    Slots s = TensorKernels.slots();
    descAs(s, 0, am, aTarget, "matmul");
    descAs(s, 1, bm, bTarget, "matmul");
    desc(s, 2, out);
    TensorKernels.matmul(s, 0, 1, 2);
    closeTemporaries(ab, a0, b0);
    Tensor result = out;
    if (vecA || vecB) {
      long[] rs = vecA && vecB ? new long[0]
          : vecA ? Shapes.remove(outShape, outShape.length - 2)
          : Arrays.copyOf(outShape, outShape.length - 1);
      result = viewAs(out, rs);
    }
    if (Autograd.needed(a, b)) {
      Tensor va = am.save();
      Tensor vb = bm.save();
      long[] sa = a.shape;
      long[] sb = b.shape;
      long[] full = outShape;
      boolean needA = a.requiresGrad;
      boolean needB = b.requiresGrad;
      Autograd.record(result, OpName.MATMUL, new Tensor[] {a, b}, g -> {
        // Only the inputs that need a gradient get one: for a first layer,
        // dL/dinput would cost as much as the weight gradient for nothing.
        Tensor gm = g.reshape(full);
        Tensor ga = needA ? ReduceOps.sumTo(matmulLike(gm, vb.transpose(-1, -2), va), va.shape).reshape(sa) : null;
        Tensor gb = needB ? ReduceOps.sumTo(matmulLike(va.transpose(-1, -2), gm, vb), vb.shape).reshape(sb) : null;
        return new Tensor[] {ga, gb};
      }, va, vb);
    }
    if (am != a) {
      am.close();
    }
    if (bm != b) {
      bm.close();
    }
    return result;
  }

  /**
   * x @ y, laid out like `like`: when `like` is a transposed view (a Linear
   * layer's W.t()), computes (y^T @ x^T)^T so that the gradient arrives in the
   * parameter's own contiguous layout instead of needing a transposing copy.
   */
  private static Tensor matmulLike(Tensor x, Tensor y, Tensor like) {
    int n = like.shape.length;
    boolean transposed = n >= 2 && like.strides[n - 2] == 1 && like.strides[n - 1] != 1
        && like.shape[n - 2] > 1;
    if (!transposed) {
      return x.matmul(y);
    }
    return y.transpose(-1, -2).matmul(x.transpose(-1, -2)).transpose(-1, -2);
  }
}
