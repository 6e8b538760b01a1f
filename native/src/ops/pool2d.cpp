// 2-D pooling: parameter and descriptor checks, the max-pooling workspace
// header, and dispatch to the reference or oneDNN kernels (ops/pool2d.h).
// Everything is checked before anything is written, so a refused call leaves
// dst, diff_src and the workspace as they were.
#include "ops/pool2d.h"

#include <cstring>
#include <limits>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/threads.h"
#include "ops/dispatch.h"
#include "ops/layout.h"
#include "ops/nchw_args.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

const char* algorithm_name(int32_t a) {
    switch (a) {
        case FATHOM_POOL_MAX: return "max";
        case FATHOM_POOL_AVG_INCLUDE_PADDING: return "avg_include_padding";
        case FATHOM_POOL_AVG_EXCLUDE_PADDING: return "avg_exclude_padding";
        default: return "unknown";
    }
}

const char* backend_name(int32_t b) {
    switch (b) {
        case FATHOM_CNN_AUTO: return "auto";
        case FATHOM_CNN_REFERENCE: return "reference";
        case FATHOM_CNN_ONEDNN: return "oneDNN";
        default: return "unknown";
    }
}

std::string describe(const fathom_pool2d_params& p) {
    std::ostringstream os;
    os << "n=" << p.n << " c=" << p.c << " h=" << p.h << " w=" << p.w << " kernel=" << p.kh
       << "x" << p.kw << " stride=" << p.sh << "x" << p.sw << " padding=" << p.ph << "x" << p.pw
       << " algorithm=" << algorithm_name(p.algorithm) << " backend=" << backend_name(p.backend);
    return os.str();
}

// Work estimate for ThreadGrant: one cheap (memory-bound) element per window element.
[[maybe_unused]] double pool2d_work(const Pool2dParams& p) {
    const double elements = static_cast<double>(p.n * p.c * pool2d_out_h(p) * pool2d_out_w(p)) *
                            static_cast<double>(p.kh * p.kw);
    return elements * (kFlopsPerThread / kCheapElementsPerThread);
}

int64_t ref_payload_bytes(const Pool2dParams& p) {
    return p.n * p.c * pool2d_out_h(p) * pool2d_out_w(p) * static_cast<int64_t>(sizeof(int32_t));
}

int64_t payload_bytes(const Pool2dParams& p, fathom_cnn_backend backend) {
    if (p.algorithm != FATHOM_POOL_MAX) return 0;
#ifdef FATHOM_WITH_DNNL
    if (backend == FATHOM_CNN_ONEDNN) {
        ThreadGrant grant(pool2d_work(p));  // the same cache entry forward will use
        return pool2d_workspace_payload_dnnl(p, grant.threads());
    }
#endif
    (void)backend;
    return ref_payload_bytes(p);
}

// src-like (N,C,H,W) and dst-like (N,C,OH,OW) operands of one float dtype.
void check_operands(const char* op, const Pool2dParams& p, const TensorView& x,
                    const char* x_name, const TensorView& y, const char* y_name) {
    require_float(op, x, x_name);
    require_same_dtype(op, y, y_name, x, x_name);
    require_exact_shape(op, x, x_name, {p.n, p.c, p.h, p.w});
    require_exact_shape(op, y, y_name, {p.n, p.c, pool2d_out_h(p), pool2d_out_w(p)});
    require_contiguous(op, x, x_name);
    require_contiguous(op, y, y_name);
}

// A workspace descriptor: null, or contiguous, 8-byte aligned BOOL bytes; the
// size is checked by the caller (after the header, whose message says more).
char* workspace_data(const char* op, const fathom_tensor_desc* desc, int64_t* numel) {
    *numel = 0;
    if (desc == nullptr) return nullptr;
    const TensorView ws = input_view(op, "workspace", desc);
    require_dtype(op, ws, "workspace", FATHOM_BOOL);
    *numel = ws.numel();
    if (*numel == 0) return nullptr;
    require_contiguous(op, ws, "workspace");
    if (reinterpret_cast<uintptr_t>(ws.data) % 8 != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": workspace address must be 8-byte aligned");
    return ws.data;
}

