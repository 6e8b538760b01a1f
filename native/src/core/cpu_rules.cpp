// Rule sets per kind of CPU; the measurements are in docs/cpu-rules.md.
#include "core/cpu_rules.h"

#include <cstdlib>
#include <cstring>

#include "core/threads.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define FATHOM_X86 1
#endif

// The sets measured so far are for x86 CPUs, told apart by cpuid and oneDNN's
// x86 ISA (dnnl::cpu_isa names x86 ISAs only); elsewhere detection gives the
// generic set.
#if defined(FATHOM_WITH_DNNL) && defined(FATHOM_X86)
#define FATHOM_X86_DNNL 1
#include <dnnl.hpp>
#endif

namespace fathom {

namespace {

// Measured 2026-11-26/27 on a 2-core Intel Xeon VM with AMX (oneDNN ISA
// avx10_1_512_amx_fp16, OpenBLAS SapphireRapids), 2 threads.
constexpr CpuRules kIntelAmx{"intel-avx512-amx",
                             "Intel Xeon with AMX, 2 threads (2026-11-27)",
                             4,
                             2.0e6,
                             6.6e4,
                             true,
                             true,
                             true,
                             true,
                             true,
                             16,
                             1,
                             16e6};

// Measured 2026-12-07 on a 2-core AMD EPYC (Zen 4, family 25; oneDNN ISA
// avx512_core_bf16, OpenBLAS Cooperlake), 2 threads.
constexpr CpuRules kAmdAvx512{"amd-avx512",
                              "AMD EPYC Zen 4, 2 threads (2026-12-07)",
                              4,
                              2.0e6,
                              6.6e4,
                              true,
                              false,  // strided batch-1 forward: GEMM 0.72-0.88x of oneDNN's
                              true,
                              true,
                              false,  // s4 3x3/2 backward at batch 256: 0.79-0.91x
                              32,     // LeNet's 16 channels blocked: training 0.87-0.90x
                              2,      // ResNet-18 at 28, batch 1, blocked: 0.90-0.92x
                              9e6};   // LSTM char-LM on 2 threads: 1.07-1.15x of 1 thread

// Any other machine: each field takes the choice that was never slower on the
// machines above.
constexpr CpuRules kGeneric{"generic",
                            "fallback: the choices never slower on every CPU measured",
                            0,
                            2.0e6,
                            6.6e4,
                            true,
                            false,
                            true,
                            true,
                            false,
                            32,
                            2,
                            16e6};

// oneDNN's own choices everywhere, nothing of Fathom's (the baseline the rules
// are measured against; never detected).
constexpr CpuRules kOnednnDefaults{"onednn-defaults",
                                   "baseline: oneDNN's first choice, NCHW activations",
                                   0,
                                   0.0,
                                   0.0,
                                   false,
                                   false,
                                   false,
                                   false,
                                   false,
                                   0,
                                   0,
                                   16e6};

const CpuRules* const kAll[] = {&kIntelAmx, &kAmdAvx512, &kGeneric, &kOnednnDefaults};

#ifdef FATHOM_X86_DNNL
bool has_amx(dnnl::cpu_isa isa) {
    return isa == dnnl::cpu_isa::avx10_1_512_amx || isa == dnnl::cpu_isa::avx10_1_512_amx_fp16;
}
bool has_avx512(dnnl::cpu_isa isa) {
    return isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
           isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx10_1_512 ||
           has_amx(isa);
}
#endif

const CpuRules& detect(std::string& note) {
    const std::string vendor = cpu_vendor();
    const int threads = default_num_threads();
    note = "detected: " + vendor + " family " + std::to_string(cpu_family()) + " model " +
           std::to_string(cpu_model()) + ", " + std::to_string(threads) + " threads";
#ifdef FATHOM_X86_DNNL
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    const CpuRules* match = nullptr;
    if (vendor == "GenuineIntel" && has_amx(isa)) match = &kIntelAmx;
    if (vendor == "AuthenticAMD" && has_avx512(isa)) match = &kAmdAvx512;
    if (match != nullptr && threads <= match->max_threads) return *match;
    if (match != nullptr)
        note += " (" + std::string(match->name) + " was measured up to " +
                std::to_string(match->max_threads) + " threads)";
#endif
    return kGeneric;
}

struct Selected {
    const CpuRules* rules;
    std::string note;
};

const Selected& selected() {
    static const Selected s = [] {
        Selected out{nullptr, ""};
        const char* forced = std::getenv("FATHOM_CPU_RULES");
        if (forced != nullptr && *forced != '\0') {
            out.rules = cpu_rules_named(forced);
            if (out.rules != nullptr) {
                out.note = std::string("FATHOM_CPU_RULES=") + forced;
                return out;
            }
        }
        out.rules = &detect(out.note);
        if (forced != nullptr && *forced != '\0')
            out.note += std::string("; FATHOM_CPU_RULES=") + forced + " names no rule set";
        return out;
    }();
    return s;
}

#ifdef FATHOM_X86
void cpuid(unsigned leaf, unsigned& a, unsigned& b, unsigned& c, unsigned& d) {
    if (!__get_cpuid(leaf, &a, &b, &c, &d)) a = b = c = d = 0;
}
#endif

}  // namespace

const CpuRules& cpu_rules() { return *selected().rules; }

const std::string& cpu_rules_note() { return selected().note; }

const CpuRules* cpu_rules_named(const std::string& name) {
    for (const CpuRules* r : kAll)
        if (name == r->name) return r;
    return nullptr;
}

std::string cpu_vendor() {
#ifdef FATHOM_X86
    unsigned a, b, c, d;
    cpuid(0, a, b, c, d);
    char v[13];
    std::memcpy(v, &b, 4);
    std::memcpy(v + 4, &d, 4);
    std::memcpy(v + 8, &c, 4);
    v[12] = '\0';
    return v[0] != '\0' ? std::string(v) : "unknown";
#else
    return "unknown";
#endif
}

int cpu_family() {
#ifdef FATHOM_X86
    unsigned a, b, c, d;
    cpuid(1, a, b, c, d);
    const int base = (a >> 8) & 0xf;
    return base == 0xf ? base + static_cast<int>((a >> 20) & 0xff) : base;
#else
    return 0;
#endif
}

int cpu_model() {
#ifdef FATHOM_X86
    unsigned a, b, c, d;
    cpuid(1, a, b, c, d);
    const int base = (a >> 8) & 0xf;
    const int model = (a >> 4) & 0xf;
    return base == 0xf || base == 0x6 ? model + (static_cast<int>((a >> 16) & 0xf) << 4) : model;
#else
    return 0;
#endif
}

}  // namespace fathom
