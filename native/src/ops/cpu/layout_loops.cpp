// NCHW <-> nChw16c copies by hand, for builds without oneDNN (ops/layout.h);
// no other dependency, so the layout tests compile it in and compare it with
// oneDNN's reorder.
#include <cstdint>

#include "ops/layout.h"

namespace fathom {

namespace {

// nChw16c <-> NCHW by hand: one (n, c/16) block, a 16 x S tile, per iteration.
template <typename T>
void convert(const T* src, bool to_plain, T* dst, int64_t n_count, int64_t c_count,
             int64_t s_count, int threads) {
    const int64_t blocks = n_count * (c_count / 16);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int64_t b = 0; b < blocks; ++b) {
        const T* in = src + b * 16 * s_count;
        T* out = dst + b * 16 * s_count;
        for (int64_t l = 0; l < 16; ++l)
            for (int64_t s = 0; s < s_count; ++s) {
                if (to_plain)
                    out[l * s_count + s] = in[s * 16 + l];
                else
                    out[s * 16 + l] = in[l * s_count + s];
            }
    }
}

}  // namespace

// Elements are moved as bits, so every dtype of the same size shares a copy.
void convert_layout_bytes(const void* src, int32_t src_layout, void* dst, size_t itemsize,
                          int64_t n, int64_t c, int64_t s, int threads) {
    const bool to_plain = src_layout == FATHOM_LAYOUT_NCHW16C;
    switch (itemsize) {
        case 1:
            convert(static_cast<const uint8_t*>(src), to_plain, static_cast<uint8_t*>(dst), n, c,
                    s, threads);
            break;
        case 4:
            convert(static_cast<const uint32_t*>(src), to_plain, static_cast<uint32_t*>(dst), n,
                    c, s, threads);
            break;
        default:
            convert(static_cast<const uint64_t*>(src), to_plain, static_cast<uint64_t*>(dst), n,
                    c, s, threads);
            break;
    }
}

void convert_layout_loops(const float* src, int32_t src_layout, float* dst, int64_t n,
                          int64_t c, int64_t s, int threads) {
    convert_layout_bytes(src, src_layout, dst, sizeof(float), n, c, s, threads);
}

}  // namespace fathom
