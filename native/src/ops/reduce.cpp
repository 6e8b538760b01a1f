// Fast reductions and the checks for fathom_reduce.
//
// The reduced dimensions are ordered by src stride and merged, so that most
// reductions become "for each dst element, reduce one run of N elements with
// stride rs" (plus an odometer over any reduced dims that did not merge).
// Three walks:
//  - rows:    one thread per range of dst elements, each reducing its runs;
//             a unit-stride run is a vectorised loop (the innermost-dim case).
//  - columns: the kept dims merge into one unit-stride dim (src (N, M) reduced
//             over N, e.g. a bias gradient): accumulate whole rows into a tile
//             of M accumulators, threads split the tiles.
//  - blocks:  a single dst element over one long run (a full sum): fixed blocks
//             of the run reduce in parallel and merge in block order.
// Every dst element is accumulated in one order that depends on the shapes and
// strides only, never on the thread count, so results are reproducible.
#include "ops/reduce.h"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/threads.h"
#include "ops/elementwise.h"
#include "ops/op_table.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

// Block length of the "blocks" walk. It fixes the summation order of a long
// run, so it must not depend on the thread count.
constexpr int64_t kBlock = 32768;

// Accumulators: init(), add(acc, x, pos), run(p, n, stride, first, acc) over
// positions first.., merge(acc, later), store(acc, count, dst, index).
template <typename T, bool IsProd>
struct ProductOrSum {
    using Acc = double;
    static Acc init() { return IsProd ? 1.0 : 0.0; }
    static void add(Acc& acc, T x, int64_t) {
        if constexpr (IsProd) acc *= x;
        else acc += x;
    }
    static Acc run(const T* p, int64_t n, int64_t stride, int64_t, Acc acc) {
        if (stride == 1) {
            if constexpr (IsProd) {
#pragma omp simd reduction(* : acc)
                for (int64_t i = 0; i < n; ++i) acc *= p[i];
            } else {
#pragma omp simd reduction(+ : acc)
                for (int64_t i = 0; i < n; ++i) acc += p[i];
            }
        } else {
            for (int64_t i = 0; i < n; ++i) add(acc, p[i * stride], i);
        }
        return acc;
    }
    static void merge(Acc& acc, const Acc& later) {
        if constexpr (IsProd) acc *= later;
        else acc += later;
    }
};

template <typename T, bool IsMean = false>
struct SumReducer : ProductOrSum<T, false> {
    static void store(double acc, int64_t count, T* dst, int64_t*) {
        *dst = static_cast<T>(IsMean ? acc / static_cast<double>(count) : acc);
    }
};

template <typename T>
struct ProdReducer : ProductOrSum<T, true> {
    static void store(double acc, int64_t, T* dst, int64_t*) { *dst = static_cast<T>(acc); }
};

template <typename T, bool IsMax>
struct ExtremeReducer {
    struct Acc {
        T value;
        int64_t pos;  // -1 until the first element
    };
    static Acc init() { return {T(0), -1}; }
    static void add(Acc& acc, T x, int64_t pos) {
        if (acc.pos < 0 || replaces_extreme<IsMax>(x, acc.value)) acc = {x, pos};
    }
    static Acc run(const T* p, int64_t n, int64_t stride, int64_t first, Acc acc) {
        for (int64_t i = 0; i < n; ++i) add(acc, p[i * stride], first + i);
        return acc;
    }
    static void merge(Acc& acc, const Acc& later) {
        if (later.pos >= 0) add(acc, later.value, later.pos);
    }
    static void store(const Acc& acc, int64_t, T* dst, int64_t* index) {
        *dst = acc.value;
        if (index) *index = acc.pos;
    }
};

// The reducers the rows of FATHOM_REDUCE_OP_TABLE name (ops/op_table.h).
template <typename T>
using MeanReducer = SumReducer<T, true>;
template <typename T>
using MaxReducer = ExtremeReducer<T, true>;
template <typename T>
using MinReducer = ExtremeReducer<T, false>;

// Calls fn(Reducer<T>{}) for op's row (op checked).
template <typename T, typename Fn>
void with_reducer(int32_t op, Fn&& fn) {
    switch (op) {
#define FATHOM_ROW(S, code, name, Reducer, ...) \
    case code: return fn(Reducer<T>{});
        FATHOM_REDUCE_OP_TABLE(FATHOM_ROW)
#undef FATHOM_ROW
        default: return;
    }
}

