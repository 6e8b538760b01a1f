/*
 * fathom.h: the whole C ABI of Fathom's native core, and the only header the
 * JavaCPP preset parses. It is flat C on purpose: fixed-width ints, floats,
 * opaque handles and POD structs cross it; no C++ type or exception does.
 *
 * Conventions (enforced in native/src/api/c_api.cpp):
 *  - every entry point returns fathom_status; on failure the thread-local
 *    fathom_last_error() names the entry point and the offending sizes;
 *  - callers allocate outputs and pass their lengths so that native code can
 *    refuse a too-small buffer instead of writing past it;
 *  - enums and structs are append-only within an ABI version;
 *    fathom_abi_version() grows with them (6 moved activation layouts from the
 *    params structs into the tensor descriptor and made convolution a plan;
 *    7 made pooling, batch normalization and recurrent layers plans too;
 *    8 added fathom_set_memory_limit and fathom_memory_limit, a cap on the
 *    native memory of tensor storage; 9 added device memory, copies between
 *    devices and device ordinals in the descriptor's device code).
 */
#ifndef FATHOM_FATHOM_H
#define FATHOM_FATHOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(FATHOM_BUILDING)
#define FATHOM_API __declspec(dllexport)
#elif defined(_WIN32)
#define FATHOM_API __declspec(dllimport)
#else
#define FATHOM_API __attribute__((visibility("default")))
#endif

/* Bumped whenever an entry point, enum value or struct field is appended. */
#define FATHOM_ABI_VERSION 9

typedef enum fathom_status {
    FATHOM_OK = 0,
    FATHOM_INVALID_ARGUMENT = 1, /* bad sizes, null or too-small buffers */
    FATHOM_OUT_OF_MEMORY = 2,
    FATHOM_UNSUPPORTED = 3,      /* e.g. a backend this build or machine lacks */
    FATHOM_BACKEND_ERROR = 4,    /* oneDNN, OpenBLAS or CUDA reported a failure */
    FATHOM_INTERNAL_ERROR = 5
} fathom_status;

typedef enum fathom_gemm_backend {
    FATHOM_GEMM_AUTO = 0,     /* pick per shape (see native/src/ops/gemm.cpp) */
    FATHOM_GEMM_REFERENCE = 1,/* naive loops: the specification, slow */
    FATHOM_GEMM_OPENBLAS = 2, /* cblas_sgemm */
    FATHOM_GEMM_ONEDNN = 3,   /* dnnl matmul, primitives cached per shape */
    FATHOM_GEMM_CUDA = 4      /* only in -DFATHOM_CUDA=ON builds with a GPU */
} fathom_gemm_backend;

/*
 * Strided-batched row-major GEMM, for i in [0, batch):
 *   C_i = alpha * op(A_i) * op(B_i) + beta * C_i
 * op(A_i) is (m,k): A_i = a + i*stride_a is stored (m,k) with row stride lda,
 * or (k,m) when trans_a != 0. op(B_i) is (k,n): B_i stored (k,n) with ldb, or
 * (n,k) when trans_b. C_i = c + i*stride_c is (m,n) with row stride ldc.
 * stride_a or stride_b may be 0 (the same matrix for every batch entry).
 * beta == 0 overwrites C without reading it (NaNs in C do not propagate).
 */
typedef struct fathom_gemm_params {
    int32_t trans_a;
    int32_t trans_b;
    int64_t m;
    int64_t n;
    int64_t k;
    float alpha;
    float beta;
    int64_t lda;
    int64_t ldb;
    int64_t ldc;
    int64_t batch;
    int64_t stride_a;
    int64_t stride_b;
    int64_t stride_c;
} fathom_gemm_params;

FATHOM_API int32_t fathom_abi_version(void);

/* Message of the last failed call on this thread ("" if none). Owned by the library. */
FATHOM_API const char* fathom_last_error(void);

/*
 * Runtime description as "key=value" lines (library and ABI version, oneDNN
 * version and ISA, OpenBLAS core and config, threads, CUDA). Writes at most
 * capacity bytes including the terminating NUL into buf and sets *needed to
 * the full size; buf may be null to query the size.
 */
FATHOM_API fathom_status fathom_runtime_info(char* buf, int64_t capacity, int64_t* needed);

/*
 * Intra-op threads for oneDNN and OpenBLAS together (n >= 1), process-wide.
 * Concurrent callers share this budget: each call runs on
 * max(1, n / concurrent_calls) threads, so k JVM threads never run more than
 * about n + k native threads in total.
 */
FATHOM_API fathom_status fathom_set_num_threads(int32_t n);
FATHOM_API fathom_status fathom_get_num_threads(int32_t* out);

/* a, b, c hold a_len, b_len, c_len floats; see fathom_gemm_params. */
FATHOM_API fathom_status fathom_sgemm(int32_t backend, const fathom_gemm_params* params,
                                      const float* a, int64_t a_len,
                                      const float* b, int64_t b_len,
                                      float* c, int64_t c_len);

/* Double-precision reference GEMM (alpha, beta as in params): the oracle for tests. */
FATHOM_API fathom_status fathom_dgemm_reference(const fathom_gemm_params* params,
                                                const double* a, int64_t a_len,
                                                const double* b, int64_t b_len,
                                                double* c, int64_t c_len);

