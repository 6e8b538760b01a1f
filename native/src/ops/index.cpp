// Fast indexing kernels and the checks for the four indexing entry points.
//
// All four walk the "fibers" of a tensor: every position of the dims other
// than `dim`, each owning a 1-D line along `dim`. Threads split the fibers
// (ops/strided_loop.h) and each fiber is handled entirely by one thread, so
// the accumulating ops need no atomics: two src elements that land on the same
// dst element always share a fiber and are added in increasing source order.
// Inside a chunk the loop runs over the line (index) outside and the fibers
// inside, which for index_select/index_add copies whole unit-stride rows.
#include "ops/index.h"

#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

// t's strides over the fibers of `shape_of`: its shape with size 1 along dim.
TensorView fibers(const TensorView& t, const TensorView& shape_of, int dim) {
    TensorView v = t;
    for (int d = 0; d < v.ndim; ++d) v.shape[d] = shape_of.shape[d];
    v.shape[dim] = 1;
    return v;
}

void require_index_range(const char* op, const TensorView& index, int dim,
                         const TensorView& indexed, const char* indexed_name) {
    const int64_t size = indexed.shape[dim];
    for_each_index(index.ndim, index.shape, [&](const int64_t* i) {
        const int64_t v = *index.at<const int64_t>(i);
        if (v < 0 || v >= size)
            fail(FATHOM_INVALID_ARGUMENT, op, ": index ", v, " out of range for dim ", dim,
                 " of size ", size, " (", indexed_name, " ", shape_str(indexed), ")");
    });
}

void require_1d_index(const char* op, const TensorView& index) {
    require_dtype(op, index, "index", FATHOM_I64);
    if (index.ndim != 1)
        fail(FATHOM_INVALID_ARGUMENT, op, ": index ", shape_str(index), " must be 1-D");
}

// small's shape against big's outside `dim`: equal, or (fit) no larger.
void require_outside_dim(const char* op, const TensorView& small, const char* small_name,
                         const TensorView& big, const char* big_name, int dim, bool fit) {
    if (small.ndim != big.ndim)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", small_name, " ", shape_str(small),
             " must have the ndim of ", big_name, " ", shape_str(big));
    for (int d = 0; d < small.ndim; ++d) {
        if (d == dim) continue;
        if (fit ? small.shape[d] > big.shape[d] : small.shape[d] != big.shape[d])
            fail(FATHOM_INVALID_ARGUMENT, op, ": ", small_name, " ", shape_str(small),
                 fit ? " does not fit in " : " does not match ", big_name, " ", shape_str(big),
                 " in dim ", d, " (dim ", dim, " is indexed)");
    }
}

void require_line(const char* op, const TensorView& t, const char* name, int dim,
                  const TensorView& index) {
    if (t.shape[dim] != index.shape[0])
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", name, " ", shape_str(t), " has size ",
             t.shape[dim], " in dim ", dim, " but index ", shape_str(index), " has ",
             index.shape[0], " entries");
}

std::vector<int64_t> index_values(const TensorView& index) {
    std::vector<int64_t> v(static_cast<size_t>(index.shape[0]));
    for (int64_t i = 0; i < index.shape[0]; ++i) v[i] = *index.at<const int64_t>(&i);
    return v;
}

// n elements from s (byte stride ss) into d (byte stride ds): copy, or add_into.
template <typename T, bool Add>
void move_run(int64_t n, char* d, int64_t ds, const char* s, int64_t ss) {
    constexpr int64_t unit = sizeof(T);
    if (ds == unit && ss == unit) {
        T* dp = reinterpret_cast<T*>(d);
        const T* sp = reinterpret_cast<const T*>(s);
        for (int64_t i = 0; i < n; ++i) {
            if constexpr (Add) add_into(dp[i], sp[i]);
            else dp[i] = sp[i];
        }
    } else {
        for (int64_t i = 0; i < n; ++i) {
            T& y = *reinterpret_cast<T*>(d + i * ds);
            const T x = *reinterpret_cast<const T*>(s + i * ss);
            if constexpr (Add) add_into(y, x);
            else y = x;
        }
    }
}

int64_t index_value(const char* p) { return *reinterpret_cast<const int64_t*>(p); }

int64_t byte_stride(const TensorView& t, int dim) {
    return t.strides[dim] * static_cast<int64_t>(t.itemsize());
}

// index_select (Add = false) and index_add (Add = true): for each l, line `out`
// of dst receives line `in` of src, where (out, in) is (l, index[l]) for
// index_select and (index[l], l) for index_add (index_on_dst).
template <bool Add>
void move_lines(const TensorView& dst, const TensorView& src, const TensorView& shape_of, int dim,
                const std::vector<int64_t>& index, bool index_on_dst) {
    const TensorView dst_f = fibers(dst, shape_of, dim), src_f = fibers(src, shape_of, dim);
    ThreadGrant grant(elementwise_work(static_cast<int64_t>(index.size()) * dst_f.numel()));
    const StridedLoop loop = make_loop({&dst_f, &src_f}, false);
    const int64_t dstep = byte_stride(dst, dim), sstep = byte_stride(src, dim);
    with_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        run_loop(loop, grant.threads(), [&](int64_t, int64_t n, char* const* p, const int64_t* s) {
            for (size_t l = 0; l < index.size(); ++l) {
                const int64_t out = index_on_dst ? index[l] : static_cast<int64_t>(l);
                const int64_t in = index_on_dst ? static_cast<int64_t>(l) : index[l];
                move_run<T, Add>(n, p[0] + out * dstep, s[0], p[1] + in * sstep, s[1]);
            }
        });
    });
}

}  // namespace