// The reduced dimensions, ordered by src stride and merged; the last one is
// the innermost run of each dst element.
struct ReducedDims {
    int ndim = 0;
    int64_t shape[FATHOM_MAX_DIMS];
    int64_t stride[FATHOM_MAX_DIMS];  // src elements
    int64_t count = 1;
};

ReducedDims reduced_dims(const TensorView& src, const TensorView& dst) {
    int dims[FATHOM_MAX_DIMS];
    int n = 0;
    for (int d = 0; d < src.ndim; ++d)
        if (dst.shape[d] == 1 && src.shape[d] != 1) dims[n++] = d;
    // NOTE: summation order is free (up to rounding), and with indices there is
    // one reduced dim, so sorting cannot change which position wins a max/min.
    auto larger = [&](int x, int y) {
        return std::llabs(src.strides[x]) > std::llabs(src.strides[y]);
    };
    for (int i = 1; i < n; ++i)  // stable insertion sort, as in make_loop
        for (int j = i; j > 0 && larger(dims[j], dims[j - 1]); --j) std::swap(dims[j - 1], dims[j]);
    ReducedDims r;
    for (int i = 0; i < n; ++i) {
        const int d = dims[i];
        r.count *= src.shape[d];
        if (r.ndim > 0 && r.stride[r.ndim - 1] == src.strides[d] * src.shape[d]) {
            r.shape[r.ndim - 1] *= src.shape[d];
        } else {
            r.shape[r.ndim++] = src.shape[d];
        }
        r.stride[r.ndim - 1] = src.strides[d];
    }
    return r;
}

// One dst element: all runs of the reduced dims starting at `base`, in order.
template <typename R, typename T>
typename R::Acc reduce_runs(const T* base, const ReducedDims& r) {
    typename R::Acc acc = R::init();
    const int last = r.ndim - 1;
    const int64_t n = r.shape[last], stride = r.stride[last];
    if (last == 0) return R::run(base, n, stride, 0, acc);
    for_each_index(last, r.shape, [&](const int64_t* i) {
        int64_t off = 0;
        for (int d = 0; d < last; ++d) off += i[d] * r.stride[d];
        acc = R::run(base + off, n, stride, 0, acc);
    });
    return acc;
}

}  // namespace

ReduceArgs check_reduce(int32_t op, const fathom_tensor_desc* src, const fathom_tensor_desc* dst,
                        const fathom_tensor_desc* indices, int32_t device) {
    if (!reduce_op_name(op)) fail(FATHOM_INVALID_ARGUMENT, "reduce: unknown op ", op);
    ReduceArgs args;
    args.name = std::string("reduce(") + reduce_op_name(op) + ")";
    const char* name = args.name.c_str();
    args.src = input_view(name, "src", src, device);
    args.dst = output_view(name, "dst", dst, device);
    require_float(name, args.src, "src");
    require_same_dtype(name, args.dst, "dst", args.src, "src");
    const TensorView& s = args.src;
    const TensorView& d = args.dst;
    if (d.ndim != s.ndim)
        fail(FATHOM_INVALID_ARGUMENT, name, ": dst ", shape_str(d), " must have the ndim of src ",
             shape_str(s));
    int reduced = 0;
    int64_t count = 1;
    for (int k = 0; k < s.ndim; ++k) {
        if (d.shape[k] != s.shape[k] && d.shape[k] != 1)
            fail(FATHOM_INVALID_ARGUMENT, name, ": dst ", shape_str(d), " does not match src ",
                 shape_str(s), " in dim ", k, " (must be ", s.shape[k], " or 1)");
        if (d.shape[k] == 1 && s.shape[k] != 1) {
            ++reduced;
            count *= s.shape[k];
        }
    }
    if (reduce_writes_indices(op) && count == 0)  // max, min: no identity
        fail(FATHOM_INVALID_ARGUMENT, name, ": no elements to reduce (src ", shape_str(s),
             " -> dst ", shape_str(d), ")");
    if (indices != nullptr) {
        if (!reduce_writes_indices(op))
            fail(FATHOM_INVALID_ARGUMENT, name, ": indices are written only by max and min");
        if (reduced != 1)
            fail(FATHOM_INVALID_ARGUMENT, name,
                 ": indices need exactly one reduced dimension, src ", shape_str(s), " -> dst ",
                 shape_str(d), " reduces ", reduced);
        args.indices = output_view(name, "indices", indices, device);
        args.has_indices = true;
        require_dtype(name, args.indices, "indices", FATHOM_I64);
        require_same_shape(name, args.indices, "indices", d, "dst");
    }
    return args;
}

