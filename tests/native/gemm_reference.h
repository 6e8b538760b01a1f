// Shared test helpers: random matrices and the f64 reference oracle with an
// error bound that a correct f32 GEMM always meets and a wrong one does not.
#pragma once

#include <cfloat>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fathom/fathom.h"

namespace fathom_test {

struct GemmCase {
    std::string name;
    fathom_gemm_params p;
};

inline fathom_gemm_params make_params(int64_t m, int64_t n, int64_t k, bool ta = false,
                                      bool tb = false, float alpha = 1.0f, float beta = 0.0f,
                                      int64_t batch = 1, int64_t pad = 0) {
    fathom_gemm_params p{};
    p.trans_a = ta;
    p.trans_b = tb;
    p.m = m;
    p.n = n;
    p.k = k;
    p.alpha = alpha;
    p.beta = beta;
    p.lda = (ta ? m : k) + pad;
    p.ldb = (tb ? k : n) + pad;
    p.ldc = n + pad;
    p.batch = batch;
    p.stride_a = (ta ? k : m) * p.lda + pad;
    p.stride_b = (tb ? n : k) * p.ldb + pad;
    p.stride_c = m * p.ldc + pad;
    return p;
}

inline int64_t len_a(const fathom_gemm_params& p) {
    int64_t rows = p.trans_a ? p.k : p.m;
    return p.batch == 0 || rows == 0 ? 0 : (p.batch - 1) * p.stride_a + rows * p.lda;
}
inline int64_t len_b(const fathom_gemm_params& p) {
    int64_t rows = p.trans_b ? p.n : p.k;
    return p.batch == 0 || rows == 0 ? 0 : (p.batch - 1) * p.stride_b + rows * p.ldb;
}
inline int64_t len_c(const fathom_gemm_params& p) {
    return p.batch == 0 || p.m == 0 ? 0 : (p.batch - 1) * p.stride_c + p.m * p.ldc;
}

inline std::vector<float> random_vector(int64_t n, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(gen);
    return v;
}

inline std::string repro(const std::string& backend, const fathom_gemm_params& p, uint32_t seed) {
    std::ostringstream os;
    os << "repro: backend=" << backend << " m=" << p.m << " n=" << p.n << " k=" << p.k
       << " ta=" << p.trans_a << " tb=" << p.trans_b << " alpha=" << p.alpha << " beta=" << p.beta
       << " batch=" << p.batch << " lda=" << p.lda << " ldb=" << p.ldb << " ldc=" << p.ldc
       << " sa=" << p.stride_a << " sb=" << p.stride_b << " sc=" << p.stride_c << " seed=" << seed;
    return os.str();
}

// Reference result in f64 plus a per-element bound:
// |c - ref| <= 2 (k + 2) eps (|alpha| sum|a||b| + |beta||c0|) + tiny.
struct Oracle {
    std::vector<double> expected, bound;
};

inline Oracle reference(const fathom_gemm_params& p, const std::vector<float>& a,
                        const std::vector<float>& b, const std::vector<float>& c0) {
    std::vector<double> da(a.begin(), a.end()), db(b.begin(), b.end()), dc(c0.begin(), c0.end());
    std::vector<double> aa(da), ab(db), ac(dc);
    for (auto& x : aa) x = std::fabs(x);
    for (auto& x : ab) x = std::fabs(x);
    for (auto& x : ac) x = std::fabs(x);
    fathom_gemm_params q = p;
    q.alpha = std::fabs(p.alpha);
    q.beta = std::fabs(p.beta);
    Oracle o{dc, ac};
    fathom_dgemm_reference(&p, da.data(), da.size(), db.data(), db.size(), o.expected.data(),
                           o.expected.size());
    fathom_dgemm_reference(&q, aa.data(), aa.size(), ab.data(), ab.size(), o.bound.data(),
                           o.bound.size());
    for (auto& x : o.bound) x = 2.0 * (p.k + 2) * FLT_EPSILON * x + 1e-30;
    return o;
}

}  // namespace fathom_test
