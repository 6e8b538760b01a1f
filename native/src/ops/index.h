// Indexing along one dimension: fathom_index_select, fathom_index_add,
// fathom_gather, fathom_scatter_add. Index tensors are I64; every index is
// checked against the indexed dimension before anything is written, so an
// error leaves dst untouched. Each pair is the other's backward:
// index_select <-> index_add, gather <-> scatter_add (wired in Java).
// The accumulating ops visit duplicate indices in increasing source order, so
// results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "core/tensor_desc.h"
#include "fathom/fathom.h"

namespace fathom {

// dst += src for index_add and scatter_add; on BOOL it is a logical or.
template <typename T>
inline void add_into(T& dst, T src) {
    if constexpr (std::is_same_v<T, uint8_t>) dst = (dst | src) != 0;
    else dst += src;
}

struct IndexArgs {
    TensorView src, dst, index;
    int dim = 0;
};

// src (.., S, ..), index (L) -> dst (.., L, ..); src and dst share a dtype (any).
IndexArgs check_index_select(const fathom_tensor_desc* src, int32_t dim,
                             const fathom_tensor_desc* index, const fathom_tensor_desc* dst);
// dst (.., S, ..) in/out, index (L), src (.., L, ..).
IndexArgs check_index_add(const fathom_tensor_desc* dst, int32_t dim,
                          const fathom_tensor_desc* index, const fathom_tensor_desc* src);
// src (S0..), index = dst shape (D0..), D[d] <= S[d] for d != dim (as torch.gather).
IndexArgs check_gather(const fathom_tensor_desc* src, int32_t dim, const fathom_tensor_desc* index,
                       const fathom_tensor_desc* dst);
// dst (D0..) in/out, index = src shape (S0..), S[d] <= D[d] for d != dim.
IndexArgs check_scatter_add(const fathom_tensor_desc* dst, int32_t dim,
                            const fathom_tensor_desc* index, const fathom_tensor_desc* src);

void index_select_forward_ref(const IndexArgs& args);
void index_select_forward(const IndexArgs& args);
void index_add_forward_ref(const IndexArgs& args);
void index_add_forward(const IndexArgs& args);
void gather_forward_ref(const IndexArgs& args);
void gather_forward(const IndexArgs& args);
void scatter_add_forward_ref(const IndexArgs& args);
void scatter_add_forward(const IndexArgs& args);

}  // namespace fathom
