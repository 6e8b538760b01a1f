// Device codes and the dispatch of fathom_device_* between the host allocator
// and the CUDA backend; see core/device.h.
#include "core/device.h"

#include <cstring>

#include "core/allocator.h"
#include "core/error.h"
#include "fathom/fathom.h"

namespace fathom {

int require_cuda_device(const char* op, int32_t code) {
    require_known_device(op, code);
    const int count = cuda_device_count();
    if (count == 0)
        fail(FATHOM_UNSUPPORTED, op, ": ", device_name(code), " is not available (",
#ifdef FATHOM_WITH_CUDA
             "no CUDA device or driver found"
#else
             "Fathom was built without -DFATHOM_CUDA=ON"
#endif
             ")");
    const int ordinal = device_ordinal(code);
    if (ordinal >= count)
        fail(FATHOM_INVALID_ARGUMENT, op, ": ", device_name(code), " does not exist (", count,
             count == 1 ? " CUDA device)" : " CUDA devices)");
    return ordinal;
}

int32_t device_count(int32_t type) {
    if (type == FATHOM_DEVICE_CPU) return 1;
    if (type == FATHOM_DEVICE_CUDA) return cuda_device_count();
    fail(FATHOM_INVALID_ARGUMENT, "device_count: unknown device type ", type);
}

void* device_alloc(int32_t code, int64_t bytes) {
    if (bytes < 0)
        fail(FATHOM_INVALID_ARGUMENT, "device_alloc: negative size ", bytes, " on ",
             device_name(code));
    if (code == FATHOM_DEVICE_CPU) return tensor_alloc(bytes);
    return cuda_alloc(require_cuda_device("device_alloc", code), bytes);
}

void device_free(int32_t code, void* block) {
    if (code == FATHOM_DEVICE_CPU) return tensor_free(block);
    if (block == nullptr) return;
    cuda_free(require_cuda_device("device_free", code), block);
}

void device_copy(int32_t dst_code, void* dst, int32_t src_code, const void* src, int64_t bytes) {
    if (bytes < 0)
        fail(FATHOM_INVALID_ARGUMENT, "device_copy: negative size ", bytes, " (",
             device_name(src_code), " -> ", device_name(dst_code), ")");
    if (bytes == 0) return;
    if (dst == nullptr || src == nullptr)
        fail(FATHOM_INVALID_ARGUMENT, "device_copy: null ", dst == nullptr ? "dst" : "src",
             " for ", bytes, " bytes (", device_name(src_code), " -> ", device_name(dst_code), ")");
    if (dst_code == FATHOM_DEVICE_CPU && src_code == FATHOM_DEVICE_CPU) {
        std::memmove(dst, src, static_cast<size_t>(bytes));
        return;
    }
    const int dst_ordinal = dst_code == FATHOM_DEVICE_CPU ? -1 : require_cuda_device("device_copy", dst_code);
    const int src_ordinal = src_code == FATHOM_DEVICE_CPU ? -1 : require_cuda_device("device_copy", src_code);
    cuda_copy(dst_ordinal, dst, src_ordinal, src, bytes);
}

int64_t device_live_bytes(int32_t code) {
    if (code == FATHOM_DEVICE_CPU) return tensor_live_bytes();
    require_known_device("device_memory", code);
    return device_ordinal(code) < cuda_device_count() ? cuda_live_bytes(device_ordinal(code)) : 0;
}

int64_t device_cached_bytes(int32_t code) {
    if (code == FATHOM_DEVICE_CPU) return tensor_cached_bytes();
    require_known_device("device_memory", code);
    return device_ordinal(code) < cuda_device_count() ? cuda_cached_bytes(device_ordinal(code)) : 0;
}

}  // namespace fathom
