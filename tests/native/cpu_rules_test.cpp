// Rule sets per CPU (native/src/core/cpu_rules.h) through the public ABI: what
// `fathom info` reports, detection, and that a set really steers the choices.
// ctest runs this binary as detected and once per forced set
// (FATHOM_CPU_RULES, see CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>

#include "fathom/fathom.h"
#include "plan_util.h"
#include "runtime_info_util.h"

using namespace fathom_test;

namespace {

const std::set<std::string> kSets = {"intel-avx512-amx", "amd-avx512", "generic",
                                     "onednn-defaults"};

std::string forced() {
    const char* v = std::getenv("FATHOM_CPU_RULES");
    return v == nullptr ? "" : v;
}

fathom_conv2d_params conv(int64_t n, int64_t c, int64_t h, int64_t k) {
    fathom_conv2d_params p{};
    p.n = n, p.c = c, p.h = p.w = h, p.k = k, p.kh = p.kw = 3;
    p.sh = p.sw = 1, p.ph = p.pw = 1, p.dh = p.dw = 1, p.groups = 1;
    p.backend = FATHOM_CNN_AUTO;
    return p;
}

TEST(CpuRules, runtimeInfoNamesTheActiveSetAndWhy) {
    const std::string set = runtime_info_value("rules.set");
    const std::string why = runtime_info_value("rules.why");
    EXPECT_EQ(1u, kSets.count(set)) << set;
    EXPECT_FALSE(runtime_info_value("rules.measured_on").empty());
    const std::string vendor = runtime_info_value("cpu.vendor");
    EXPECT_FALSE(vendor.empty());
    const std::string f = forced();
    if (kSets.count(f) != 0) {
        EXPECT_EQ(f, set);
        EXPECT_EQ("FATHOM_CPU_RULES=" + f, why);
    } else {
        EXPECT_EQ(0u, why.rfind("detected: " + vendor, 0)) << why;
        EXPECT_NE("onednn-defaults", set) << "the baseline set is never detected";
        if (!f.empty()) EXPECT_NE(std::string::npos, why.find("names no rule set")) << why;
    }
}

TEST(CpuRules, detectionFollowsVendorIsaAndThreads) {
    if (kSets.count(forced()) != 0) GTEST_SKIP() << "set forced";
    const std::string vendor = runtime_info_value("cpu.vendor");
    const std::string isa = runtime_info_value("onednn.isa");
    const std::string set = runtime_info_value("rules.set");
    const int threads = std::stoi(runtime_info_value("threads.default"));
    if (threads > 4) {
        EXPECT_EQ("generic", set) << "the sets were measured with 2 threads";
    } else if (vendor == "AuthenticAMD" && isa.find("avx512") != std::string::npos) {
        EXPECT_EQ("amd-avx512", set);
    } else if (vendor == "GenuineIntel" && isa.find("amx") != std::string::npos) {
        EXPECT_EQ("intel-avx512-amx", set);
    } else {
        EXPECT_EQ("generic", set) << vendor << " " << isa;
    }
}

// Vendor, family and model come from cpuid on x86 only; elsewhere (linux-arm64)
// they are "unknown", 0, 0, and detection gives the generic set, whose choices
// were never slower on any CPU measured (the sets were measured on x86).
TEST(CpuRules, cpuidOnlyOnX86) {
    const std::string vendor = runtime_info_value("cpu.vendor");
#if defined(__x86_64__) || defined(__i386__)
    EXPECT_NE("unknown", vendor);
    EXPECT_NE("0", runtime_info_value("cpu.family"));
#else
    EXPECT_EQ("unknown", vendor);
    EXPECT_EQ("0", runtime_info_value("cpu.family"));
    EXPECT_EQ("0", runtime_info_value("cpu.model"));
    if (kSets.count(forced()) == 0) EXPECT_EQ("generic", runtime_info_value("rules.set"));
#endif
#if defined(__aarch64__) && defined(__linux__)
    // oneDNN's x86 ISA enum means nothing here: the AArch64 names are reported.
    const std::string isa = runtime_info_value("onednn.isa");
    EXPECT_TRUE(isa == "asimd" || isa.rfind("sve", 0) == 0) << isa;
#endif
}

// The layout floor reaches the layout query: 16-channel activations are
// blocked only where the set allows 16, 64-channel ones wherever blocking is on.
TEST(CpuRules, blockedLayoutFloorSteersTheLayoutQuery) {
    const std::string isa = runtime_info_value("onednn.isa");
    if (isa.find("avx512") == std::string::npos && isa.find("avx10_1_512") == std::string::npos)
        GTEST_SKIP() << "oneDNN ISA " << isa << ", not AVX-512";
    const int64_t floor = std::stoll(runtime_info_value("rules.blocked_min_channels"));
    // Forward's src and dst layouts as bits (1: src nChw16c, 2: dst nChw16c).
    auto forward_layouts = [](const fathom_conv2d_params& p) {
        const fathom_test::ConvPlan plan(p);
        EXPECT_EQ(FATHOM_OK, plan.status()) << fathom_last_error();
        const fathom_conv2d_choice c = plan.info();
        return (c.src_layout[FATHOM_CONV2D_FORWARD] == FATHOM_LAYOUT_NCHW16C ? 1 : 0) |
               (c.dst_layout[FATHOM_CONV2D_FORWARD] == FATHOM_LAYOUT_NCHW16C ? 2 : 0);
    };
    EXPECT_EQ(floor > 0 && floor <= 16 ? 3 : 0, forward_layouts(conv(8, 16, 12, 16)))
        << "floor " << floor;
    EXPECT_EQ(floor > 0 && floor <= 64 ? 3 : 0, forward_layouts(conv(8, 64, 12, 64)))
        << "floor " << floor;
    // A single image is blocked only where the set's batch floor allows it
    // (activations outweigh the weights: no GEMM rule).
    const int64_t min_batch = std::stoll(runtime_info_value("rules.blocked_min_batch"));
    EXPECT_EQ(floor > 0 && floor <= 64 && min_batch <= 1 ? 3 : 0,
              forward_layouts(conv(1, 64, 24, 64)))
        << "batch floor " << min_batch;
}

// The GEMM threshold reaches the backend choice that `fathom info` probes.
TEST(CpuRules, gemmThresholdSteersTheAutoBackend) {
    if (runtime_info_value("onednn.version") == "none" || runtime_info_value("openblas.core") == "none")
        GTEST_SKIP() << "one GEMM backend only";
    // The lower threshold holds for any OpenBLAS core without AVX-512 kernels
    // (gemm.cpp): Haswell on an AVX-512 machine, or ARMV8 / NEOVERSE* on arm64.
    const std::string core = runtime_info_value("openblas.core");
    bool avx512 = false;
    for (const char* name : {"SkylakeX", "Cooperlake", "SapphireRapids", "Zen4", "Zen5"})
        avx512 = avx512 || core.find(name) != std::string::npos;
    const bool avx2 = !avx512;
    const double below = std::stod(runtime_info_value(avx2 ? "rules.gemm_openblas_below_flops_avx2"
                                                           : "rules.gemm_openblas_below_flops"));
    for (int side : {64, 256}) {
        const double flops = 2.0 * side * side * side;
        EXPECT_EQ(flops < below ? "openblas" : "onednn",
                  runtime_info_value("gemm.auto_backend_" + std::to_string(side)))
            << side << "^3 against " << below;
    }
}

}  // namespace