/* ------------------------------------------------------------------------
 * Tensors (ABI 2). Java owns tensor metadata; native code sees a descriptor
 * per operand and never keeps it beyond the call.
 *
 * Every bad argument returns FATHOM_INVALID_ARGUMENT with a message naming the
 * entry point (with the op for families), the operand and the shapes, e.g.
 *   "binary(add): shape [2,3] of b does not match dst [2,4]"
 *   "unary(exp): dtype int64 not supported (src [2,3])"
 *   "index_select: index 7 out of range for dim 1 of size 5 (src [2,5])"
 * Checks run before anything is written, so a refused call leaves dst as it was.
 * Kernels use the fathom_set_num_threads budget; results do not depend on it.
 * ---------------------------------------------------------------------- */

typedef enum fathom_dtype {
    FATHOM_F32 = 0,
    FATHOM_F64 = 1,
    FATHOM_I32 = 2,
    FATHOM_I64 = 3,
    FATHOM_BOOL = 4 /* one byte, 0 or 1 */
} fathom_dtype;

#define FATHOM_MAX_DIMS 8

/*
 * A strided view: element (i0..i{ndim-1}) lives at
 * data + sum(ik * strides[k]) elements. ndim 0 is a scalar. Inputs may use
 * stride 0 to broadcast along a dimension, and any stride may be negative;
 * outputs must not overlap themselves (stride 0 along a dimension of size > 1
 * is refused; other overlaps are not detected). data may be 0 only when the
 * tensor has no elements. Every op requires all operands to have the same ndim
 * and shape unless it says otherwise (the caller expands broadcasts into
 * stride-0 views).
 *
 * layout (ABI 6) says how the bytes are ordered: FATHOM_LAYOUT_NCHW (0) is the
 * strided view above; FATHOM_LAYOUT_NCHW16C is oneDNN's blocked nChw16c of the
 * logical (N, C, H, W) (or (N, C, S)) shape, contiguous strides stated, and is
 * accepted only by the entry points that say so (convolution plans, pooling,
 * batch norm, fathom_convert_layout); every other one refuses it, so a layout
 * is changed at one boundary (fathom_convert_layout), never inside an op.
 * device (ABI 6): FATHOM_DEVICE_CPU, host memory; every entry point of a CPU
 * build refuses any other device with a message naming the operand. Since
 * ABI 9 the field is a device code, fathom_device | ordinal << 8 (cuda:1 is
 * 0x101); data is then an address in that device's memory. An entry point
 * runs on the device of its output and refuses operands on any other.
 */
typedef enum fathom_device {
    FATHOM_DEVICE_CPU = 0,
    FATHOM_DEVICE_CUDA = 1 /* an NVIDIA GPU (builds with -DFATHOM_CUDA=ON) */
} fathom_device;

typedef struct fathom_tensor_desc {
    int64_t data;   /* address of element (0,...,0), as an integer (JNI-friendly) */
    int32_t dtype;  /* fathom_dtype */
    int32_t ndim;
    int64_t shape[FATHOM_MAX_DIMS];
    int64_t strides[FATHOM_MAX_DIMS];
    int32_t layout; /* ABI 6: fathom_layout */
    int32_t device; /* ABI 6: fathom_device */
} fathom_tensor_desc;

/*
 * 64-byte aligned, uninitialised native memory for tensor storage. bytes == 0
 * gives a unique non-zero address that must be freed like any other.
 * fathom_free(0) is a no-op; an address fathom_alloc did not return (or one
 * already freed) is refused with FATHOM_INVALID_ARGUMENT where detectable.
 */
FATHOM_API fathom_status fathom_alloc(int64_t bytes, int64_t* address);
FATHOM_API fathom_status fathom_free(int64_t address);
/* Bytes currently allocated by fathom_alloc and not freed (leak checks). */
FATHOM_API fathom_status fathom_live_bytes(int64_t* out);

/*
 * A process-wide cap on tensor storage (ABI 8). What counts: the live blocks
 * of fathom_alloc, each its size rounded up to 64 bytes plus a 64-byte
 * header, and the freed large blocks the allocator keeps for reuse. An
 * fathom_alloc that would pass the limit first evicts cached blocks; if it
 * still would, it fails with FATHOM_OUT_OF_MEMORY and allocates nothing:
 *   "alloc: 104857600 bytes would exceed the memory limit of 67108864 bytes
 *    (live 1048640, cached 0)"
 * bytes == 0 means unlimited (the default); negative is refused. The limit at
 * load is FATHOM_MAX_MEMORY_MB MiB when that variable holds a non-negative
 * integer. A limit below the current use is accepted (cached blocks are
 * evicted at once; allocations fail until live blocks are freed). Memory the
 * native core allocates for itself (plans, oneDNN scratch) does not count.
 * fathom_memory_limit sets *out to the limit in bytes, 0 when unlimited.
 */
FATHOM_API fathom_status fathom_set_memory_limit(int64_t bytes);
FATHOM_API fathom_status fathom_memory_limit(int64_t* out);

