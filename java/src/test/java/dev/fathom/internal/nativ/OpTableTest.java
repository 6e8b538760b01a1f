package dev.fathom.internal.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fathom.FathomException;
import org.junit.jupiter.api.Test;

/** The Java op enums against the native op tables, both ways. */
class OpTableTest {
  private static void check(int family, Enum<?>[] ops, int[] codes, String[] names) {
    for (int i = 0; i < ops.length; i++) {
      assertEquals(i, codes[i], ops[i] + ": codes follow the native table's order");
      assertEquals(names[i], TensorKernels.opName(family, codes[i]), ops[i] + ": native name");
    }
    // Native has no op that Java lacks.
    FathomException e = assertThrows(FathomException.class, () -> TensorKernels.opName(family, ops.length));
    assertTrue(e.getMessage().contains("op_name: no op " + ops.length), e.getMessage());
  }

  @Test
  void unaryOpsMatchTheNativeTable() {
    UnaryOp[] ops = UnaryOp.values();
    int[] codes = new int[ops.length];
    String[] names = new String[ops.length];
    for (int i = 0; i < ops.length; i++) {
      codes[i] = ops[i].code;
      names[i] = ops[i].opName;
    }
    check(UnaryOp.FAMILY, ops, codes, names);
    assertEquals("leaky_relu", UnaryOp.LEAKY_RELU.opName);
  }

  @Test
  void binaryOpsMatchTheNativeTable() {
    BinaryOp[] ops = BinaryOp.values();
    int[] codes = new int[ops.length];
    String[] names = new String[ops.length];
    for (int i = 0; i < ops.length; i++) {
      codes[i] = ops[i].code;
      names[i] = ops[i].opName;
    }
    check(BinaryOp.FAMILY, ops, codes, names);
  }

  @Test
  void reduceOpsMatchTheNativeTable() {
    ReduceOp[] ops = ReduceOp.values();
    int[] codes = new int[ops.length];
    String[] names = new String[ops.length];
    for (int i = 0; i < ops.length; i++) {
      codes[i] = ops[i].code;
      names[i] = ops[i].opName;
    }
    check(ReduceOp.FAMILY, ops, codes, names);
  }
}
