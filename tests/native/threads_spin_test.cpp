// Thread sizing when the user told OpenMP to spin: this binary runs with
// GOMP_SPINCOUNT=3000 (tests/native/CMakeLists.txt), and a worker that is
// still spinning costs little to use, so a call takes one more thread per
// 4 MFLOP of work instead of 16.
#include <gtest/gtest.h>

#include <string>

#include "runtime_info_util.h"

using namespace fathom_test;

namespace {

TEST(ThreadsSpinning, smallerCallsGetThreadsWhenOpenMpSpins) {
    EXPECT_DOUBLE_EQ(4e6, std::stod(runtime_info_value("threads.flops_per_thread")));
}

}  // namespace