namespace {

// What tells the four entry points apart: which operand is indexed (src, or
// dst for the accumulating ones, whose dst is in/out) and whether the index is
// one 1-D line (index_select, index_add) or has the other operand's shape
// (gather, scatter_add: that operand may be smaller outside dim).
struct IndexOpSpec {
    const char* op;
    bool indexed_is_dst;
    bool line_index;
};

// One check for all four: views in argument order (the indexed operand, the
// index, the other operand), then dim, dtypes, shapes and the index values.
IndexArgs check_index_op(const IndexOpSpec& spec, const fathom_tensor_desc* indexed_desc,
                         int32_t dim, const fathom_tensor_desc* index,
                         const fathom_tensor_desc* other_desc) {
    const char* op = spec.op;
    const char* indexed_name = spec.indexed_is_dst ? "dst" : "src";
    const char* other_name = spec.indexed_is_dst ? "src" : "dst";
    IndexArgs a;
    TensorView& indexed = spec.indexed_is_dst ? a.dst : a.src;
    TensorView& other = spec.indexed_is_dst ? a.src : a.dst;
    indexed = spec.indexed_is_dst ? output_view(op, indexed_name, indexed_desc)
                                  : input_view(op, indexed_name, indexed_desc);
    a.index = input_view(op, "index", index);
    other = spec.indexed_is_dst ? input_view(op, other_name, other_desc)
                                : output_view(op, other_name, other_desc);
    a.dim = require_dim(op, dim, indexed, indexed_name);
    if (spec.line_index) require_1d_index(op, a.index);
    else require_dtype(op, a.index, "index", FATHOM_I64);
    require_same_dtype(op, other, other_name, indexed, indexed_name);
    if (!spec.line_index) require_same_shape(op, a.index, "index", other, other_name);
    require_outside_dim(op, other, other_name, indexed, indexed_name, a.dim, !spec.line_index);
    if (spec.line_index) require_line(op, other, other_name, a.dim, a.index);
    require_index_range(op, a.index, a.dim, indexed, indexed_name);
    return a;
}

}  // namespace

IndexArgs check_index_select(const fathom_tensor_desc* src, int32_t dim,
                             const fathom_tensor_desc* index, const fathom_tensor_desc* dst) {
    return check_index_op({"index_select", false, true}, src, dim, index, dst);
}

IndexArgs check_index_add(const fathom_tensor_desc* dst, int32_t dim,
                          const fathom_tensor_desc* index, const fathom_tensor_desc* src) {
    return check_index_op({"index_add", true, true}, dst, dim, index, src);
}

IndexArgs check_gather(const fathom_tensor_desc* src, int32_t dim, const fathom_tensor_desc* index,
                       const fathom_tensor_desc* dst) {
    return check_index_op({"gather", false, false}, src, dim, index, dst);
}

IndexArgs check_scatter_add(const fathom_tensor_desc* dst, int32_t dim,
                            const fathom_tensor_desc* index, const fathom_tensor_desc* src) {
    return check_index_op({"scatter_add", true, false}, dst, dim, index, src);
}

void index_select_forward(const IndexArgs& a) {
    move_lines<false>(a.dst, a.src, a.dst, a.dim, index_values(a.index), false);
}

void index_add_forward(const IndexArgs& a) {
    move_lines<true>(a.dst, a.src, a.src, a.dim, index_values(a.index), true);
}

void gather_forward(const IndexArgs& a) {
    const TensorView dst_f = fibers(a.dst, a.dst, a.dim), src_f = fibers(a.src, a.dst, a.dim),
                     index_f = fibers(a.index, a.dst, a.dim);
    ThreadGrant grant(elementwise_work(a.dst.numel()));
    const StridedLoop loop = make_loop({&dst_f, &src_f, &index_f}, false);
    const int64_t line = a.dst.shape[a.dim];
    const int64_t dstep = byte_stride(a.dst, a.dim), sstep = byte_stride(a.src, a.dim),
                  istep = byte_stride(a.index, a.dim);
    with_dtype(a.dst.dtype, [&](auto t) {
        using T = decltype(t);
        run_loop(loop, grant.threads(), [&](int64_t, int64_t n, char* const* p, const int64_t* s) {
            for (int64_t l = 0; l < line; ++l)
                for (int64_t j = 0; j < n; ++j) {
                    const int64_t k = index_value(p[2] + j * s[2] + l * istep);
                    *reinterpret_cast<T*>(p[0] + j * s[0] + l * dstep) =
                        *reinterpret_cast<const T*>(p[1] + j * s[1] + k * sstep);
                }
        });
    });
}

void scatter_add_forward(const IndexArgs& a) {
    const TensorView dst_f = fibers(a.dst, a.src, a.dim), src_f = fibers(a.src, a.src, a.dim),
                     index_f = fibers(a.index, a.src, a.dim);
    ThreadGrant grant(elementwise_work(a.src.numel()));
    const StridedLoop loop = make_loop({&dst_f, &src_f, &index_f}, false);
    const int64_t line = a.src.shape[a.dim];
    const int64_t dstep = byte_stride(a.dst, a.dim), sstep = byte_stride(a.src, a.dim),
                  istep = byte_stride(a.index, a.dim);
    with_dtype(a.dst.dtype, [&](auto t) {
        using T = decltype(t);
        run_loop(loop, grant.threads(), [&](int64_t, int64_t n, char* const* p, const int64_t* s) {
            for (int64_t l = 0; l < line; ++l)
                for (int64_t j = 0; j < n; ++j) {
                    const int64_t k = index_value(p[2] + j * s[2] + l * istep);
                    add_into(*reinterpret_cast<T*>(p[0] + j * s[0] + k * dstep),
                             *reinterpret_cast<const T*>(p[1] + j * s[1] + l * sstep));
                }
        });
    });
}

}  // namespace fathom