/*
 * Devices (ABI 9). `device` is a device code as in fathom_tensor_desc.
 * fathom_device_count: how many devices of a fathom_device type this process
 * can use: 1 for FATHOM_DEVICE_CPU; for FATHOM_DEVICE_CUDA the visible GPUs,
 * 0 in a CPU build or where no driver or GPU is found (not an error).
 * fathom_device_alloc / fathom_device_free: tensor storage on a device, as
 * fathom_alloc / fathom_free are on the host (which they are for the CPU code
 * 0). Freed GPU blocks are cached per device for reuse under the host
 * allocator's rules (bounded by the peak of live bytes, at least 256 MiB, at
 * most a quarter of the GPU's memory; FATHOM_CUDA_CACHE_MB overrides, 0
 * disables); a cudaMalloc that fails first releases the cache and retries,
 * then fails with FATHOM_OUT_OF_MEMORY naming the device and the size. A CPU
 * build refuses a CUDA code with FATHOM_UNSUPPORTED.
 * fathom_device_copy: `bytes` contiguous bytes from src on src_device to dst
 * on dst_device, any pair of host and GPU memory; it returns when the copy is
 * complete. Every GPU entry point runs on a stream of the calling thread
 * (one per thread and device) and returns after its work has finished, so a
 * caller may free or read its buffers at once.
 * fathom_device_memory: live and cached bytes of one device's allocator.
 */
FATHOM_API fathom_status fathom_device_count(int32_t type, int32_t* count);
FATHOM_API fathom_status fathom_device_alloc(int32_t device, int64_t bytes, int64_t* address);
FATHOM_API fathom_status fathom_device_free(int32_t device, int64_t address);
FATHOM_API fathom_status fathom_device_copy(int32_t dst_device, int64_t dst, int32_t src_device,
                                            int64_t src, int64_t bytes);
FATHOM_API fathom_status fathom_device_memory(int32_t device, int64_t* live, int64_t* cached);

typedef enum fathom_unary_op {
    FATHOM_UNARY_COPY = 0,       /* dst = src; the only op where dtypes may differ (cast, below) */
    FATHOM_UNARY_NEG = 1,
    FATHOM_UNARY_ABS = 2,
    FATHOM_UNARY_EXP = 3,
    FATHOM_UNARY_LOG = 4,
    FATHOM_UNARY_SQRT = 5,
    FATHOM_UNARY_RSQRT = 6,
    FATHOM_UNARY_SQUARE = 7,
    FATHOM_UNARY_RECIPROCAL = 8,
    FATHOM_UNARY_SIGMOID = 9,    /* 1 / (1 + exp(-src)), no overflow for large |src| */
    FATHOM_UNARY_TANH = 10,
    FATHOM_UNARY_RELU = 11,      /* NaN stays NaN */
    FATHOM_UNARY_SIGN = 12,      /* -1, 0 or 1; sign(0) = 0, sign(NaN) = NaN */
    FATHOM_UNARY_SIN = 13,
    FATHOM_UNARY_COS = 14,
    FATHOM_UNARY_LOG1P = 15,
    FATHOM_UNARY_EXPM1 = 16,
    FATHOM_UNARY_POW_SCALAR = 17, /* src ^ alpha (std::pow) */
    FATHOM_UNARY_AFFINE = 18,     /* alpha * src + beta */
    FATHOM_UNARY_CLAMP = 19,      /* min(max(src, alpha), beta); NaN stays NaN */
    FATHOM_UNARY_LEAKY_RELU = 20, /* src > 0 ? src : alpha * src */
    FATHOM_UNARY_FILL = 21,       /* dst = alpha (src ignored, may be null) */
    FATHOM_UNARY_RANGE = 22,      /* dst[i] = alpha + i * beta, i = row-major index (src ignored) */
    FATHOM_UNARY_SOFTPLUS = 23    /* log(1 + exp(src)) = max(src,0) + log1p(exp(-|src|)) */
} fathom_unary_op;

/*
 * dst = op(src, alpha, beta) elementwise; src may equal dst (in place, same
 * strides). Math ops take F32 or F64 with src.dtype == dst.dtype and compute in
 * that type (alpha and beta rounded to it). FILL and RANGE write any dtype
 * (RANGE computes alpha + i * beta in double, then casts). COPY casts like C++
 * (float -> int truncates toward zero) except that NaN becomes 0 and
 * out-of-range values saturate, as Java's (int)/(long) casts do; any -> BOOL
 * is (src != 0), so NaN -> 1.
 */
FATHOM_API fathom_status fathom_unary(int32_t op, const fathom_tensor_desc* src,
                                      const fathom_tensor_desc* dst, double alpha, double beta);

typedef enum fathom_binary_op {
    FATHOM_BINARY_ADD = 0,
    FATHOM_BINARY_SUB = 1,
    FATHOM_BINARY_MUL = 2,
    FATHOM_BINARY_DIV = 3,
    FATHOM_BINARY_POW = 4,
    FATHOM_BINARY_MAX = 5, /* NaN if either operand is NaN */
    FATHOM_BINARY_MIN = 6,
    FATHOM_BINARY_EQ = 7, /* comparisons write 1/0 into dst (BOOL or the input dtype) */
    FATHOM_BINARY_NE = 8,
    FATHOM_BINARY_LT = 9,
    FATHOM_BINARY_LE = 10,
    FATHOM_BINARY_GT = 11,
    FATHOM_BINARY_GE = 12
} fathom_binary_op;

