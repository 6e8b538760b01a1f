// Matmul over strided views, mapped onto strided-batched GEMM calls.
//
// Each matrix (the last two dims) becomes a GEMM operand without a copy when
// its layout allows: unit stride along columns is row-major with ld = row
// stride, unit stride along rows is the transposed storage with ld = column
// stride. Otherwise (both strides > 1, negative, or overlapping rows) the
// operand is packed densely first. dst must be row-major, else the product is
// computed into a dense temporary and copied.
// The batch dims of a, b and dst are merged where all three allow it; the
// innermost remaining one becomes the GEMM's own batch (stride 0 broadcasts
// included), and any outer ones are a loop of GEMM calls.
#include "ops/matmul.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "ops/elementwise.h"
#include "ops/gemm.h"

namespace fathom {

namespace {

struct GemmLayout {
    bool ok = false;
    int32_t trans = 0;
    int64_t ld = 0;
};

// A stored (rows, cols) matrix with element strides (sr, sc) as a GEMM operand.
// NOTE: a dim of size <= 1 never steps, so its stride may be anything; ld is
// then chosen as the smallest value the GEMM rules accept (>= 1, >= stored cols).
GemmLayout gemm_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
    GemmLayout l;
    if ((cols <= 1 || sc == 1) && (rows <= 1 || sr >= std::max<int64_t>(1, cols))) {
        l.ok = true;
        l.ld = rows <= 1 ? std::max<int64_t>(1, cols) : sr;
    } else if ((rows <= 1 || sr == 1) && (cols <= 1 || sc >= std::max<int64_t>(1, rows))) {
        l.ok = true;
        l.trans = 1;
        l.ld = cols <= 1 ? std::max<int64_t>(1, rows) : sc;
    }
    return l;
}

// A dense copy of t in `storage`; batch dims with stride 0 stay broadcast
// (stride 0 in the copy too) instead of being expanded.
template <typename T>
TensorView packed(const TensorView& t, std::vector<T>& storage) {
    TensorView from = t, to = t;
    int64_t size = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
        if (d < t.ndim - 2 && t.strides[d] == 0) {
            from.shape[d] = to.shape[d] = 1;
            to.strides[d] = 0;
        } else {
            to.strides[d] = size;
            size *= t.shape[d];
        }
    }
    storage.resize(static_cast<size_t>(size));
    to.data = reinterpret_cast<char*>(storage.data());
    unary_forward(FATHOM_UNARY_COPY, from, to, 0.0, 0.0);
    TensorView result = t;
    result.data = to.data;
    std::copy(to.strides, to.strides + t.ndim, result.strides);
    return result;
}

// A dense, uninitialised tensor of t's shape in `storage`.
template <typename T>
TensorView dense_like(const TensorView& t, std::vector<T>& storage) {
    TensorView result = t;
    int64_t size = 1;
    for (int d = t.ndim - 1; d >= 0; --d) {
        result.strides[d] = size;
        size *= t.shape[d];
    }
    storage.resize(static_cast<size_t>(size));
    result.data = reinterpret_cast<char*>(storage.data());
    return result;
}

// The batch dims (all but the last two) of a, b, c, size-1 dims dropped and
// neighbours merged where all three step over each other exactly.
struct Batch {
    int ndim = 0;
    int64_t shape[FATHOM_MAX_DIMS];
    int64_t stride[3][FATHOM_MAX_DIMS];  // elements, for a, b, c
};

Batch batch_dims(const TensorView& a, const TensorView& b, const TensorView& c) {
    const TensorView* ops[3] = {&a, &b, &c};
    Batch batch;
    for (int d = 0; d < c.ndim - 2; ++d) {
        const int64_t size = c.shape[d];
        if (size == 1) continue;
        bool merge = batch.ndim > 0;
        for (int k = 0; k < 3 && merge; ++k)
            merge = batch.stride[k][batch.ndim - 1] == ops[k]->strides[d] * size;
        if (merge) {
            batch.shape[batch.ndim - 1] *= size;
        } else {
            batch.shape[batch.ndim++] = size;
        }
        for (int k = 0; k < 3; ++k) batch.stride[k][batch.ndim - 1] = ops[k]->strides[d];
    }
    return batch;
}

template <typename T>
void gemm_call(const fathom_gemm_params& p, const T* a, const T* b, T* c) {
    // Views carry no buffer lengths; what validate_gemm checks here is that the
    // layout mapping produced legal ld and batch strides.
    constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
    validate_gemm("matmul", p, a, kUnbounded, b, kUnbounded, c, kUnbounded);
    if constexpr (std::is_same_v<T, float>) sgemm(FATHOM_GEMM_AUTO, p, a, b, c);
    else gemm_forward_ref(p, a, b, c);
}

