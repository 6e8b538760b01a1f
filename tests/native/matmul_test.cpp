// fathom_matmul against the reference triple loop: transposed and strided
// operands (no copy vs packed), transposed dst (temporary), stride-0 batch
// broadcasts, batches that do not merge, size-1 and size-0 dims, f32 and f64.
#include <gtest/gtest.h>

#include "ops/matmul.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

enum class Mat {
    Row,          // dense row-major
    Col,          // each matrix stored transposed
    Padded,       // both matrix strides > 1: must be packed
    Bcast,        // every batch dim has stride 0
    BcastInner,   // the last batch dim has stride 0 (batch dims do not merge)
    Interleaved,  // stored (rows, batch, cols): batch stride < matrix size
    OddUnit,      // size-1 matrix dims get strides 0 and 1000
};

const char* mat_name(Mat k) {
    switch (k) {
        case Mat::Row: return "row";
        case Mat::Col: return "col";
        case Mat::Padded: return "padded";
        case Mat::Bcast: return "bcast";
        case Mat::BcastInner: return "bcast_inner";
        case Mat::Interleaved: return "interleaved";
        case Mat::OddUnit: return "odd_unit";
    }
    return "?";
}

TestTensor mat_tensor(fathom_dtype dt, const std::vector<int64_t>& batch, int64_t rows,
                      int64_t cols, Mat kind) {
    std::vector<int64_t> shape = batch;
    shape.push_back(rows);
    shape.push_back(cols);
    const size_t nb = batch.size();
    std::vector<int64_t> strides(shape.size(), 0);
    int64_t sr = cols, sc = 1, size = rows * cols;
    if (kind == Mat::Col) sr = 1, sc = rows;
    if (kind == Mat::Padded) sc = 2, sr = 2 * cols + 3, size = rows * sr;
    if (kind == Mat::OddUnit) {  // a dim of size 1 never steps: any stride is legal
        sr = rows == 1 ? 1000 : (cols == 1 ? 1 : cols);
        sc = cols == 1 ? 0 : 1;
    }
    int64_t step = std::max<int64_t>(1, size);
    for (size_t d = nb; d-- > 0;) {
        const bool zero = kind == Mat::Bcast || (kind == Mat::BcastInner && d == nb - 1);
        strides[d] = zero ? 0 : step;
        if (!zero) step *= std::max<int64_t>(1, batch[d]);
    }
    if (kind == Mat::Interleaved && nb > 0) {
        // One batch dim, stored (rows, batch, cols).
        strides[nb - 1] = cols;
        sr = batch[nb - 1] * cols;
    }
    strides[nb] = sr;
    strides[nb + 1] = sc;
    return TestTensor(dt, shape, strides);
}

struct MatCase {
    std::vector<int64_t> batch;
    int64_t m, n, k;
    Mat a, b, dst;
};

std::vector<MatCase> mat_cases() {
    std::vector<MatCase> out;
    const Mat inputs[] = {Mat::Row, Mat::Col, Mat::Padded};
    for (Mat a : inputs)
        for (Mat b : inputs)
            for (Mat d : inputs) {
                out.push_back({{}, 17, 33, 65, a, b, d});
                out.push_back({{3}, 7, 6, 5, a, b, d});
            }
    for (Mat a : {Mat::Bcast, Mat::Interleaved, Mat::Row})
        for (Mat b : {Mat::Bcast, Mat::Interleaved, Mat::Col})
            for (Mat d : {Mat::Row, Mat::Interleaved}) out.push_back({{4}, 9, 10, 11, a, b, d});
    out.push_back({{2, 3}, 5, 4, 3, Mat::BcastInner, Mat::Row, Mat::Row});
    out.push_back({{2, 3}, 5, 4, 3, Mat::Col, Mat::BcastInner, Mat::Padded});
    out.push_back({{2, 1, 3}, 5, 4, 3, Mat::Row, Mat::Bcast, Mat::Row});
    for (Mat k : {Mat::Row, Mat::OddUnit}) {
        out.push_back({{}, 1, 1, 1, k, k, k});
        out.push_back({{2}, 1, 5, 3, k, k, k});
        out.push_back({{2}, 4, 1, 3, k, k, k});
        out.push_back({{2}, 4, 5, 1, k, k, k});
        out.push_back({{3}, 1, 1, 7, k, k, Mat::Row});
    }
    out.push_back({{2}, 4, 5, 0, Mat::Row, Mat::Row, Mat::Padded});  // k == 0: zeros
    out.push_back({{2}, 0, 5, 3, Mat::Row, Mat::Row, Mat::Row});
    out.push_back({{0}, 4, 5, 3, Mat::Row, Mat::Row, Mat::Row});
    out.push_back({{}, 128, 128, 128, Mat::Row, Mat::Col, Mat::Row});
    out.push_back({{4}, 64, 48, 80, Mat::Col, Mat::Bcast, Mat::Row});
    out.push_back({{4}, 64, 64, 64, Mat::Interleaved, Mat::Col, Mat::Row});  // oneDNN-sized
    return out;
}

std::string repro(const MatCase& c, const TestTensor& a, const TestTensor& b, const TestTensor& d) {
    std::ostringstream os;
    os << "repro: matmul m=" << c.m << " n=" << c.n << " k=" << c.k << " a=" << a.str() << " ("
       << mat_name(c.a) << ") b=" << b.str() << " (" << mat_name(c.b) << ") dst=" << d.str()
       << " (" << mat_name(c.dst) << ")";
    return os.str();
}

TEST(Matmul, matchesReference) {
    uint32_t seed = 7000;
    for (fathom_dtype dt : {FATHOM_F32, FATHOM_F64})
        for (const MatCase& c : mat_cases()) {
            ++seed;
            TestTensor a = mat_tensor(dt, c.batch, c.m, c.k, c.a);
            TestTensor b = mat_tensor(dt, c.batch, c.k, c.n, c.b);
            // dst must not broadcast: the broadcast kinds are for inputs only.
            TestTensor fast = mat_tensor(dt, c.batch, c.m, c.n, c.dst);
            a.randomize(seed);
            b.randomize(seed + 1);
            fast.randomize(seed + 2);
            TestTensor ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_matmul(a.desc(), b.desc(), fast.desc()))
                << fathom_last_error() << "\n" << repro(c, a, b, fast) << " seed=" << seed;
            fathom::matmul_forward_ref({a.view(), b.view(), ref.view()});
            // |error| <= 2 (k + 2) eps sum_q |a||b|, and |a|, |b| <= 1.
            const double tol = 2.0 * (c.k + 2) * eps_of(dt) * std::max<int64_t>(1, c.k);
            ASSERT_EQ("", storage_mismatch(fast, ref, tol, 1.0))
                << repro(c, a, b, fast) << " seed=" << seed;
        }
}

TEST(Matmul, badShapesAreRefusedWithTheShapes) {
    TestTensor a = make_tensor(FATHOM_F32, {2, 3}), b = make_tensor(FATHOM_F32, {4, 5});
    TestTensor d = make_tensor(FATHOM_F32, {2, 5});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_matmul(a.desc(), b.desc(), d.desc()));
    const std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("matmul: shapes a [2,3] @ b [4,5] -> dst [2,5]")) << msg;
    TestTensor v = make_tensor(FATHOM_F32, {3});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_matmul(v.desc(), v.desc(), v.desc()));
    TestTensor i = make_tensor(FATHOM_I32, {2, 2});
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_matmul(i.desc(), i.desc(), i.desc()));
    EXPECT_NE(std::string::npos,
              std::string(fathom_last_error()).find("matmul: dtype int32 not supported (a [2,2])"));
}

}  // namespace
