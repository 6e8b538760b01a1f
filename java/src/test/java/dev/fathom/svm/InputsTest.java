package dev.fathom.svm;

import static dev.fathom.svm.SvmTesting.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fathom.tensor.DType;
import dev.fathom.tensor.Scope;
import dev.fathom.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The finiteness check works through its chunks and says where the bad value is. */
class InputsTest {
  @Test
  void nonFiniteValueInALaterChunkIsFound() {
    long baseline = Tensor.liveNativeBytes();
    // 5M values: more than one 4M-value chunk.
    try (Tensor x = Tensor.zeros(DType.FLOAT32, 5000, 1000)) {
      Inputs.requireFinite("op", "x", x);
      try (Scope s = Scope.open()) {
        x.narrow(0, 4999, 1).narrow(1, 7, 1).fill_(Double.NEGATIVE_INFINITY);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Inputs.requireFinite("op", "x", x));
      assertMessage(e, "op: x [5000, 1000]", "-Infinity", "[4999, 7]");
    }
    assertEquals(baseline, Tensor.liveNativeBytes());
  }
}
