// CPU-only builds: the CUDA backend reports itself unavailable.
#include "ops/gemm.h"

#include "core/error.h"

namespace fathom {

bool cuda_gemm_available() { return false; }

void gemm_forward_cuda(const fathom_gemm_params&, const float*, const float*, float*) {
    fail(FATHOM_UNSUPPORTED, "sgemm: Fathom was built without -DFATHOM_CUDA=ON");
}

int cuda_device_count() { return 0; }

}  // namespace fathom