template <typename T>
void matmul_impl(const MatmulArgs& args) {
    const int nd = args.dst.ndim;
    const int64_t m = args.dst.shape[nd - 2], n = args.dst.shape[nd - 1];
    const int64_t k = args.a.shape[nd - 1];
    if (args.dst.numel() == 0) return;
    if (k == 0) {  // empty sums
        unary_forward(FATHOM_UNARY_FILL, TensorView{}, args.dst, 0.0, 0.0);
        return;
    }
    std::vector<T> a_store, b_store, c_store;
    TensorView a = args.a, b = args.b, c = args.dst;
    auto layout = [nd](const TensorView& t) {
        return gemm_layout(t.shape[nd - 2], t.shape[nd - 1], t.strides[nd - 2], t.strides[nd - 1]);
    };
    GemmLayout la = layout(a), lb = layout(b), lc = layout(c);
    if (!la.ok) la = layout(a = packed(a, a_store));
    if (!lb.ok) lb = layout(b = packed(b, b_store));
    const bool dst_direct = lc.ok && lc.trans == 0;
    if (!dst_direct) lc = layout(c = dense_like(c, c_store));

    fathom_gemm_params p{};
    p.trans_a = la.trans;
    p.trans_b = lb.trans;
    p.m = m;
    p.n = n;
    p.k = k;
    p.alpha = 1.0f;
    p.beta = 0.0f;
    p.lda = la.ld;
    p.ldb = lb.ld;
    p.ldc = lc.ld;
    p.batch = 1;

    const Batch batch = batch_dims(a, b, c);
    int looped = batch.ndim;  // batch dims walked by the loop below
    if (batch.ndim > 0) {
        const int d = batch.ndim - 1;
        // GEMM batches need non-negative strides and outputs that do not interleave.
        if (batch.stride[0][d] >= 0 && batch.stride[1][d] >= 0 &&
            batch.stride[2][d] >= (m - 1) * p.ldc + n) {
            p.batch = batch.shape[d];
            p.stride_a = batch.stride[0][d];
            p.stride_b = batch.stride[1][d];
            p.stride_c = batch.stride[2][d];
            looped = d;
        }
    }
    const T* a0 = reinterpret_cast<const T*>(a.data);
    const T* b0 = reinterpret_cast<const T*>(b.data);
    T* c0 = reinterpret_cast<T*>(c.data);
    for_each_index(looped, batch.shape, [&](const int64_t* i) {
        int64_t oa = 0, ob = 0, oc = 0;
        for (int d = 0; d < looped; ++d) {
            oa += i[d] * batch.stride[0][d];
            ob += i[d] * batch.stride[1][d];
            oc += i[d] * batch.stride[2][d];
        }
        gemm_call<T>(p, a0 + oa, b0 + ob, c0 + oc);
    });
    if (!dst_direct) unary_forward(FATHOM_UNARY_COPY, c, args.dst, 0.0, 0.0);
}

}  // namespace

MatmulArgs check_matmul(const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                        const fathom_tensor_desc* dst, int32_t device) {
    const char* op = "matmul";
    MatmulArgs args;
    args.a = input_view(op, "a", a, device);
    args.b = input_view(op, "b", b, device);
    args.dst = output_view(op, "dst", dst, device);
    const TensorView &va = args.a, &vb = args.b, &vd = args.dst;
    require_float(op, va, "a");
    require_same_dtype(op, vb, "b", va, "a");
    require_same_dtype(op, vd, "dst", va, "a");
    const int nd = vd.ndim;
    bool fits = nd >= 2 && va.ndim == nd && vb.ndim == nd;
    for (int d = 0; fits && d < nd - 2; ++d)
        fits = va.shape[d] == vd.shape[d] && vb.shape[d] == vd.shape[d];
    fits = fits && va.shape[nd - 2] == vd.shape[nd - 2] && vb.shape[nd - 1] == vd.shape[nd - 1] &&
           va.shape[nd - 1] == vb.shape[nd - 2];
    if (!fits)
        fail(FATHOM_INVALID_ARGUMENT, op, ": shapes a ", shape_str(va), " @ b ", shape_str(vb),
             " -> dst ", shape_str(vd), " do not fit (..., m, k) @ (..., k, n) -> (..., m, n)");
    return args;
}

void matmul_forward(const MatmulArgs& args) {
    with_float_dtype(args.dst.dtype, [&](auto t) { matmul_impl<decltype(t)>(args); });
}

}  // namespace fathom
