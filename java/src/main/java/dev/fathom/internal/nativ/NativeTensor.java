package dev.fathom.internal.nativ;

/**
 * One operand of a native call, as its descriptor states it: the address of
 * element (0, ..., 0), the dtype code, the logical shape, strides in elements
 * and the layout of the bytes (CnnKernels.LAYOUT_*). Plans take operands as
 * these instead of descriptor slot numbers.
 */
public record NativeTensor(long address, int dtype, long[] shape, long[] strides, int layout) {}
