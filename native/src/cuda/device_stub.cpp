// CPU-only builds: no GPU memory. cuda_device_count() is 0 there (the GEMM
// stub), so core/device.cpp refuses CUDA codes before calling these; they fail
// the same way should anything reach them.
#include "core/device.h"
#include "core/error.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"

namespace fathom {

namespace {
[[noreturn]] void no_cuda(const char* op) {
    fail(FATHOM_UNSUPPORTED, op, ": Fathom was built without -DFATHOM_CUDA=ON");
}
}  // namespace

void* cuda_alloc(int, int64_t) { no_cuda("device_alloc"); }
void cuda_free(int, void*) { no_cuda("device_free"); }
void cuda_copy(int, void*, int, const void*, int64_t) { no_cuda("device_copy"); }
int64_t cuda_live_bytes(int) { return 0; }
int64_t cuda_cached_bytes(int) { return 0; }

void unary_forward_cuda(int32_t, const TensorView&, const TensorView&, double, double) {
    no_cuda("unary");
}
void binary_forward_cuda(int32_t, const TensorView&, const TensorView&, const TensorView&) {
    no_cuda("binary");
}
void reduce_forward_cuda(int32_t, const TensorView&, const TensorView&, const TensorView*) {
    no_cuda("reduce");
}
void matmul_forward_cuda(const MatmulArgs&) { no_cuda("matmul"); }

}  // namespace fathom
