// Test tensors for the tensor-op suites: owned storage plus a
// fathom_tensor_desc viewing it in one of several layouts (dense, transposed,
// padded, broadcast, flipped), random contents, bitwise clones, comparison of
// whole storages (so writes into padding are caught too) and repro lines.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom_test {

enum class Layout {
    Dense,       // row-major
    Transposed,  // memory in reversed dim order (column-major for 2-D)
    Padded,      // row-major with a gap after every row and element stride 2
    RowBcast,    // dim 0 has stride 0 (one row, repeated)
    ColBcast,    // the last dim has stride 0
    EvenBcast,   // every even dim has stride 0 (a (3,1,5)-style broadcast for 3-D)
    Scalar,      // every dim has stride 0
    Flipped,     // row-major, last dim walked backwards (negative stride)
};

inline const char* layout_name(Layout l) {
    switch (l) {
        case Layout::Dense: return "dense";
        case Layout::Transposed: return "transposed";
        case Layout::Padded: return "padded";
        case Layout::RowBcast: return "rowbcast";
        case Layout::ColBcast: return "colbcast";
        case Layout::EvenBcast: return "evenbcast";
        case Layout::Scalar: return "scalar";
        case Layout::Flipped: return "flipped";
    }
    return "?";
}

inline std::string describe(const fathom_tensor_desc& d) {
    std::ostringstream os;
    os << fathom::dtype_name(d.dtype) << " " << fathom::shape_str(d.shape, d.ndim) << " strides "
       << fathom::shape_str(d.strides, d.ndim);
    return os.str();
}

class TestTensor {
public:
    TestTensor() = default;
    TestTensor(fathom_dtype dtype, const std::vector<int64_t>& shape,
               const std::vector<int64_t>& strides) {
        desc_.dtype = dtype;
        desc_.ndim = static_cast<int32_t>(shape.size());
        int64_t lo = 0, hi = 0;
        bool empty = false;
        for (size_t d = 0; d < shape.size(); ++d) {
            desc_.shape[d] = shape[d];
            desc_.strides[d] = strides[d];
            if (shape[d] == 0) empty = true;
            const int64_t reach = (shape[d] - 1) * strides[d];
            (reach < 0 ? lo : hi) += shape[d] > 0 ? reach : 0;
        }
        elements_ = empty ? 0 : hi - lo + 1;
        storage_.assign(static_cast<size_t>(elements_ * itemsize() / 8 + 1), 0);
        origin_ = -lo;
        rebase();
    }

    TestTensor(const TestTensor& o)
        : desc_(o.desc_), storage_(o.storage_), elements_(o.elements_), origin_(o.origin_) {
        rebase();
    }
    TestTensor& operator=(const TestTensor& o) {
        desc_ = o.desc_;
        storage_ = o.storage_;
        elements_ = o.elements_;
        origin_ = o.origin_;
        rebase();
        return *this;
    }

    const fathom_tensor_desc* desc() const { return &desc_; }
    fathom::TensorView view() const { return fathom::to_view(desc_); }
    fathom_dtype dtype() const { return static_cast<fathom_dtype>(desc_.dtype); }
    size_t itemsize() const { return fathom::dtype_size(dtype()); }
    int64_t storage_elements() const { return elements_; }
    std::string str() const { return describe(desc_); }
    // The whole storage (padding included) and where element (0,...,0) sits
    // in it: what a copy to another device's memory must carry.
    const void* storage_data() const { return base(); }
    void* storage_data() { return base(); }
    int64_t storage_bytes() const { return elements_ * static_cast<int64_t>(itemsize()); }
    int64_t origin_bytes() const { return origin_ * static_cast<int64_t>(itemsize()); }

    // Element k of the underlying storage (not of the view), as a double.
    double storage_at(int64_t k) const { return read(base() + k * itemsize()); }
    void set_storage(int64_t k, double v) { write(base() + k * itemsize(), v); }
    double at(const std::vector<int64_t>& index) const {
        return read(reinterpret_cast<const char*>(desc_.data) + offset(index) * itemsize());
    }
    void set(const std::vector<int64_t>& index, double v) {
        write(reinterpret_cast<char*>(desc_.data) + offset(index) * itemsize(), v);
    }