void require_workspace_size(const char* op, const Pool2dParams& p, int64_t numel,
                            int64_t bytes) {
    if (numel != bytes)
        fail(FATHOM_INVALID_ARGUMENT, op, ": workspace holds ", numel,
             " bytes but pool2d_workspace_bytes is ", bytes, " (", describe(p), ")");
}

}  // namespace

Pool2dParams check_pool2d_params(const char* op, const fathom_pool2d_params* pp) {
    if (pp == nullptr) fail(FATHOM_INVALID_ARGUMENT, op, ": params is null");
    const fathom_pool2d_params& p = *pp;
    if (p.n < 1 || p.c < 1 || p.h < 1 || p.w < 1 || p.kh < 1 || p.kw < 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": sizes and kernel must be positive (", describe(p),
             ")");
    if (p.sh < 1 || p.sw < 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": stride must be >= 1 (", describe(p), ")");
    constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
    if (p.n > kMaxDim || p.c > kMaxDim || p.h > kMaxDim || p.w > kMaxDim || p.kh > kMaxDim ||
        p.kw > kMaxDim || p.sh > kMaxDim || p.sw > kMaxDim || p.ph > kMaxDim || p.pw > kMaxDim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": a size above 2^31-1 (", describe(p), ")");
    if (p.ph < 0 || p.pw < 0 || 2 * p.ph > p.kh || 2 * p.pw > p.kw)
        fail(FATHOM_INVALID_ARGUMENT, op, ": padding must be between 0 and half the kernel, "
             "as in PyTorch (", describe(p), ")");
    if (p.kh > p.h + 2 * p.ph || p.kw > p.w + 2 * p.pw)
        fail(FATHOM_INVALID_ARGUMENT, op, ": kernel larger than the padded input (",
             describe(p), ")");
    if (p.h * p.w > kMaxDim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": h*w above 2^31-1 (", describe(p), ")");
    // NOTE: 2^56 leaves room for the workspace's 4 bytes per dst element, and
    // dst can have up to 4x src's elements (OH <= H + 1 since 2*ph <= kh).
    if (p.n * p.c > (int64_t{1} << 56) / (p.h * p.w))
        fail(FATHOM_INVALID_ARGUMENT, op, ": n*c*h*w above 2^56 (", describe(p), ")");
    if (p.algorithm < FATHOM_POOL_MAX || p.algorithm > FATHOM_POOL_AVG_EXCLUDE_PADDING)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown algorithm ", p.algorithm);
    if (p.backend != FATHOM_CNN_AUTO && p.backend != FATHOM_CNN_REFERENCE &&
        p.backend != FATHOM_CNN_ONEDNN)
        fail(FATHOM_INVALID_ARGUMENT, op, ": unknown backend ", p.backend);
    if (p.reserved != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": reserved=", p.reserved, " must be 0 (",
             describe(p), ")");
    Pool2dParams checked;
    static_cast<fathom_pool2d_params&>(checked) = p;
    return checked;
}

namespace {

// The call's layout: both operands' (one layout per call); nChw16c needs
// float32 and channels divisible by 16.
int32_t call_layout(const char* op, const Pool2dParams& p, const TensorView& x, const char* x_name,
                    const TensorView& y, const char* y_name) {
    if (x.layout != y.layout)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", x_name, " is ", layout_name(x.layout), " but ",
             y_name, " is ", layout_name(y.layout), "; both take one layout (", describe(p), ")");
    if (x.layout != FATHOM_LAYOUT_NCHW && x.dtype != FATHOM_F32)
        fail(FATHOM_INVALID_ARGUMENT, op, ": nChw16c layout needs float32, got ",
             dtype_name(x.dtype), " (", describe(p), ")");
    if (x.layout != FATHOM_LAYOUT_NCHW && p.c % 16 != 0)
        fail(FATHOM_INVALID_ARGUMENT, op, ": nChw16c layout needs c divisible by 16 (",
             describe(p), ")");
    return x.layout;
}

}  // namespace