/*
 * dst = a op b elementwise; a and b share a dtype (F32 or F64); dst may alias a
 * or b exactly. dst has that dtype, or BOOL for a comparison; comparisons write
 * 1 or 0 either way (1.0f / 0.0f into a float dst). POW is std::pow.
 */
FATHOM_API fathom_status fathom_binary(int32_t op, const fathom_tensor_desc* a,
                                       const fathom_tensor_desc* b, const fathom_tensor_desc* dst);

/* dst = cond ? a : b; cond is BOOL (non-zero is true); a, b and dst share a dtype (any). */
FATHOM_API fathom_status fathom_where(const fathom_tensor_desc* cond, const fathom_tensor_desc* a,
                                      const fathom_tensor_desc* b, const fathom_tensor_desc* dst);

typedef enum fathom_reduce_op {
    FATHOM_REDUCE_SUM = 0,
    FATHOM_REDUCE_MEAN = 1,
    FATHOM_REDUCE_MAX = 2,
    FATHOM_REDUCE_MIN = 3,
    FATHOM_REDUCE_PROD = 4
} fathom_reduce_op;

/*
 * Reduces src over every dimension where dst has size 1 and src does not
 * (dst keeps src's ndim; other dims must match; none reduced is a copy). src and
 * dst are F32 or F64 of one dtype; sums, means and products accumulate in
 * double. Over zero elements SUM is 0, PROD 1, MEAN NaN, and MAX/MIN an error.
 * For MAX/MIN, indices (I64, dst's shape, nullable) receives the position along
 * the reduced dimension; it requires exactly one reduced dimension (so an
 * argmax over a size-1 dim is the caller's: all zeros). Ties pick the first
 * position; NaN wins a max/min (the first NaN's position).
 */
FATHOM_API fathom_status fathom_reduce(int32_t op, const fathom_tensor_desc* src,
                                       const fathom_tensor_desc* dst,
                                       const fathom_tensor_desc* indices);

/* The op enums above, for fathom_op_name. */
typedef enum fathom_op_kind {
    FATHOM_OP_KIND_UNARY = 0,  /* fathom_unary_op */
    FATHOM_OP_KIND_BINARY = 1, /* fathom_binary_op */
    FATHOM_OP_KIND_REDUCE = 2  /* fathom_reduce_op */
} fathom_op_kind;

/*
 * The name of op `code` of `kind` as messages spell it ("exp" in
 * "unary(exp): ..."), a static string owned by the library; bindings check
 * their op tables against it. An unknown kind or code is
 * FATHOM_INVALID_ARGUMENT and leaves *name as it was.
 */
FATHOM_API fathom_status fathom_op_name(int32_t kind, int32_t code, const char** name);

/*
 * Indexing along dim (index tensors are I64; out-of-range indices are an
 * error, negative ones too):
 *  index_select: dst = src with dst.shape[dim] = len(index), index 1-D
 *  index_add:    dst[..., index[i], ...] += src[..., i, ...]  (dst in/out)
 *  gather:       dst[i][j][k] = src[index[i][j][k]][j][k] for dim 0 (index has dst's shape)
 *  scatter_add:  dst[index[i][j][k]][j][k] += src[i][j][k]  (dst in/out; index has src's shape)
 * src and dst share a dtype (any; the adds are a logical or on BOOL). As in
 * torch.gather / scatter_add, outside dim the gathered dst (scattered src) may
 * be smaller than the other tensor; index_select / index_add need them equal.
 * Repeated indices accumulate in increasing source order (deterministic).
 */
FATHOM_API fathom_status fathom_index_select(const fathom_tensor_desc* src, int32_t dim,
                                             const fathom_tensor_desc* index,
                                             const fathom_tensor_desc* dst);
FATHOM_API fathom_status fathom_index_add(const fathom_tensor_desc* dst, int32_t dim,
                                          const fathom_tensor_desc* index,
                                          const fathom_tensor_desc* src);
FATHOM_API fathom_status fathom_gather(const fathom_tensor_desc* src, int32_t dim,
                                       const fathom_tensor_desc* index,
                                       const fathom_tensor_desc* dst);
FATHOM_API fathom_status fathom_scatter_add(const fathom_tensor_desc* dst, int32_t dim,
                                            const fathom_tensor_desc* index,
                                            const fathom_tensor_desc* src);

typedef enum fathom_random_op {
    FATHOM_RANDOM_UNIFORM = 0,   /* U[alpha, beta) */
    FATHOM_RANDOM_NORMAL = 1,    /* N(mean alpha, std beta) */
    FATHOM_RANDOM_BERNOULLI = 2  /* 1 with probability alpha, else 0 */
} fathom_random_op;

/*
 * Counter-based (Philox4x32-10) random numbers: element i (row-major) of dst
 * depends only on (seed, offset + i), so results do not depend on threads, and
 * n elements at offset o followed by m at o + n equal n + m at o.
 * dst is F32 or F64 (BERNOULLI also BOOL); offset >= 0. UNIFORM needs finite
 * alpha <= beta (24 random bits for F32, 53 for F64); NORMAL a finite mean and
 * std >= 0 (Box-Muller); BERNOULLI alpha in [0, 1] (F32, F64 and BOOL masks
 * agree for the same seed and offset). Bit-level recipe: native/src/ops/random.h.
 */
