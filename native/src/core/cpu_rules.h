// Kernel and layout choices per kind of CPU.
//
// Which GEMM backend, convolution kernel and activation layout is fastest
// depends on the machine: a rule measured on an Intel Xeon with AMX lost on an
// AMD EPYC (Zen 4) and the other way round. Each rule set below records the
// choices measured on one kind of CPU (vendor, oneDNN ISA, thread count); a
// machine that matches none gets "generic", the choices that were never slower
// on any machine measured. docs/cpu-rules.md has the measurements behind every
// field. FATHOM_CPU_RULES=<name> forces a set (for measuring one against another).
#pragma once

#include <cstdint>
#include <string>

namespace fathom {

struct CpuRules {
    const char* name;
    const char* measured_on;  // the machine behind the set, for `fathom info`
    // Detection picks the set only where the intra-op thread default is at
    // most this (the thread counts it was measured with); 0: never detected.
    int max_threads;
    // Products under this many flops go to OpenBLAS (its call overhead is
    // lower); larger ones to oneDNN. The second value applies when OpenBLAS
    // runs without AVX-512 kernels (e.g. OPENBLAS_CORETYPE=Haswell).
    double gemm_openblas_below_flops;
    double gemm_openblas_below_flops_avx2;
    // Convolution shape rules (conv2d_dnnl.cpp, default_choice): where each is
    // off, oneDNN's first choice stays.
    bool conv_gemm_single_image;              // batch 1, weights >= 2x activations: im2col + GEMM
    bool conv_gemm_single_image_strided_forward;  // ... also for strided forward passes
    bool conv_gemm_backward_data_few_channels;  // backward-data into <= 3 channels: GEMM
    bool conv_gemm_strided_1x1;               // strided 1x1 onto >= 16 positions: GEMM
    bool conv_jit_strided_backward_data;      // strided backward-data onto <= 3x3: direct JIT
    // Convolutions keep activations in nChw16c only where the channel count
    // (input for src, output for dst) is at least this; 0 keeps every
    // activation NCHW.
    int64_t blocked_min_channels;
    // ... and only for batches of at least this many images.
    int64_t blocked_min_batch;
    // Recurrent layers join their threads at every time step, so they get one
    // thread per this many flops of one step's work (sleeping workers; a
    // quarter of it when OpenMP spins), not per kFlopsPerThread of the call.
    double rnn_step_flops_per_thread;
};

// The set for this process, chosen on first use from the CPU and
// FATHOM_CPU_RULES (an unknown name there falls back to detection and is
// reported by cpu_rules_note()).
const CpuRules& cpu_rules();

// Why the set was chosen, one line: "detected: ..." or "FATHOM_CPU_RULES=...".
const std::string& cpu_rules_note();

// The set named `name`, or nullptr.
const CpuRules* cpu_rules_named(const std::string& name);

// "GenuineIntel", "AuthenticAMD", ... from cpuid; "unknown" off x86.
std::string cpu_vendor();

// x86 family and model (cpuid leaf 1, extended fields folded in); 0 off x86.
int cpu_family();
int cpu_model();

}  // namespace fathom
