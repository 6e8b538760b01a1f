// Fast elementwise kernels and the checks for fathom_unary, fathom_binary and
// fathom_where. The walk is ops/strided_loop.h: dense operands become one flat
// run, a stride-0 operand (scalar or row/column broadcast) becomes a run where
// that operand is held in a register, and anything else a strided run. The
// innermost loops below are the only hot code; the scalar math is in
// elementwise.h, shared with the reference kernels.
#include "ops/elementwise.h"

#include "core/error.h"
#include "core/threads.h"
#include "ops/strided_loop.h"

namespace fathom {

namespace {

template <typename T>
T& elem(char* p, int64_t i, int64_t stride) {
    return *reinterpret_cast<T*>(p + i * stride);
}

// --- innermost runs (n elements; byte strides s[k] for operand k) -------------
// NOTE: `omp simd` tells the compiler the iterations are independent, which
// also holds in place (dst == src elementwise), so it need not emit alias checks.

template <typename D, typename F>
void fill_run(int64_t n, char* const* p, const int64_t* s, F value_at) {
    if (s[0] == static_cast<int64_t>(sizeof(D))) {
        D* d = reinterpret_cast<D*>(p[0]);
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) d[i] = value_at(i);
    } else {
        for (int64_t i = 0; i < n; ++i) elem<D>(p[0], i, s[0]) = value_at(i);
    }
}

template <typename D, typename S, typename F>
void map1_run(int64_t n, char* const* p, const int64_t* s, F f) {
    constexpr int64_t ds = sizeof(D), ss = sizeof(S);
    D* d = reinterpret_cast<D*>(p[0]);
    const S* x = reinterpret_cast<const S*>(p[1]);
    if (s[0] == ds && s[1] == ss) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) d[i] = f(x[i]);
    } else if (s[0] == ds && s[1] == 0) {
        const D v = f(x[0]);
        for (int64_t i = 0; i < n; ++i) d[i] = v;
    } else {
        for (int64_t i = 0; i < n; ++i) elem<D>(p[0], i, s[0]) = f(elem<S>(p[1], i, s[1]));
    }
}

template <typename D, typename T, typename F>
void map2_run(int64_t n, char* const* p, const int64_t* s, F f) {
    constexpr int64_t ds = sizeof(D), ts = sizeof(T);
    D* d = reinterpret_cast<D*>(p[0]);
    const T* a = reinterpret_cast<const T*>(p[1]);
    const T* b = reinterpret_cast<const T*>(p[2]);
    if (s[0] == ds && s[1] == ts && s[2] == ts) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
    } else if (s[0] == ds && s[1] == 0 && s[2] == ts) {
        const T av = a[0];
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) d[i] = f(av, b[i]);
    } else if (s[0] == ds && s[1] == ts && s[2] == 0) {
        const T bv = b[0];
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) d[i] = f(a[i], bv);
    } else {
        for (int64_t i = 0; i < n; ++i)
            elem<D>(p[0], i, s[0]) = f(elem<T>(p[1], i, s[1]), elem<T>(p[2], i, s[2]));
    }
}

template <typename T>
void where_run(int64_t n, char* const* p, const int64_t* s) {
    constexpr int64_t ts = sizeof(T);
    if (s[0] == ts && s[1] == 1 && s[2] == ts && s[3] == ts) {
        T* d = reinterpret_cast<T*>(p[0]);
        const uint8_t* c = reinterpret_cast<const uint8_t*>(p[1]);
        const T* a = reinterpret_cast<const T*>(p[2]);
        const T* b = reinterpret_cast<const T*>(p[3]);
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) d[i] = c[i] != 0 ? a[i] : b[i];
    } else {
        for (int64_t i = 0; i < n; ++i)
            elem<T>(p[0], i, s[0]) =
                elem<uint8_t>(p[1], i, s[1]) != 0 ? elem<T>(p[2], i, s[2]) : elem<T>(p[3], i, s[3]);
    }
}

}  // namespace

// --- checks --------------------------------------------------------------------

UnaryArgs check_unary(int32_t op, const fathom_tensor_desc* src, const fathom_tensor_desc* dst,
                      int32_t device) {
    if (!unary_op_name(op)) fail(FATHOM_INVALID_ARGUMENT, "unary: unknown op ", op);
    UnaryArgs args;
    args.name = std::string("unary(") + unary_op_name(op) + ")";
    const char* name = args.name.c_str();
    args.dst = output_view(name, "dst", dst, device);
    if (op == FATHOM_UNARY_FILL || op == FATHOM_UNARY_RANGE) return args;  // src unused
    args.src = input_view(name, "src", src, device);
    require_same_shape(name, args.src, "src", args.dst, "dst");
    if (op != FATHOM_UNARY_COPY) {
        require_float(name, args.src, "src");
        require_same_dtype(name, args.dst, "dst", args.src, "src");
    }
    return args;
}

