// Runtime description for fathom_runtime_info: what was built in and what the
// backends decided at run time (ISA, OpenBLAS core), as "key=value" lines.
#include "core/runtime_info.h"

#include <cstdlib>
#include <sstream>

#include "core/allocator.h"
#include "core/cpu_rules.h"
#include "core/threads.h"
#include "ops/gemm.h"

#ifdef FATHOM_WITH_DNNL
#include <dnnl.hpp>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif
#ifdef FATHOM_WITH_OPENBLAS
#include "ops/blas/openblas_cblas.h"
#endif

#ifndef FATHOM_VERSION
#define FATHOM_VERSION "0.0.0-dev"
#endif

namespace fathom {

namespace {

#if defined(FATHOM_WITH_DNNL) && (defined(__x86_64__) || defined(__i386__))
// dnnl::cpu_isa names x86 ISAs only: elsewhere get_effective_cpu_isa() is no
// such value (the linux-arm64 oneDNN returns one that reads as avx512_core).
const char* isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
        case dnnl::cpu_isa::sse41: return "sse41";
        case dnnl::cpu_isa::avx: return "avx";
        case dnnl::cpu_isa::avx2: return "avx2";
        case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
        case dnnl::cpu_isa::avx2_vnni_2: return "avx2_vnni_2";
        case dnnl::cpu_isa::avx512_core: return "avx512_core";
        case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
        case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
        case dnnl::cpu_isa::avx10_1_512: return "avx10_1_512";
        case dnnl::cpu_isa::avx10_1_512_amx: return "avx10_1_512_amx";
        case dnnl::cpu_isa::avx10_1_512_amx_fp16: return "avx10_1_512_amx_fp16";
        default: return "other";
    }
}
std::string onednn_isa() { return isa_name(dnnl::get_effective_cpu_isa()); }
#elif defined(FATHOM_WITH_DNNL) && defined(__aarch64__) && defined(__linux__)
// What oneDNN's AArch64 kernels dispatch on, in its own names: SVE and its
// vector length (sve_128/256/512) where the kernel offers SVE, else asimd.
std::string onednn_isa() {
    if ((getauxval(AT_HWCAP) & HWCAP_SVE) != 0) {
        const int vl = prctl(PR_SVE_GET_VL);
        if (vl > 0) return "sve_" + std::to_string((vl & PR_SVE_VL_LEN_MASK) * 8);
        return "sve";
    }
    return "asimd";
}
#elif defined(FATHOM_WITH_DNNL)
std::string onednn_isa() { return "other"; }
#endif

const char* env_or(const char* name, const char* fallback) {
    const char* v = std::getenv(name);
    return v ? v : fallback;
}

}  // namespace

std::string runtime_info_text() {
    std::ostringstream os;
    os << "fathom.version=" << FATHOM_VERSION << '\n';
    os << "fathom.abi_version=" << FATHOM_ABI_VERSION << '\n';
    os << "threads.intra_op=" << num_threads() << '\n';
    os << "threads.default=" << default_num_threads() << '\n';
    os << "threads.flops_per_thread=" << flops_per_thread() << '\n';
    os << "alloc.live_bytes=" << tensor_live_bytes() << '\n';
    os << "alloc.cached_bytes=" << tensor_cached_bytes() << '\n';
    os << "alloc.memory_limit=" << tensor_memory_limit() << '\n';
    os << "env.FATHOM_MAX_MEMORY_MB=" << env_or("FATHOM_MAX_MEMORY_MB", "") << '\n';
    os << "env.OMP_WAIT_POLICY=" << env_or("OMP_WAIT_POLICY", "") << '\n';
    os << "env.OPENBLAS_CORETYPE=" << env_or("OPENBLAS_CORETYPE", "") << '\n';
    os << "env.OPENBLAS_THREAD_TIMEOUT=" << env_or("OPENBLAS_THREAD_TIMEOUT", "") << '\n';
#ifdef FATHOM_WITH_DNNL
    const dnnl_version_t* v = dnnl::version();
    os << "onednn.version=" << v->major << '.' << v->minor << '.' << v->patch << '\n';
    os << "onednn.cpu_runtime=" << (v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other") << '\n';
    os << "onednn.isa=" << onednn_isa() << '\n';
#else
    os << "onednn.version=none\n";
#endif
#ifdef FATHOM_WITH_OPENBLAS
    os << "openblas.core=" << openblas_get_corename() << '\n';
    os << "openblas.config=" << openblas_get_config() << '\n';
    os << "openblas.threads=" << openblas_get_num_threads() << '\n';
#else
    os << "openblas.core=none\n";
#endif
    // Which backend AUTO picks for a small and a large square product.
    for (int64_t side : {64, 256}) {
        fathom_gemm_params probe{};
        probe.m = probe.n = probe.k = side;
        probe.batch = 1;
        const char* gemm_auto = "reference";
        switch (resolve_gemm_backend(probe)) {
            case FATHOM_GEMM_ONEDNN: gemm_auto = "onednn"; break;
            case FATHOM_GEMM_OPENBLAS: gemm_auto = "openblas"; break;
            default: break;
        }
        os << "gemm.auto_backend_" << side << '=' << gemm_auto << '\n';
    }
    const CpuRules& rules = cpu_rules();
    os << "cpu.vendor=" << cpu_vendor() << '\n';
    os << "cpu.family=" << cpu_family() << '\n';
    os << "cpu.model=" << cpu_model() << '\n';
    os << "rules.set=" << rules.name << '\n';
    os << "rules.measured_on=" << rules.measured_on << '\n';
    os << "rules.why=" << cpu_rules_note() << '\n';
    os << "rules.gemm_openblas_below_flops=" << rules.gemm_openblas_below_flops << '\n';
    os << "rules.gemm_openblas_below_flops_avx2=" << rules.gemm_openblas_below_flops_avx2 << '\n';
    os << "rules.conv_gemm_single_image=" << rules.conv_gemm_single_image << '\n';
    os << "rules.conv_gemm_single_image_strided_forward="
       << rules.conv_gemm_single_image_strided_forward << '\n';
    os << "rules.conv_gemm_backward_data_few_channels="
       << rules.conv_gemm_backward_data_few_channels << '\n';
    os << "rules.conv_gemm_strided_1x1=" << rules.conv_gemm_strided_1x1 << '\n';
    os << "rules.conv_jit_strided_backward_data=" << rules.conv_jit_strided_backward_data << '\n';
    os << "rules.blocked_min_channels=" << rules.blocked_min_channels << '\n';
    os << "rules.blocked_min_batch=" << rules.blocked_min_batch << '\n';
    os << "rules.rnn_step_flops_per_thread=" << rules.rnn_step_flops_per_thread << '\n';
#ifdef FATHOM_WITH_CUDA
    os << "cuda.built=true\n";
#ifdef FATHOM_WITH_CUBLAS
    os << "cuda.cublas=true\n";
#else
    os << "cuda.cublas=false\n";
#endif
#else
    os << "cuda.built=false\n";
#endif
    os << "cuda.devices=" << cuda_device_count() << '\n';
    return os.str();
}

}  // namespace fathom
