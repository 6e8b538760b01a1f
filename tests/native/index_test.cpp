// index_select / index_add / gather / scatter_add: fast kernels against the
// reference kernels for every dtype and dim, duplicates included, and the
// range checks (which must leave dst untouched).
#include <gtest/gtest.h>

#include <random>

#include "ops/index.h"
#include "tensor_util.h"

using namespace fathom_test;

namespace {

const fathom_dtype kAll[] = {FATHOM_F32, FATHOM_F64, FATHOM_I32, FATHOM_I64, FATHOM_BOOL};

// Random indices in [0, size) into every element of index's storage.
void random_indices(TestTensor& index, int64_t size, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(0, size - 1));
    for (int64_t k = 0; k < index.storage_elements(); ++k)
        index.set_storage(k, static_cast<double>(dist(gen)));
}

struct IndexCase {
    std::vector<int64_t> shape;  // the indexed tensor
    int dim;
    int64_t count;  // index entries along dim
    Layout layout;
};

std::vector<IndexCase> index_cases() {
    std::vector<IndexCase> out;
    for (Layout l : {Layout::Dense, Layout::Transposed, Layout::Padded, Layout::Flipped}) {
        for (int dim = 0; dim < 3; ++dim) {
            out.push_back({{5, 7, 3}, dim, 4, l});
            out.push_back({{5, 7, 3}, dim, 11, l});  // more entries than size: duplicates
            out.push_back({{5, 7, 3}, dim, 0, l});
        }
        out.push_back({{9}, 0, 6, l});
        out.push_back({{1, 1}, 1, 3, l});
        out.push_back({{4, 0}, 0, 2, l});
    }
    // Two threads from 2 * 262144 moved elements: an embedding lookup, a column pick.
    out.push_back({{1000, 128}, 0, 5000, Layout::Dense});
    out.push_back({{2000, 300}, 1, 300, Layout::Transposed});
    return out;
}

std::string repro(const char* op, const IndexCase& c, const TestTensor& src,
                  const TestTensor& index, const TestTensor& dst, uint32_t seed) {
    std::ostringstream os;
    os << "repro: " << op << " dim=" << c.dim << " src=" << src.str() << " index=" << index.str()
       << " dst=" << dst.str() << " (" << layout_name(c.layout) << ") seed=" << seed;
    return os.str();
}

std::vector<int64_t> with_size(std::vector<int64_t> shape, int dim, int64_t size) {
    shape[dim] = size;
    return shape;
}

TEST(IndexSelect, matchesReference) {
    uint32_t seed = 3000;
    for (fathom_dtype dt : kAll)
        for (const IndexCase& c : index_cases()) {
            if (c.shape[c.dim] == 0 && c.count > 0) continue;
            ++seed;
            TestTensor src = make_tensor(dt, c.shape, c.layout);
            src.randomize(seed, -9, 9);
            TestTensor index = make_tensor(FATHOM_I64, {c.count}, Layout::Padded);
            random_indices(index, c.shape[c.dim], seed);
            TestTensor fast = make_tensor(dt, with_size(c.shape, c.dim, c.count), c.layout);
            TestTensor ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_index_select(src.desc(), c.dim, index.desc(), fast.desc()))
                << fathom_last_error() << "\n" << repro("index_select", c, src, index, fast, seed);
            fathom::IndexArgs args{src.view(), ref.view(), index.view(), c.dim};
            fathom::index_select_forward_ref(args);
            ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                << repro("index_select", c, src, index, fast, seed);
        }
}

TEST(IndexAdd, matchesReferenceWithDuplicates) {
    uint32_t seed = 4000;
    for (fathom_dtype dt : kAll)
        for (const IndexCase& c : index_cases()) {
            if (c.shape[c.dim] == 0 && c.count > 0) continue;
            ++seed;
            TestTensor src = make_tensor(dt, with_size(c.shape, c.dim, c.count), c.layout);
            src.randomize(seed, -9, 9);
            TestTensor index = make_tensor(FATHOM_I64, {c.count}, Layout::Flipped);
            random_indices(index, c.shape[c.dim], seed);
            TestTensor fast = make_tensor(dt, c.shape, c.layout);
            fast.randomize(seed + 1, -9, 9);
            TestTensor ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_index_add(fast.desc(), c.dim, index.desc(), src.desc()))
                << fathom_last_error() << "\n" << repro("index_add", c, src, index, fast, seed);
            fathom::IndexArgs args{src.view(), ref.view(), index.view(), c.dim};
            fathom::index_add_forward_ref(args);
            ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                << repro("index_add", c, src, index, fast, seed);
        }
}

TEST(Gather, matchesReference) {
    uint32_t seed = 5000;
    for (fathom_dtype dt : kAll)
        for (const IndexCase& c : index_cases()) {
            if (c.shape[c.dim] == 0 && c.count > 0) continue;
            ++seed;
            TestTensor src = make_tensor(dt, c.shape, c.layout);
            src.randomize(seed, -9, 9);
            // dst and index: count along dim, and smaller than src in dim 0 when possible.
            std::vector<int64_t> out_shape = with_size(c.shape, c.dim, c.count);
            if (c.dim != 0 && out_shape[0] > 1) --out_shape[0];
            TestTensor index = make_tensor(FATHOM_I64, out_shape, Layout::Transposed);
            random_indices(index, c.shape[c.dim], seed);
            TestTensor fast = make_tensor(dt, out_shape, Layout::Padded);
            TestTensor ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_gather(src.desc(), c.dim, index.desc(), fast.desc()))
                << fathom_last_error() << "\n" << repro("gather", c, src, index, fast, seed);
            fathom::IndexArgs args{src.view(), ref.view(), index.view(), c.dim};
            fathom::gather_forward_ref(args);
            ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                << repro("gather", c, src, index, fast, seed);
        }
}