uint64_t pool2d_params_hash(const Pool2dParams& p) {
    const int64_t v[] = {p.n,  p.c,  p.h,  p.w,          p.kh,    p.kw,
                         p.sh, p.sw, p.ph, p.pw, p.algorithm, p.layout};
    uint64_t h = 1469598103934665603ull;
    for (int64_t x : v)
        for (int b = 0; b < 8; ++b) h = (h ^ ((static_cast<uint64_t>(x) >> (8 * b)) & 0xff)) *
                                        1099511628211ull;
    return h;
}

int64_t pool2d_workspace_bytes(const Pool2dParams& p, fathom_dtype dtype) {
    if (dtype != FATHOM_F32 && dtype != FATHOM_F64)
        fail(FATHOM_INVALID_ARGUMENT, "pool2d_workspace_bytes: dtype ", dtype_name(dtype),
             " not supported (float32 or float64)");
    if (p.algorithm != FATHOM_POOL_MAX) return 0;
    const fathom_cnn_backend backend = resolve_cnn_backend("pool2d_workspace_bytes", p.backend, dtype);
    return static_cast<int64_t>(sizeof(Pool2dWorkspaceHeader)) + payload_bytes(p, backend);
}

Pool2dArgs check_pool2d_forward(const fathom_pool2d_params* params, const fathom_tensor_desc* src,
                                const fathom_tensor_desc* dst,
                                const fathom_tensor_desc* workspace) {
    const char* op = "pool2d_forward";
    Pool2dArgs a{check_pool2d_params(op, params), FATHOM_CNN_REFERENCE, {}, {}};
    a.x = input_view_any_layout(op, "src", src);
    a.y = output_view_any_layout(op, "dst", dst);
    check_operands(op, a.p, a.x, "src", a.y, "dst");
    a.p.layout = call_layout(op, a.p, a.x, "src", a.y, "dst");
    a.backend = resolve_cnn_backend(op, a.p.backend, a.x.dtype);
    int64_t numel = 0;
    a.workspace = workspace_data(op, workspace, &numel);
    if (workspace != nullptr) {
        a.workspace_bytes = pool2d_workspace_bytes(a.p, a.x.dtype);
        require_workspace_size(op, a.p, numel, a.workspace_bytes);
    }
    return a;
}

