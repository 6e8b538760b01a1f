package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;
import java.util.Locale;

/**
 * Native elementwise unary ops (fathom_unary_op). The native table (native/src/ops/op_table.h) is the
 * source: each constant carries the C enum's code, and its name, lower case,
 * is the native op's name; OpTableTest checks both against fathom_op_name.
 */
public enum UnaryOp {
  COPY(fathom.FATHOM_UNARY_COPY),
  NEG(fathom.FATHOM_UNARY_NEG),
  ABS(fathom.FATHOM_UNARY_ABS),
  EXP(fathom.FATHOM_UNARY_EXP),
  LOG(fathom.FATHOM_UNARY_LOG),
  SQRT(fathom.FATHOM_UNARY_SQRT),
  RSQRT(fathom.FATHOM_UNARY_RSQRT),
  SQUARE(fathom.FATHOM_UNARY_SQUARE),
  RECIPROCAL(fathom.FATHOM_UNARY_RECIPROCAL),
  SIGMOID(fathom.FATHOM_UNARY_SIGMOID),
  TANH(fathom.FATHOM_UNARY_TANH),
  RELU(fathom.FATHOM_UNARY_RELU),
  SIGN(fathom.FATHOM_UNARY_SIGN),
  SIN(fathom.FATHOM_UNARY_SIN),
  COS(fathom.FATHOM_UNARY_COS),
  LOG1P(fathom.FATHOM_UNARY_LOG1P),
  EXPM1(fathom.FATHOM_UNARY_EXPM1),
  POW_SCALAR(fathom.FATHOM_UNARY_POW_SCALAR),
  AFFINE(fathom.FATHOM_UNARY_AFFINE),
  CLAMP(fathom.FATHOM_UNARY_CLAMP),
  LEAKY_RELU(fathom.FATHOM_UNARY_LEAKY_RELU),
  FILL(fathom.FATHOM_UNARY_FILL),
  RANGE(fathom.FATHOM_UNARY_RANGE),
  SOFTPLUS(fathom.FATHOM_UNARY_SOFTPLUS);

  /** The C enum value passed to the native call. */
  public final int code;
  /** The native op's name ("copy"), as messages print it. */
  public final String opName;

  UnaryOp(int code) {
    this.code = code;
    this.opName = name().toLowerCase(Locale.ROOT);
  }

  /** The family code of fathom_op_name. */
  public static final int FAMILY = fathom.FATHOM_OPS_UNARY;
}
