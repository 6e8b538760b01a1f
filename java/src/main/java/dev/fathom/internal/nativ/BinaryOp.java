package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;
import java.util.Locale;

/**
 * Native elementwise binary ops (fathom_binary_op). The native table (native/src/ops/op_table.h) is the
 * source: each constant carries the C enum's code, and its name, lower case,
 * is the native op's name; OpTableTest checks both against fathom_op_name.
 */
public enum BinaryOp {
  ADD(fathom.FATHOM_BINARY_ADD),
  SUB(fathom.FATHOM_BINARY_SUB),
  MUL(fathom.FATHOM_BINARY_MUL),
  DIV(fathom.FATHOM_BINARY_DIV),
  POW(fathom.FATHOM_BINARY_POW),
  MAX(fathom.FATHOM_BINARY_MAX),
  MIN(fathom.FATHOM_BINARY_MIN),
  EQ(fathom.FATHOM_BINARY_EQ),
  NE(fathom.FATHOM_BINARY_NE),
  LT(fathom.FATHOM_BINARY_LT),
  LE(fathom.FATHOM_BINARY_LE),
  GT(fathom.FATHOM_BINARY_GT),
  GE(fathom.FATHOM_BINARY_GE);

  /** The C enum value passed to the native call. */
  public final int code;
  /** The native op's name ("add"), as messages print it. */
  public final String opName;

  BinaryOp(int code) {
    this.code = code;
    this.opName = name().toLowerCase(Locale.ROOT);
  }

  /** The family code of fathom_op_name. */
  public static final int FAMILY = fathom.FATHOM_OPS_BINARY;
}