FATHOM_API fathom_status fathom_random(int32_t op, int64_t seed, int64_t offset,
                                       const fathom_tensor_desc* dst, double alpha, double beta);

/*
 * Tensor matmul: dst (..., m, n) = a (..., m, k) @ b (..., k, n), with batch
 * dimensions already broadcast to dst's (stride 0 allowed) and any strides in
 * the matrix dimensions (copied to packed form when a backend needs it).
 * F32 goes through the GEMM backends (AUTO), F64 through the reference kernel.
 * All three have the same ndim >= 2 and one dtype. k == 0 writes zeros; dst
 * must not overlap a or b.
 */
FATHOM_API fathom_status fathom_matmul(const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                                       const fathom_tensor_desc* dst);

/* ------------------------------------------------------------------------
 * CNN kernels (ABI 3): convolution, pooling, batch normalization, resize.
 * Tensors are NCHW at this boundary (contiguous descriptors; F32 through
 * oneDNN, F64 through the reference kernels, which are the specification),
 * or, where a descriptor's layout says so (ABI 6), F32 activations in nChw16c.
 * Backends choose internal layouts themselves and reorder at the edges.
 * oneDNN primitives are created once per (params, threads) and cached.
 * ---------------------------------------------------------------------- */

typedef enum fathom_cnn_backend {
    FATHOM_CNN_AUTO = 0,      /* oneDNN for F32, reference for F64 */
    FATHOM_CNN_REFERENCE = 1, /* naive loops, F32 and F64 */
    FATHOM_CNN_ONEDNN = 3     /* F32 only */
} fathom_cnn_backend;

/*
 * Activation layouts (ABI 5; in the descriptor since ABI 6). A descriptor
 * always states the logical NCHW shape with contiguous strides; its layout
 * field says how the bytes are really ordered. FATHOM_LAYOUT_NCHW16C is
 * oneDNN's nChw16c (aBcd16b): element (n, c, h, w) at
 * ((n * C/16 + c/16) * H*W + h*W + w) * 16 + c%16, for C a multiple of 16 (the
 * same bytes as NCHW when H*W == 1). Keeping activations in it between layers
 * saves the reorders the JIT kernels otherwise need on every call.
 */
typedef enum fathom_layout {
    FATHOM_LAYOUT_NCHW = 0,
    FATHOM_LAYOUT_NCHW16C = 1
} fathom_layout;

/*
 * The one layout boundary: copies an (N,C,H,W) tensor from src's layout to
 * dst's (contiguous descriptors of one shape and dtype of 1, 4 or 8 bytes, not
 * overlapping; NCHW16C needs C % 16 == 0).
 */
FATHOM_API fathom_status fathom_convert_layout(const fathom_tensor_desc* src,
                                               const fathom_tensor_desc* dst);

/*
 * 2-D convolution (cross-correlation, as PyTorch): src (N,C,H,W),
 * weights (K, C/groups, KH, KW), bias (K) -> dst (N,K,OH,OW) with
 * OH = (H + 2*ph - dh*(kh-1) - 1) / sh + 1 (same for OW). Dilation 1 = dense.
 */
typedef struct fathom_conv2d_params {
    int64_t n, c, h, w;
    int64_t k;
    int64_t kh, kw;
    int64_t sh, sw;
    int64_t ph, pw;
    int64_t dh, dw;
    int64_t groups;
    int32_t has_bias;
    int32_t post_relu; /* forward only: dst = relu(conv + bias), fused (inference) */
    int32_t backend;   /* fathom_cnn_backend */
    int32_t reserved;  /* 0 (ABI 5: layout bits, now in the descriptors) */
} fathom_conv2d_params;

typedef enum fathom_conv2d_pass {
    FATHOM_CONV2D_FORWARD = 0,
    FATHOM_CONV2D_BACKWARD_DATA = 1,
    FATHOM_CONV2D_BACKWARD_WEIGHTS = 2
} fathom_conv2d_pass;

/*
 * A convolution plan (ABI 6): the validated params and dtype, the backend and
 * kernels chosen for them, and the layouts those kernels read and write
 * without reorders. Create one per (params, dtype), run it any number of
 * times from any threads, destroy it once. The handle is an opaque non-zero
 * id: a handle that was never created or is already destroyed is refused
 * (FATHOM_INVALID_ARGUMENT), and a destroy while another thread still runs the
 * plan takes effect when that call returns.
 */
FATHOM_API fathom_status fathom_conv2d_plan_create(const fathom_conv2d_params* p, int32_t dtype,
                                                   int64_t* plan);
FATHOM_API fathom_status fathom_conv2d_plan_destroy(int64_t plan);

/* What a plan chose. */
typedef struct fathom_conv2d_choice {
    int64_t dst_shape[4];  /* (N, K, OH, OW) */
    int32_t backend;       /* fathom_cnn_backend actually used (AUTO resolved) */
    /* Per fathom_conv2d_pass: the fathom_layout of src / diff_src and of
       dst / diff_dst that its kernel uses without a reorder (NCHW for F64, the
       reference kernels and where the kernel wants plain NCHW). */
    int32_t src_layout[3];
    int32_t dst_layout[3];
    int32_t reserved;
} fathom_conv2d_choice;

FATHOM_API fathom_status fathom_conv2d_plan_info(int64_t plan, fathom_conv2d_choice* info);

