package dev.fathom.tensor;

import dev.fathom.internal.nativ.BinaryOp;
import dev.fathom.internal.nativ.ReduceOp;
import dev.fathom.internal.nativ.UnaryOp;

/**
 * Every differentiable op that records a node in the autograd graph. The
 * gradient-check suite must cover each of them (OpCoverageTest).
 *
 * <p>A node that is one native kernel op carries that op's row of the native
 * op table (UnaryOp, BinaryOp, ReduceOp), so its code has one source; the
 * node names themselves stay as they are, since they are the Java API's words
 * in messages ("maximum", "max_dim") and cover ops with no table (views,
 * convolution, RNN) or two (CAST, WHERE).
 */
public enum OpName {
  // elementwise unary
  NEG(UnaryOp.NEG), ABS(UnaryOp.ABS), EXP(UnaryOp.EXP), LOG(UnaryOp.LOG), SQRT(UnaryOp.SQRT),
  RSQRT(UnaryOp.RSQRT), SQUARE(UnaryOp.SQUARE), RECIPROCAL(UnaryOp.RECIPROCAL),
  SIGMOID(UnaryOp.SIGMOID), TANH(UnaryOp.TANH), RELU(UnaryOp.RELU), SIGN(UnaryOp.SIGN),
  SIN(UnaryOp.SIN), COS(UnaryOp.COS), LOG1P(UnaryOp.LOG1P), EXPM1(UnaryOp.EXPM1),
  POW_SCALAR(UnaryOp.POW_SCALAR), AFFINE(UnaryOp.AFFINE), CLAMP(UnaryOp.CLAMP),
  LEAKY_RELU(UnaryOp.LEAKY_RELU), SOFTPLUS(UnaryOp.SOFTPLUS), CAST,
  // elementwise binary and selection
  ADD(BinaryOp.ADD), SUB(BinaryOp.SUB), MUL(BinaryOp.MUL), DIV(BinaryOp.DIV), POW(BinaryOp.POW),
  MAXIMUM(BinaryOp.MAX), MINIMUM(BinaryOp.MIN), WHERE,
  // reductions
  SUM(ReduceOp.SUM), MEAN(ReduceOp.MEAN), MAX_DIM(ReduceOp.MAX), MIN_DIM(ReduceOp.MIN),
  // linear algebra, CNN and RNN kernels
  MATMUL, CONV2D, MAX_POOL2D, AVG_POOL2D, BATCH_NORM, RNN,
  // shape and indexing
  RESHAPE, PERMUTE, NARROW, EXPAND, CONTIGUOUS, CONCAT, INDEX_SELECT, GATHER, SCATTER_ADD,
  // a copy to another device (Tensor.to(Device))
  TO_DEVICE;

  /** The native op of this node, or null where it is not one unary/binary/reduce op. */
  final UnaryOp unary;
  final BinaryOp binary;
  final ReduceOp reduce;

  OpName() {
    this(null, null, null);
  }

  OpName(UnaryOp unary) {
    this(unary, null, null);
  }

  OpName(BinaryOp binary) {
    this(null, binary, null);
  }

  OpName(ReduceOp reduce) {
    this(null, null, reduce);
  }

  OpName(UnaryOp unary, BinaryOp binary, ReduceOp reduce) {
    this.unary = unary;
    this.binary = binary;
    this.reduce = reduce;
  }
}
