package dev.fathom.train;

/** Mean loss and accuracy (NaN without class labels) over `examples` examples. */
public record Evaluation(double loss, double accuracy, long examples) {}