Pool2dArgs check_pool2d_backward(const fathom_pool2d_params* params,
                                 const fathom_tensor_desc* diff_dst,
                                 const fathom_tensor_desc* workspace,
                                 const fathom_tensor_desc* diff_src) {
    const char* op = "pool2d_backward";
    Pool2dArgs a{check_pool2d_params(op, params), FATHOM_CNN_REFERENCE, {}, {}};
    a.y = input_view_any_layout(op, "diff_dst", diff_dst);
    a.x = output_view_any_layout(op, "diff_src", diff_src);
    check_operands(op, a.p, a.x, "diff_src", a.y, "diff_dst");
    a.p.layout = call_layout(op, a.p, a.x, "diff_src", a.y, "diff_dst");
    a.backend = resolve_cnn_backend(op, a.p.backend, a.x.dtype);
    int64_t numel = 0;
    a.workspace = workspace_data(op, workspace, &numel);
    if (a.p.algorithm != FATHOM_POOL_MAX) {
        require_workspace_size(op, a.p, numel, 0);
        return a;
    }
    if (workspace == nullptr)
        fail(FATHOM_INVALID_ARGUMENT, op, ": max pooling needs the workspace of pool2d_forward (",
             describe(a.p), ")");
    // The header first: a workspace from another backend or dtype also has
    // another size, and "written by oneDNN" says more than "holds 1234 bytes".
    Pool2dWorkspaceHeader h;
    if (numel < static_cast<int64_t>(sizeof(h)))
        fail(FATHOM_INVALID_ARGUMENT, op, ": workspace holds ", numel,
             " bytes, less than its header (", describe(a.p), ")");
    std::memcpy(&h, a.workspace, sizeof(h));
    if (h.magic != kPool2dWorkspaceMagic || h.version != 1)
        fail(FATHOM_INVALID_ARGUMENT, op,
             ": workspace was not written by pool2d_forward (", describe(a.p), ")");
    if (h.backend != a.backend)
        fail(FATHOM_INVALID_ARGUMENT, op, ": workspace was written by the ",
             backend_name(h.backend), " backend but this call runs the ", backend_name(a.backend),
             " backend (", describe(a.p), ")");
    if (h.dtype != a.x.dtype)
        fail(FATHOM_INVALID_ARGUMENT, op, ": workspace was written for ", dtype_name(h.dtype),
             " but diff_src is ", dtype_name(a.x.dtype), " (", describe(a.p), ")");
    a.workspace_bytes = pool2d_workspace_bytes(a.p, a.x.dtype);
    if (h.params_hash != pool2d_params_hash(a.p) ||
        h.payload_bytes != a.workspace_bytes - static_cast<int64_t>(sizeof(h)))
        fail(FATHOM_INVALID_ARGUMENT, op,
             ": workspace was written for other pooling params than (", describe(a.p), ")");
    require_workspace_size(op, a.p, numel, a.workspace_bytes);
    return a;
}

void pool2d_forward(const Pool2dArgs& a) {
    const Pool2dParams& p = a.p;
    char* payload = a.workspace ? a.workspace + sizeof(Pool2dWorkspaceHeader) : nullptr;
    run_kernel(
        a.backend == FATHOM_CNN_ONEDNN, a.x.dtype, pool2d_work(p),
        [&](int threads) {
            pool2d_forward_dnnl(p, reinterpret_cast<const float*>(a.x.data),
                                reinterpret_cast<float*>(a.y.data), payload, threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> x(a.x, p.n, p.c, p.h * p.w);
            PlainOperand<T> y(a.y, p.n, p.c, pool2d_out_h(p) * pool2d_out_w(p));
            pool2d_forward_ref(p, x.in(), y.out(), reinterpret_cast<int32_t*>(payload));
            y.write_back();
        });
    if (a.workspace && p.algorithm == FATHOM_POOL_MAX) {
        Pool2dWorkspaceHeader h{};
        h.magic = kPool2dWorkspaceMagic;
        h.version = 1;
        h.backend = a.backend;
        h.dtype = a.x.dtype;
        h.payload_bytes = a.workspace_bytes - static_cast<int64_t>(sizeof(h));
        h.params_hash = pool2d_params_hash(p);
        std::memcpy(a.workspace, &h, sizeof(h));
    }
}

void pool2d_backward(const Pool2dArgs& a) {
    const Pool2dParams& p = a.p;
    const char* payload = a.workspace ? a.workspace + sizeof(Pool2dWorkspaceHeader) : nullptr;
    run_kernel(
        a.backend == FATHOM_CNN_ONEDNN, a.x.dtype, pool2d_work(p),
        [&](int threads) {
            pool2d_backward_dnnl(p, reinterpret_cast<const float*>(a.y.data), payload,
                                 reinterpret_cast<float*>(a.x.data), threads);
        },
        [&](auto t) {
            using T = decltype(t);
            PlainOperand<T> dy(a.y, p.n, p.c, pool2d_out_h(p) * pool2d_out_w(p));
            PlainOperand<T> dx(a.x, p.n, p.c, p.h * p.w);
            pool2d_backward_ref(p, dy.in(), reinterpret_cast<const int32_t*>(payload), dx.out());
            dx.write_back();
        });
}

}  // namespace fathom
