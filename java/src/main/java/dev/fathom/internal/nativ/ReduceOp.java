package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;
import java.util.Locale;

/**
 * Native reductions (fathom_reduce_op). The native table (native/src/ops/op_table.h) is the
 * source: each constant carries the C enum's code, and its name, lower case,
 * is the native op's name; OpTableTest checks both against fathom_op_name.
 */
public enum ReduceOp {
  SUM(fathom.FATHOM_REDUCE_SUM),
  MEAN(fathom.FATHOM_REDUCE_MEAN),
  MAX(fathom.FATHOM_REDUCE_MAX),
  MIN(fathom.FATHOM_REDUCE_MIN),
  PROD(fathom.FATHOM_REDUCE_PROD);

  /** The C enum value passed to the native call. */
  public final int code;
  /** The native op's name ("sum"), as messages print it. */
  public final String opName;

  ReduceOp(int code) {
    this.code = code;
    this.opName = name().toLowerCase(Locale.ROOT);
  }

  /** The family code of fathom_op_name. */
  public static final int FAMILY = fathom.FATHOM_OPS_REDUCE;
}
