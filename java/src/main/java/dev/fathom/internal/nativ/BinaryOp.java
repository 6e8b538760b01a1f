package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;

/**
 * The ops of fathom_binary, one constant per row of the native op table
 * (native/src/ops/op_table.h): its code and its name as native messages spell
 * it ("binary(add): ..."). Comparisons write 1/0. Checked against native by
 * OpTableTest.
 */
public enum BinaryOp {
  ADD(fathom.FATHOM_BINARY_ADD, "add"),
  SUB(fathom.FATHOM_BINARY_SUB, "sub"),
  MUL(fathom.FATHOM_BINARY_MUL, "mul"),
  DIV(fathom.FATHOM_BINARY_DIV, "div"),
  POW(fathom.FATHOM_BINARY_POW, "pow"),
  MAX(fathom.FATHOM_BINARY_MAX, "max"),
  MIN(fathom.FATHOM_BINARY_MIN, "min"),
  EQ(fathom.FATHOM_BINARY_EQ, "eq"),
  NE(fathom.FATHOM_BINARY_NE, "ne"),
  LT(fathom.FATHOM_BINARY_LT, "lt"),
  LE(fathom.FATHOM_BINARY_LE, "le"),
  GT(fathom.FATHOM_BINARY_GT, "gt"),
  GE(fathom.FATHOM_BINARY_GE, "ge");

  /** The fathom_binary_op value passed to native. */
  public final int code;
  /** The name native messages use for this op. */
  public final String opName;

  BinaryOp(int code, String opName) {
    this.code = code;
    this.opName = opName;
  }

  /** The fathom_op_kind of this enum's table. */
  public static final int KIND = fathom.FATHOM_OP_KIND_BINARY;
}