    // Fills all of storage (padding too) with values in [lo, hi) (ints rounded,
    // bools 0/1).
    void randomize(uint32_t seed, double lo = -1.0, double hi = 1.0) {
        std::mt19937 gen(seed);
        std::uniform_real_distribution<double> dist(lo, hi);
        for (int64_t k = 0; k < elements_; ++k) {
            double v = dist(gen);
            if (dtype() == FATHOM_BOOL) v = v > (lo + hi) / 2 ? 1 : 0;
            set_storage(k, v);
        }
    }

private:
    const char* base() const { return reinterpret_cast<const char*>(storage_.data()); }
    char* base() { return reinterpret_cast<char*>(storage_.data()); }
    void rebase() {
        desc_.data = static_cast<int64_t>(
            reinterpret_cast<intptr_t>(base() + origin_ * static_cast<int64_t>(itemsize())));
    }
    int64_t offset(const std::vector<int64_t>& index) const {
        int64_t off = 0;
        for (size_t d = 0; d < index.size(); ++d) off += index[d] * desc_.strides[d];
        return off;
    }
    double read(const char* p) const {
        switch (dtype()) {
            case FATHOM_F32: { float v; std::memcpy(&v, p, 4); return v; }
            case FATHOM_F64: { double v; std::memcpy(&v, p, 8); return v; }
            case FATHOM_I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
            case FATHOM_I64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
            default: return static_cast<unsigned char>(*p);
        }
    }
    void write(char* p, double v) const {
        switch (dtype()) {
            case FATHOM_F32: { float x = static_cast<float>(v); std::memcpy(p, &x, 4); break; }
            case FATHOM_F64: std::memcpy(p, &v, 8); break;
            case FATHOM_I32: { int32_t x = std::lround(v); std::memcpy(p, &x, 4); break; }
            case FATHOM_I64: { int64_t x = std::llround(v); std::memcpy(p, &x, 8); break; }
            default: *p = v != 0 ? 1 : 0;
        }
    }

    fathom_tensor_desc desc_{};
    std::vector<uint64_t> storage_;
    int64_t elements_ = 0;
    int64_t origin_ = 0;  // storage element of index (0,...,0)
};

inline TestTensor make_tensor(fathom_dtype dtype, const std::vector<int64_t>& shape,
                              Layout layout = Layout::Dense) {
    const int nd = static_cast<int>(shape.size());
    std::vector<int64_t> strides(shape.size(), 0);
    auto broadcast = [&](int d) {
        switch (layout) {
            case Layout::RowBcast: return d == 0;
            case Layout::ColBcast: return d == nd - 1;
            case Layout::EvenBcast: return d % 2 == 0;
            case Layout::Scalar: return true;
            default: return false;
        }
    };
    int64_t step = layout == Layout::Padded ? 2 : 1;
    if (layout == Layout::Transposed) {
        for (int d = 0; d < nd; ++d) {
            strides[d] = step;
            step *= std::max<int64_t>(1, shape[d]);
        }
    } else {
        for (int d = nd - 1; d >= 0; --d) {
            if (broadcast(d)) continue;
            strides[d] = step;
            step *= std::max<int64_t>(1, shape[d]) + (layout == Layout::Padded ? 1 : 0);
        }
        if (layout == Layout::Flipped && nd > 0) strides[nd - 1] = -strides[nd - 1];
    }
    return TestTensor(dtype, shape, strides);
}

inline double eps_of(fathom_dtype dtype) { return dtype == FATHOM_F32 ? FLT_EPSILON : DBL_EPSILON; }

// First storage element where got and want differ by more than
// tol * max(|want|, floor) (NaN equals NaN), as text; "" if none.
inline std::string storage_mismatch(const TestTensor& got, const TestTensor& want, double tol,
                                    double floor = 0.0) {
    for (int64_t k = 0; k < want.storage_elements(); ++k) {
        const double g = got.storage_at(k), w = want.storage_at(k);
        if (std::isnan(g) && std::isnan(w)) continue;
        if (g == w) continue;
        if (std::fabs(g - w) <= tol * std::max(std::fabs(w), floor)) continue;
        std::ostringstream os;
        os.precision(17);
        os << "storage element " << k << ": got " << g << " want " << w;
        return os.str();
    }
    return "";
}

}  // namespace fathom_test
