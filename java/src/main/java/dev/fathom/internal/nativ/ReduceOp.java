package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;

/**
 * The ops of fathom_reduce, one constant per row of the native op table
 * (native/src/ops/op_table.h): its code and its name as native messages spell
 * it ("reduce(sum): ..."). Checked against native by OpTableTest.
 */
public enum ReduceOp {
  SUM(fathom.FATHOM_REDUCE_SUM, "sum"),
  MEAN(fathom.FATHOM_REDUCE_MEAN, "mean"),
  MAX(fathom.FATHOM_REDUCE_MAX, "max"),
  MIN(fathom.FATHOM_REDUCE_MIN, "min"),
  PROD(fathom.FATHOM_REDUCE_PROD, "prod");

  /** The fathom_reduce_op value passed to native. */
  public final int code;
  /** The name native messages use for this op. */
  public final String opName;

  ReduceOp(int code, String opName) {
    this.code = code;
    this.opName = opName;
  }

  /** The fathom_op_kind of this enum's table. */
  public static final int KIND = fathom.FATHOM_OP_KIND_REDUCE;
}