BinaryArgs check_binary(int32_t op, const fathom_tensor_desc* a, const fathom_tensor_desc* b,
                        const fathom_tensor_desc* dst, int32_t device) {
    if (!binary_op_name(op)) fail(FATHOM_INVALID_ARGUMENT, "binary: unknown op ", op);
    BinaryArgs args;
    args.name = std::string("binary(") + binary_op_name(op) + ")";
    const char* name = args.name.c_str();
    args.a = input_view(name, "a", a, device);
    args.b = input_view(name, "b", b, device);
    args.dst = output_view(name, "dst", dst, device);
    require_same_shape(name, args.a, "a", args.dst, "dst");
    require_same_shape(name, args.b, "b", args.dst, "dst");
    require_float(name, args.a, "a");
    require_same_dtype(name, args.b, "b", args.a, "a");
    if (!(is_comparison(op) && args.dst.dtype == FATHOM_BOOL))
        require_same_dtype(name, args.dst, "dst", args.a, "a");
    return args;
}

WhereArgs check_where(const fathom_tensor_desc* cond, const fathom_tensor_desc* a,
                      const fathom_tensor_desc* b, const fathom_tensor_desc* dst) {
    const char* name = "where";
    WhereArgs args;
    args.cond = input_view(name, "cond", cond);
    args.a = input_view(name, "a", a);
    args.b = input_view(name, "b", b);
    args.dst = output_view(name, "dst", dst);
    require_same_shape(name, args.cond, "cond", args.dst, "dst");
    require_same_shape(name, args.a, "a", args.dst, "dst");
    require_same_shape(name, args.b, "b", args.dst, "dst");
    require_dtype(name, args.cond, "cond", FATHOM_BOOL);
    require_same_dtype(name, args.a, "a", args.dst, "dst");
    require_same_dtype(name, args.b, "b", args.dst, "dst");
    return args;
}

// --- kernels -------------------------------------------------------------------

void unary_forward(int32_t op, const TensorView& src, const TensorView& dst, double alpha,
                   double beta) {
    ThreadGrant grant(elementwise_work(dst.numel(), is_costly_unary(op)));
    const int threads = grant.threads();
    if (op == FATHOM_UNARY_FILL || op == FATHOM_UNARY_RANGE) {
        // RANGE numbers elements in dst's row-major order, so keep that order.
        const StridedLoop loop = make_loop({&dst}, op == FATHOM_UNARY_RANGE);
        with_dtype(dst.dtype, [&](auto d) {
            using D = decltype(d);
            if (op == FATHOM_UNARY_FILL) {
                const D v = cast_value<D>(alpha);
                run_loop(loop, threads, [&](int64_t, int64_t n, char* const* p, const int64_t* s) {
                    fill_run<D>(n, p, s, [v](int64_t) { return v; });
                });
            } else {
                run_loop(loop, threads,
                         [&](int64_t first, int64_t n, char* const* p, const int64_t* s) {
                             fill_run<D>(n, p, s, [&](int64_t i) {
                                 const double index = static_cast<double>(first + i);
                                 return cast_value<D>(alpha + index * beta);
                             });
                         });
            }
        });
        return;
    }
    const StridedLoop loop = make_loop({&dst, &src}, false);
    if (op == FATHOM_UNARY_COPY) {
        with_dtype(src.dtype, [&](auto s_tag) {
            with_dtype(dst.dtype, [&](auto d_tag) {
                using S = decltype(s_tag);
                using D = decltype(d_tag);
                run_loop(loop, threads, [](int64_t, int64_t n, char* const* p, const int64_t* s) {
                    map1_run<D, S>(n, p, s, [](S x) { return cast_value<D>(x); });
                });
            });
        });
        return;
    }
    with_unary_op(op, [&](auto op_tag) {
        constexpr int Op = decltype(op_tag)::value;
        with_float_dtype(dst.dtype, [&](auto t) {
            using T = decltype(t);
            const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
            run_loop(loop, threads, [a, b](int64_t, int64_t n, char* const* p, const int64_t* s) {
                map1_run<T, T>(n, p, s, [a, b](T x) { return unary_value<Op, T>(x, a, b); });
            });
        });
    });
}

void binary_forward(int32_t op, const TensorView& a, const TensorView& b, const TensorView& dst) {
    ThreadGrant grant(elementwise_work(dst.numel(), is_costly_binary(op)));
    const StridedLoop loop = make_loop({&dst, &a, &b}, false);
    with_binary_op(op, [&](auto op_tag) {
        // A type, not a constexpr int: the nested capture-less lambdas can name it.
        using OpTag = decltype(op_tag);
        with_float_dtype(a.dtype, [&](auto t) {
            using T = decltype(t);
            auto run = [&](auto d_tag) {
                using D = decltype(d_tag);
                run_loop(loop, grant.threads(),
                         [](int64_t, int64_t n, char* const* p, const int64_t* s) {
                             map2_run<D, T>(n, p, s, [](T x, T y) {
                                 return static_cast<D>(binary_value<OpTag::value, T>(x, y));
                             });
                         });
            };
            if constexpr (is_comparison(OpTag::value)) {
                if (dst.dtype == FATHOM_BOOL) return run(uint8_t{});
            }
            run(T{});
        });
    });
}

void where_forward(const TensorView& cond, const TensorView& a, const TensorView& b,
                   const TensorView& dst) {
    ThreadGrant grant(elementwise_work(dst.numel()));
    const StridedLoop loop = make_loop({&dst, &cond, &a, &b}, false);
    with_dtype(dst.dtype, [&](auto t) {
        using T = decltype(t);
        run_loop(loop, grant.threads(), [](int64_t, int64_t n, char* const* p, const int64_t* s) {
            where_run<T>(n, p, s);
        });
    });
}

}  // namespace fathom
