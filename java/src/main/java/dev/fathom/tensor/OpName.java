package dev.fathom.tensor;

/**
 * Every differentiable op that records a node in the autograd graph. The
 * gradient-check suite must cover each of them (OpCoverageTest).
 */
public enum OpName {
  // elementwise unary
  NEG, ABS, EXP, LOG, SQRT, RSQRT, SQUARE, RECIPROCAL, SIGMOID, TANH, RELU, SIGN, SIN, COS,
  LOG1P, EXPM1, POW_SCALAR, AFFINE, CLAMP, LEAKY_RELU, SOFTPLUS, CAST,
  // elementwise binary and selection
  ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, WHERE,
  // reductions
  SUM, MEAN, MAX_DIM, MIN_DIM,
  // linear algebra, CNN and RNN kernels
  MATMUL, CONV2D, MAX_POOL2D, AVG_POOL2D, BATCH_NORM, RNN,
  // shape and indexing
  RESHAPE, PERMUTE, NARROW, EXPAND, CONTIGUOUS, CONCAT, INDEX_SELECT, GATHER, SCATTER_ADD
}
