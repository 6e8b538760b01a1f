// Device codes (fathom_device | ordinal << 8, see fathom.h) and the memory
// entry points behind fathom_device_*: host codes go to the host allocator,
// CUDA codes to the CUDA backend (cuda/device_memory.cu) or, in a CPU build,
// to its stub, which refuses them. Kernels never allocate through this.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include "core/error.h"
#include "fathom/fathom.h"

namespace fathom {

constexpr int32_t device_type(int32_t code) { return code & 0xff; }
constexpr int32_t device_ordinal(int32_t code) { return code >> 8; }
constexpr int32_t device_code(int32_t type, int32_t ordinal) { return type | (ordinal << 8); }

// "cpu", "cuda:1"; "device 0x205" for a code of no known type. Inline: the
// descriptor checks (core/tensor_desc.cpp, which some test suites compile in)
// name devices in their messages.
inline std::string device_name(int32_t code) {
    std::ostringstream os;
    if (code == FATHOM_DEVICE_CPU) {
        os << "cpu";
    } else if (device_type(code) == FATHOM_DEVICE_CUDA && device_ordinal(code) >= 0) {
        os << "cuda:" << device_ordinal(code);
    } else {
        os << "device 0x" << std::hex << code;
    }
    return os.str();
}

// Fails with FATHOM_INVALID_ARGUMENT ("<op>: unknown device 0x205") unless
// code names a known type with ordinal 0 for the CPU, >= 0 for CUDA.
inline void require_known_device(const char* op, int32_t code) {
    if (code == FATHOM_DEVICE_CPU) return;
    if (device_type(code) == FATHOM_DEVICE_CUDA && device_ordinal(code) >= 0) return;
    fail(FATHOM_INVALID_ARGUMENT, op, ": unknown ", device_name(code));
}

// The ordinal of CUDA code `code` once the build has the backend and the GPU
// exists; FATHOM_UNSUPPORTED ("<op>: cuda:0 is not available (...)") or
// FATHOM_INVALID_ARGUMENT ("<op>: cuda:3 does not exist (2 CUDA devices)").
int require_cuda_device(const char* op, int32_t code);

int32_t device_count(int32_t type);
void* device_alloc(int32_t code, int64_t bytes);
void device_free(int32_t code, void* block);
void device_copy(int32_t dst_code, void* dst, int32_t src_code, const void* src, int64_t bytes);
int64_t device_live_bytes(int32_t code);
int64_t device_cached_bytes(int32_t code);

// The CUDA backend's half, implemented by cuda/device_memory.cu or, without
// -DFATHOM_CUDA=ON, by cuda/device_stub.cpp. Ordinals are checked by the caller
// against cuda_device_count().
int cuda_device_count();
void* cuda_alloc(int ordinal, int64_t bytes);
void cuda_free(int ordinal, void* block);
// One side may be the host (ordinal -1 there); both may be GPUs.
void cuda_copy(int dst_ordinal, void* dst, int src_ordinal, const void* src, int64_t bytes);
int64_t cuda_live_bytes(int ordinal);
int64_t cuda_cached_bytes(int ordinal);

}  // namespace fathom