TEST(ScatterAdd, matchesReferenceWithDuplicates) {
    uint32_t seed = 6000;
    for (fathom_dtype dt : kAll)
        for (const IndexCase& c : index_cases()) {
            if (c.shape[c.dim] == 0 && c.count > 0) continue;
            ++seed;
            std::vector<int64_t> src_shape = with_size(c.shape, c.dim, c.count);
            if (c.dim != 0 && src_shape[0] > 1) --src_shape[0];
            TestTensor src = make_tensor(dt, src_shape, Layout::Transposed);
            src.randomize(seed, -9, 9);
            TestTensor index = make_tensor(FATHOM_I64, src_shape, c.layout);
            random_indices(index, c.shape[c.dim], seed);
            TestTensor fast = make_tensor(dt, c.shape, c.layout);
            fast.randomize(seed + 1, -9, 9);
            TestTensor ref = fast;
            ASSERT_EQ(FATHOM_OK, fathom_scatter_add(fast.desc(), c.dim, index.desc(), src.desc()))
                << fathom_last_error() << "\n" << repro("scatter_add", c, src, index, fast, seed);
            fathom::IndexArgs args{src.view(), ref.view(), index.view(), c.dim};
            fathom::scatter_add_forward_ref(args);
            ASSERT_EQ("", storage_mismatch(fast, ref, 0))
                << repro("scatter_add", c, src, index, fast, seed);
        }
}

TEST(IndexSemantics, handComputed) {
    // src (2,3) = [[0,1,2],[3,4,5]]; select columns {2,0,2}.
    TestTensor src = make_tensor(FATHOM_F32, {2, 3});
    for (int64_t i = 0; i < 6; ++i) src.set({i / 3, i % 3}, static_cast<double>(i));
    TestTensor index = make_tensor(FATHOM_I64, {3});
    index.set({0}, 2), index.set({1}, 0), index.set({2}, 2);
    TestTensor dst = make_tensor(FATHOM_F32, {2, 3});
    ASSERT_EQ(FATHOM_OK, fathom_index_select(src.desc(), 1, index.desc(), dst.desc()));
    EXPECT_EQ(2.0, dst.at({0, 0}));
    EXPECT_EQ(0.0, dst.at({0, 1}));
    EXPECT_EQ(5.0, dst.at({1, 2}));
    // index_add back: column 2 receives two columns, column 1 none.
    TestTensor acc = make_tensor(FATHOM_F32, {2, 3});
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_FILL, nullptr, acc.desc(), 0, 0));
    ASSERT_EQ(FATHOM_OK, fathom_index_add(acc.desc(), 1, index.desc(), dst.desc()));
    EXPECT_EQ(4.0, acc.at({0, 2}));  // 2 + 2
    EXPECT_EQ(0.0, acc.at({0, 1}));
    EXPECT_EQ(3.0, acc.at({1, 0}));
    // gather along dim 1 with a (2,1) index: picks one column per row (cross-entropy style).
    TestTensor pick = make_tensor(FATHOM_I64, {2, 1}), picked = make_tensor(FATHOM_F32, {2, 1});
    pick.set({0, 0}, 1), pick.set({1, 0}, 2);
    ASSERT_EQ(FATHOM_OK, fathom_gather(src.desc(), 1, pick.desc(), picked.desc()));
    EXPECT_EQ(1.0, picked.at({0, 0}));
    EXPECT_EQ(5.0, picked.at({1, 0}));
}

TEST(IndexSemantics, outOfRangeIndexIsRefusedBeforeWriting) {
    TestTensor src = make_tensor(FATHOM_F32, {2, 5}), dst = make_tensor(FATHOM_F32, {2, 2});
    src.randomize(1);
    ASSERT_EQ(FATHOM_OK, fathom_unary(FATHOM_UNARY_FILL, nullptr, dst.desc(), 42, 0));
    TestTensor index = make_tensor(FATHOM_I64, {2});
    index.set({0}, 1), index.set({1}, 7);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT,
              fathom_index_select(src.desc(), 1, index.desc(), dst.desc()));
    std::string msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("index_select: index 7 out of range for dim 1 of size 5"))
        << msg;
    EXPECT_NE(std::string::npos, msg.find("[2,5]")) << msg;
    EXPECT_EQ(42.0, dst.at({0, 0}));
    index.set({1}, -1);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_index_add(src.desc(), 1, index.desc(), dst.desc()));
    msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("index_add: index -1 out of range for dim 1 of size 5"))
        << msg;
    TestTensor gidx = make_tensor(FATHOM_I64, {2, 2});
    gidx.set({1, 1}, 2);
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_gather(src.desc(), 0, gidx.desc(), dst.desc()));
    msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("gather: index 2 out of range for dim 0 of size 2"))
        << msg;
    EXPECT_EQ(FATHOM_INVALID_ARGUMENT, fathom_scatter_add(dst.desc(), 0, gidx.desc(), dst.desc()));
    msg = fathom_last_error();
    EXPECT_NE(std::string::npos, msg.find("scatter_add: index 2 out of range for dim 0 of size 2"))
        << msg;
    EXPECT_EQ(42.0, dst.at({1, 1}));
}

}  // namespace
