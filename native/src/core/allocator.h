// Tensor storage for fathom_alloc / fathom_free: 64-byte aligned blocks and a
// process-wide count of live bytes, which Java's leak checks compare against a
// baseline. Kernels never allocate through this; it backs Java's storages only.
#pragma once

#include <cstdint>

namespace fathom {

// Returns a 64-byte aligned, uninitialised block of `bytes` (>= 0) bytes; a
// unique non-null address even for 0. Throws FATHOM_OUT_OF_MEMORY on failure,
// including a request that would pass the memory limit.
void* tensor_alloc(int64_t bytes);
// Frees a block from tensor_alloc (nullptr is a no-op). Throws
// FATHOM_INVALID_ARGUMENT when the block header is not one tensor_alloc wrote.
void tensor_free(void* block);
int64_t tensor_live_bytes();
// Bytes of freed large blocks kept for reuse (see allocator.cpp), not live.
int64_t tensor_cached_bytes();

// The cap on live plus cached block bytes (0 = unlimited; see
// fathom_set_memory_limit in fathom.h). Setting it evicts cached blocks down to
// the new limit where it can. Throws FATHOM_INVALID_ARGUMENT when bytes < 0.
void set_tensor_memory_limit(int64_t bytes);
int64_t tensor_memory_limit();

}  // namespace fathom