void reduce_forward(int32_t op, const TensorView& src, const TensorView& dst,
                    const TensorView* indices) {
    const ReducedDims r = reduced_dims(src, dst);
    if (r.ndim == 0) {  // nothing reduced (checked: then no indices either)
        unary_forward(FATHOM_UNARY_COPY, src, dst, 0.0, 0.0);
        return;
    }
    const int64_t outputs = dst.numel();
    if (outputs == 0) return;
    ThreadGrant grant(elementwise_work(src.numel()));
    const int threads = grant.threads();
    const StridedLoop loop =
        indices ? make_loop({&dst, &src, indices}, false) : make_loop({&dst, &src}, false);
    const int64_t n = r.shape[r.ndim - 1], rs = r.stride[r.ndim - 1];

    with_float_dtype(src.dtype, [&](auto t) {
        using T = decltype(t);
        with_reducer<T>(op, [&](auto reducer) {
            using R = decltype(reducer);
            using Acc = typename R::Acc;
            const T* base = reinterpret_cast<const T*>(src.data);
            auto out_at = [&](int64_t m, T** y, int64_t** index) {
                *y = reinterpret_cast<T*>(loop.data[0] + m * loop.strides[0][0]);
                *index = indices ? reinterpret_cast<int64_t*>(loop.data[2] + m * loop.strides[2][0])
                                 : nullptr;
            };

            if (outputs == 1 && r.ndim == 1 && n > kBlock) {
                // blocks: fixed block boundaries, merged in order.
                const int64_t blocks = (n + kBlock - 1) / kBlock;
                std::vector<Acc> partial(static_cast<size_t>(blocks));
#pragma omp parallel for num_threads(static_cast<int>(std::min<int64_t>(threads, blocks))) \
    schedule(static) if (threads > 1)
                for (int64_t b = 0; b < blocks; ++b) {
                    const int64_t first = b * kBlock;
                    const int64_t len = std::min(kBlock, n - first);
                    partial[b] = R::run(base + first * rs, len, rs, first, R::init());
                }
                Acc acc = partial[0];
                for (int64_t b = 1; b < blocks; ++b) R::merge(acc, partial[b]);
                T* y;
                int64_t* index;
                out_at(0, &y, &index);
                R::store(acc, r.count, y, index);
                return;
            }

            const int64_t src_unit = static_cast<int64_t>(sizeof(T));
            if (r.ndim == 1 && rs != 1 && loop.ndim == 1 && loop.strides[1][0] == src_unit) {
                // columns: src viewed as (n, M) with unit stride along M.
                constexpr int64_t kTile = 256;
                const int64_t m_total = loop.shape[0];
                const int64_t tiles = (m_total + kTile - 1) / kTile;
#pragma omp parallel for num_threads(static_cast<int>(std::min<int64_t>(threads, tiles))) \
    schedule(static) if (threads > 1 && tiles > 1)
                for (int64_t tile = 0; tile < tiles; ++tile) {
                    const int64_t m0 = tile * kTile, width = std::min(kTile, m_total - m0);
                    Acc acc[kTile];
                    for (int64_t j = 0; j < width; ++j) acc[j] = R::init();
                    for (int64_t i = 0; i < n; ++i) {
                        const T* row = base + i * rs + m0;
                        for (int64_t j = 0; j < width; ++j) R::add(acc[j], row[j], i);
                    }
                    for (int64_t j = 0; j < width; ++j) {
                        T* y;
                        int64_t* index;
                        out_at(m0 + j, &y, &index);
                        R::store(acc[j], r.count, y, index);
                    }
                }
                return;
            }

            // rows: each dst element reduces its runs on one thread.
            run_loop(loop, threads, [&](int64_t, int64_t count, char* const* p, const int64_t* s) {
                for (int64_t j = 0; j < count; ++j) {
                    const Acc acc = reduce_runs<R>(reinterpret_cast<const T*>(p[1] + j * s[1]), r);
                    R::store(acc, r.count, reinterpret_cast<T*>(p[0] + j * s[0]),
                             indices ? reinterpret_cast<int64_t*>(p[2] + j * s[2]) : nullptr);
                }
            });
        });
    });
}

}  // namespace fathom