/*
 * The three passes. Operands are the plan's shapes and dtype; each activation
 * (src, dst and their diffs) may be in either layout (its descriptor says
 * which; F32 only for NCHW16C), passing the plan's preferred one saves a
 * reorder. bias / diff_bias are null exactly when the params have no bias;
 * outputs are overwritten.
 */
FATHOM_API fathom_status fathom_conv2d_forward(int64_t plan, const fathom_tensor_desc* src,
                                               const fathom_tensor_desc* weights,
                                               const fathom_tensor_desc* bias,
                                               const fathom_tensor_desc* dst);
/* diff_src = conv_transpose(diff_dst, weights): dL/dsrc. */
FATHOM_API fathom_status fathom_conv2d_backward_data(int64_t plan,
                                                     const fathom_tensor_desc* diff_dst,
                                                     const fathom_tensor_desc* weights,
                                                     const fathom_tensor_desc* diff_src);
/* dL/dweights and dL/dbias (nullable) from src and diff_dst. */
FATHOM_API fathom_status fathom_conv2d_backward_weights(int64_t plan,
                                                        const fathom_tensor_desc* src,
                                                        const fathom_tensor_desc* diff_dst,
                                                        const fathom_tensor_desc* diff_weights,
                                                        const fathom_tensor_desc* diff_bias);

typedef enum fathom_pool_algorithm {
    FATHOM_POOL_MAX = 0,
    FATHOM_POOL_AVG_INCLUDE_PADDING = 1, /* divides by kh*kw (PyTorch count_include_pad=True) */
    FATHOM_POOL_AVG_EXCLUDE_PADDING = 2  /* divides by the in-bounds count */
} fathom_pool_algorithm;

/*
 * src (N,C,H,W) -> dst (N,C,OH,OW), OH = (H + 2*ph - kh) / sh + 1 (floor; same
 * for OW); sizes >= 1, stride >= 1, 0 <= padding <= kernel/2 (PyTorch's rule).
 * Max pooling: the first maximum of a window (row-major) wins ties and gets
 * the gradient; the reference propagates NaN as PyTorch does, oneDNN skips it.
 */
typedef struct fathom_pool2d_params {
    int64_t n, c, h, w;
    int64_t kh, kw;
    int64_t sh, sw;
    int64_t ph, pw;
    int32_t algorithm; /* fathom_pool_algorithm */
    int32_t backend;   /* fathom_cnn_backend */
    int32_t reserved;  /* 0 (ABI 5: the layout, now in the descriptors) */
} fathom_pool2d_params;

/*
 * A pooling plan (ABI 7), as a convolution plan: the validated params and
 * dtype (F32 or F64) and the backend chosen for them; run it from any
 * threads, destroy it once.
 */
FATHOM_API fathom_status fathom_pool2d_plan_create(const fathom_pool2d_params* p, int32_t dtype,
                                                   int64_t* plan);
FATHOM_API fathom_status fathom_pool2d_plan_destroy(int64_t plan);

typedef struct fathom_pool2d_choice {
    int64_t dst_shape[4];     /* (N, C, OH, OW) */
    /* Bytes of workspace max pooling's backward needs from its forward (0 for
       average pooling). The contents are private to the backend that wrote
       them: a 64-byte header (backend, dtype, params) precedes the payload,
       and backward refuses a workspace written by another backend, dtype or
       params with FATHOM_INVALID_ARGUMENT. */
    int64_t workspace_bytes;  /* for the calling thread's budget now */
    int32_t backend;          /* fathom_cnn_backend actually used (AUTO resolved) */
    int32_t reserved;
} fathom_pool2d_choice;

FATHOM_API fathom_status fathom_pool2d_plan_info(int64_t plan, fathom_pool2d_choice* info);

/*
 * src/dst: the plan's shapes and dtype, both NCHW or both NCHW16C (F32, C a
 * multiple of 16). workspace: a contiguous, 8-byte aligned BOOL (byte) tensor
 * of exactly workspace_bytes elements, or null (inference: no backward).
 * Average pooling ignores it (null or 0 bytes).
 */
FATHOM_API fathom_status fathom_pool2d_forward(int64_t plan, const fathom_tensor_desc* src,
                                               const fathom_tensor_desc* dst,
                                               const fathom_tensor_desc* workspace);
/* diff_src (overwritten) from diff_dst and, for max pooling, the forward's
   workspace; in the forward's layout. */
FATHOM_API fathom_status fathom_pool2d_backward(int64_t plan, const fathom_tensor_desc* diff_dst,
                                                const fathom_tensor_desc* workspace,
                                                const fathom_tensor_desc* diff_src);

/*
 * Batch normalization over (N, C, S): per channel c, statistics over N and S
 * (S = H*W for conv layers, 1 for dense layers).
 * Training: y = gamma * (x - mean_B) * invstd_B + beta with the biased batch
 * variance; running_mean/var (in/out) <- (1 - momentum) * running + momentum *
 * batch (running_var gets the unbiased batch variance, as PyTorch); save_mean
 * and save_invstd (C) receive mean_B and 1/sqrt(var_B + eps) for backward.
 * Training needs N*S > 1 (PyTorch: "more than one value per channel").
 * Inference: uses running_mean/var; save_* (if given) receive running_mean and
 * 1/sqrt(running_var + eps).
 * Nullable: gamma (1) and beta (0) for affine=False; running_* in training
 * (track_running_stats=False, both or neither); save_*; diff_gamma, diff_beta.
 * src may be (N,C), (N,C,L) or (N,C,H,W): dims after C multiply to S.
 */
