package dev.fathom.internal.nativ;

import dev.fathom.bindings.global.fathom;

/**
 * The ops of fathom_unary, one constant per row of the native op table
 * (native/src/ops/op_table.h): its code (the fathom.h enum constant) and its
 * name as native messages spell it ("unary(exp): ..."). OpTableTest checks
 * every constant against fathom_op_name and that native has no op this enum
 * lacks. Adding an op: a row there, a constant here (design.md).
 */
public enum UnaryOp {
  COPY(fathom.FATHOM_UNARY_COPY, "copy"),
  NEG(fathom.FATHOM_UNARY_NEG, "neg"),
  ABS(fathom.FATHOM_UNARY_ABS, "abs"),
  EXP(fathom.FATHOM_UNARY_EXP, "exp"),
  LOG(fathom.FATHOM_UNARY_LOG, "log"),
  SQRT(fathom.FATHOM_UNARY_SQRT, "sqrt"),
  RSQRT(fathom.FATHOM_UNARY_RSQRT, "rsqrt"),
  SQUARE(fathom.FATHOM_UNARY_SQUARE, "square"),
  RECIPROCAL(fathom.FATHOM_UNARY_RECIPROCAL, "reciprocal"),
  SIGMOID(fathom.FATHOM_UNARY_SIGMOID, "sigmoid"),
  TANH(fathom.FATHOM_UNARY_TANH, "tanh"),
  RELU(fathom.FATHOM_UNARY_RELU, "relu"),
  SIGN(fathom.FATHOM_UNARY_SIGN, "sign"),
  SIN(fathom.FATHOM_UNARY_SIN, "sin"),
  COS(fathom.FATHOM_UNARY_COS, "cos"),
  LOG1P(fathom.FATHOM_UNARY_LOG1P, "log1p"),
  EXPM1(fathom.FATHOM_UNARY_EXPM1, "expm1"),
  POW_SCALAR(fathom.FATHOM_UNARY_POW_SCALAR, "pow_scalar"),
  AFFINE(fathom.FATHOM_UNARY_AFFINE, "affine"),
  CLAMP(fathom.FATHOM_UNARY_CLAMP, "clamp"),
  LEAKY_RELU(fathom.FATHOM_UNARY_LEAKY_RELU, "leaky_relu"),
  FILL(fathom.FATHOM_UNARY_FILL, "fill"),
  RANGE(fathom.FATHOM_UNARY_RANGE, "range"),
  SOFTPLUS(fathom.FATHOM_UNARY_SOFTPLUS, "softplus");

  /** The fathom_unary_op value passed to native. */
  public final int code;
  /** The name native messages use for this op. */
  public final String opName;

  UnaryOp(int code, String opName) {
    this.code = code;
    this.opName = opName;
  }

  /** The fathom_op_kind of this enum's table. */
  public static final int KIND = fathom.FATHOM_OP_KIND_UNARY;
}
