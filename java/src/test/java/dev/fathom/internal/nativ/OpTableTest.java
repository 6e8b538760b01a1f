package dev.fathom.internal.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/**
 * UnaryOp, BinaryOp and ReduceOp against the native op tables
 * (native/src/ops/op_table.h) through fathom_op_name: every constant has its
 * native code and name, and native has no op that Java lacks.
 */
class OpTableTest {
  // Far above any table's size; the codes are small and dense.
  private static final int PROBE = 1024;

  private static <E extends Enum<E>> void matchesNative(
      int kind, Class<E> type, ToIntFunction<E> code, Function<E, String> name) {
    Map<Integer, E> byCode = new HashMap<>();
    for (E op : type.getEnumConstants()) {
      E before = byCode.put(code.applyAsInt(op), op);
      assertNull(before, () -> type.getSimpleName() + ": " + op + " shares its code with another");
      assertEquals(name.apply(op), TensorKernels.opName(kind, code.applyAsInt(op)),
          () -> type.getSimpleName() + "." + op + " (code " + code.applyAsInt(op) + ")");
    }
    for (int c = -8; c < PROBE; c++) {
      String nativeName = TensorKernels.opName(kind, c);
      if (nativeName != null) {
        int fc = c;
        assertTrue(byCode.containsKey(c), () -> type.getSimpleName() + " lacks native op " + fc
            + " (\"" + nativeName + "\")");
      }
    }
  }

  @Test
  void unaryOpsMatchTheNativeTable() {
    matchesNative(UnaryOp.KIND, UnaryOp.class, op -> op.code, op -> op.opName);
  }

  @Test
  void binaryOpsMatchTheNativeTable() {
    matchesNative(BinaryOp.KIND, BinaryOp.class, op -> op.code, op -> op.opName);
  }

  @Test
  void reduceOpsMatchTheNativeTable() {
    matchesNative(ReduceOp.KIND, ReduceOp.class, op -> op.code, op -> op.opName);
  }

  @Test
  void unknownKindHasNoOps() {
    assertNull(TensorKernels.opName(ReduceOp.KIND + 1, 0));
    assertNull(TensorKernels.opName(-1, 0));
  }

  @Test
  void deprecatedAliasesAreTheEnumCodes() {
    assertEquals(UnaryOp.COPY.code, TensorKernels.UNARY_COPY);
    assertEquals(UnaryOp.SOFTPLUS.code, TensorKernels.UNARY_SOFTPLUS);
    assertEquals(BinaryOp.ADD.code, TensorKernels.BINARY_ADD);
    assertEquals(BinaryOp.GE.code, TensorKernels.BINARY_GE);
    assertEquals(ReduceOp.PROD.code, TensorKernels.REDUCE_PROD);
  }
}