typedef struct fathom_batch_norm_params {
    int64_t n, c, s;
    double eps;
    double momentum;
    int32_t training;
    int32_t backend; /* fathom_cnn_backend */
    int32_t reserved; /* 0 (ABI 5: the layout, now in the descriptors) */
} fathom_batch_norm_params;

/*
 * A batch-norm plan (ABI 7): the validated params (training with N*S > 1)
 * and dtype (F32 or F64), and the backend chosen for them.
 */
FATHOM_API fathom_status fathom_batch_norm_plan_create(const fathom_batch_norm_params* p,
                                                       int32_t dtype, int64_t* plan);
FATHOM_API fathom_status fathom_batch_norm_plan_destroy(int64_t plan);

typedef struct fathom_batch_norm_choice {
    int32_t backend;  /* fathom_cnn_backend actually used (AUTO resolved) */
    int32_t reserved;
} fathom_batch_norm_choice;

FATHOM_API fathom_status fathom_batch_norm_plan_info(int64_t plan,
                                                     fathom_batch_norm_choice* info);

/* src and dst: the plan's dtype, one layout (NCHW16C: F32, C % 16 == 0). */
FATHOM_API fathom_status fathom_batch_norm_forward(int64_t plan, const fathom_tensor_desc* src,
                                                   const fathom_tensor_desc* gamma,
                                                   const fathom_tensor_desc* beta,
                                                   const fathom_tensor_desc* running_mean,
                                                   const fathom_tensor_desc* running_var,
                                                   const fathom_tensor_desc* save_mean,
                                                   const fathom_tensor_desc* save_invstd,
                                                   const fathom_tensor_desc* dst);
/*
 * Backward: diff_src, diff_gamma, diff_beta (all overwritten) from the saved
 * statistics. A training plan differentiates through the batch statistics;
 * an inference plan treats save_mean/save_invstd as constants (frozen BN).
 */
FATHOM_API fathom_status fathom_batch_norm_backward(int64_t plan, const fathom_tensor_desc* src,
                                                    const fathom_tensor_desc* diff_dst,
                                                    const fathom_tensor_desc* gamma,
                                                    const fathom_tensor_desc* save_mean,
                                                    const fathom_tensor_desc* save_invstd,
                                                    const fathom_tensor_desc* diff_src,
                                                    const fathom_tensor_desc* diff_gamma,
                                                    const fathom_tensor_desc* diff_beta);

/*
 * Bilinear resize src (N,C,H,W) -> dst (N,C,OH,OW), half-pixel centres
 * (PyTorch interpolate(size=(OH,OW), mode="bilinear", align_corners=False),
 * computed in the tensor's dtype with PyTorch's formula); F32 or F64.
 */
FATHOM_API fathom_status fathom_resize_bilinear(const fathom_tensor_desc* src,
                                                const fathom_tensor_desc* dst);

/* ------------------------------------------------------------------------
 * Recurrent layers (ABI 4): a whole sequence through a multi-layer,
 * optionally bidirectional RNN (tanh or ReLU), GRU or LSTM in one call,
 * forward and backward through time. F32 runs on oneDNN's RNN primitives,
 * F64 (and FATHOM_RNN_REFERENCE) on the reference kernels, the specification.
 *
 * Sizes: T = seq_len, N = batch, I = input_size, H = hidden_size,
 * L = layers, D = 2 if bidirectional else 1, G = gates (1 RNN, 3 GRU, 4 LSTM).
 * Tensors (contiguous, row-major, one float dtype):
 *   src (T,N,I) time-major; src_iter h0 and src_iter_c c0 (L*D,N,H), row
 *   k*D + dir for layer k and direction dir (0 forward, 1 reverse);
 *   dst (T,N,D*H), the last layer's h_t with the forward half first;
 *   dst_iter hn and dst_iter_c cn (L*D,N,H).
 * Weights: 4*L*D tensors in PyTorch's order and layout, for k in layers, for
 * dir in (forward, reverse): w_ih (G*H, I_k), w_hh (G*H, H), b_ih (G*H),
 * b_hh (G*H), with I_0 = I and I_k = D*H above; gate rows in PyTorch's order,
 * LSTM (i,f,g,o) and GRU (r,z,n). Equations (sigma = logistic):
 *   RNN:  h = act(x W_ih^T + b_ih + h' W_hh^T + b_hh), act = tanh or relu
 *   LSTM: i,f,o = sigma(.), g = tanh(.) of x W_ih^T + b_ih + h' W_hh^T + b_hh
 *         rows; c = f*c' + i*g; h = o*tanh(c)
 *   GRU:  r = sigma(x W_ir^T + b_ir + h' W_hr^T + b_hr), z likewise,
 *         h = z*h' + (1-z)*n, with n per mode below.
 * (h', c' are the previous step's state: h0/c0, or zeros when null.)
 * The weight layout and gate order are translated natively for oneDNN
 * (native/src/ops/dnnl/rnn_dnnl.cpp documents the mapping).
 * ---------------------------------------------------------------------- */

typedef enum fathom_rnn_mode {
    FATHOM_RNN_TANH = 0,
    FATHOM_RNN_RELU = 1,
    /* The notes' GRU (oneDNN vanilla_gru): n = tanh(x W_in^T + b_in + (r*h') W_hn^T + b_hn) */
    FATHOM_RNN_GRU = 2,
    /* torch.nn.GRU (oneDNN lbr_gru): n = tanh(x W_in^T + b_in + r*(h' W_hn^T + b_hn)) */
    FATHOM_RNN_GRU_PYTORCH = 3,
    FATHOM_RNN_LSTM = 4
} fathom_rnn_mode;

typedef enum fathom_rnn_backend {
    FATHOM_RNN_AUTO = 0,      /* oneDNN for F32, reference for F64 */
    FATHOM_RNN_REFERENCE = 1, /* plain loops, F32 and F64 */
    FATHOM_RNN_ONEDNN = 3     /* F32 only */
} fathom_rnn_backend;

typedef struct fathom_rnn_params {
    int32_t mode;    /* fathom_rnn_mode */
    int32_t backend; /* fathom_rnn_backend */
    int64_t seq_len;
    int64_t batch;
    int64_t input_size;
    int64_t hidden_size;
    int32_t layers;
    int32_t bidirectional; /* 0 or 1 */
} fathom_rnn_params;

/*
 * A recurrent-layer plan (ABI 7): the validated params and dtype (F32 or F64)
 * and the backend chosen for them; run it from any threads, destroy it once.
 */
FATHOM_API fathom_status fathom_rnn_plan_create(const fathom_rnn_params* p, int32_t dtype,
                                                int64_t* plan);
FATHOM_API fathom_status fathom_rnn_plan_destroy(int64_t plan);

typedef struct fathom_rnn_choice {
    /* Bytes of the workspace that training forward writes and backward reads,
       for the calling thread's budget now. Its contents are private to the
       backend that wrote them (saved gates and states); a 64-byte header
       names the backend, dtype and params, and backward refuses a workspace
       that another backend, dtype or params wrote. */
    int64_t workspace_bytes;
    int32_t backend; /* fathom_rnn_backend actually used (AUTO resolved) */
    int32_t reserved;
} fathom_rnn_choice;

FATHOM_API fathom_status fathom_rnn_plan_info(int64_t plan, fathom_rnn_choice* info);

/*
 * Forward over the whole sequence. weights points to weights_count = 4*L*D
 * descriptors (order above). src_iter and src_iter_c are nullable (zeros);
 * src_iter_c and dst_iter_c are for LSTM only (null otherwise; dst_iter_c is
 * required for LSTM). training != 0 needs workspace: a contiguous, 64-byte
 * aligned BOOL tensor of exactly workspace_bytes (fathom_rnn_plan_info) elements;
 * training == 0 needs a null workspace. dst, dst_iter and dst_iter_c are
 * overwritten.
 */
FATHOM_API fathom_status fathom_rnn_forward(int64_t plan, int32_t training,
                                            const fathom_tensor_desc* src,
                                            const fathom_tensor_desc* src_iter,
                                            const fathom_tensor_desc* src_iter_c,
                                            const fathom_tensor_desc* weights,
                                            int32_t weights_count,
                                            const fathom_tensor_desc* dst,
                                            const fathom_tensor_desc* dst_iter,
                                            const fathom_tensor_desc* dst_iter_c,
                                            const fathom_tensor_desc* workspace);

/*
 * Backward through time from a training forward: the same plan, src,
 * src_iter(_c) (null again where forward had null), weights and forward
 * outputs dst, dst_iter(_c), plus its workspace. diff_dst (T,N,D*H) is
 * required; diff_dst_iter and diff_dst_iter_c are nullable (zeros).
 * Outputs, all overwritten and nullable (not wanted): diff_src,
 * diff_src_iter, diff_src_iter_c (LSTM only), and diff_weights, an array of
 * diff_weights_count = 4*L*D descriptors shaped like the weights (null with
 * count 0 for none). Where two weights enter as one sum (b_ih + b_hh) their
 * gradients are equal.
 */
FATHOM_API fathom_status fathom_rnn_backward(int64_t plan,
                                             const fathom_tensor_desc* src,
                                             const fathom_tensor_desc* src_iter,
                                             const fathom_tensor_desc* src_iter_c,
                                             const fathom_tensor_desc* weights,
                                             int32_t weights_count,
                                             const fathom_tensor_desc* dst,
                                             const fathom_tensor_desc* dst_iter,
                                             const fathom_tensor_desc* dst_iter_c,
                                             const fathom_tensor_desc* diff_dst,
                                             const fathom_tensor_desc* diff_dst_iter,
                                             const fathom_tensor_desc* diff_dst_iter_c,
                                             const fathom_tensor_desc* workspace,
                                             const fathom_tensor_desc* diff_src,
                                             const fathom_tensor_desc* diff_src_iter,
                                             const fathom_tensor_desc* diff_src_iter_c,
                                             const fathom_tensor_desc* diff_weights,
                                             int32_t diff_weights_count);

#ifdef __cplusplus
}
#endif

#endif /* FATHOM_FATHOM_H */
