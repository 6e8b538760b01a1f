#!/usr/bin/env bash
# The threading and concurrent-caller suites (ctest label "concurrency":
# threads_test, threads_spin_test, concurrency_test) under ThreadSanitizer, in
# build/tsan; only libfathom and those suites are built. Any report fails its
# test. Needs the bytedeco jars unpacked by the Maven build (ci/test-cpu.sh or
# ci/build-native.sh) in presets/target/deps.
#
# Intra-op threads are held at 1, and that is what keeps the run sound: the
# OpenMP runtime (libgomp from the oneDNN jar) and OpenBLAS are not
# instrumented, so TSan cannot see the fork/join synchronisation of a parallel
# region and would report every hand-over between a caller and its OpenMP
# workers as a race in Fathom's own kernels. With one CPU in the affinity mask,
# Fathom's default budget (fathom_set_num_threads) is 1, every ThreadGrant
# gives one thread, each OpenMP region runs on its caller alone and OpenBLAS
# starts no workers (OMP_NUM_THREADS and OPENBLAS_NUM_THREADS=1 cover any
# code outside a grant). The concurrency comes from the tests' own
# std::threads, which TSan sees completely; on one CPU they still interleave
# (preemption), and TSan's happens-before analysis does not need them to run
# at the same instant. The one test that raises the budget runs only ops too
# small to be granted a second thread under TSan (concurrency_test.cpp).
# Limiting OpenMP's team instead (OMP_THREAD_LIMIT=1) with a budget above 1
# would be unsound the other way: oneDNN sizes its work split by
# omp_get_max_threads() and assumes that many threads run it.
# ci/tsan.supp suppresses what TSan misreads inside the uninstrumented oneDNN
# itself (one entry per oneDNN function, with its reason); nothing of
# Fathom's own code is suppressed.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
deps=$PWD/presets/target/deps
if [[ ! -d $deps/org/bytedeco ]]; then
  mvn -B -ntp -q -pl presets -am install -DskipTests
fi
jobs=${FATHOM_JOBS:-$(nproc)}
cmake -S . -B build/tsan -DFATHOM_DEPS_DIR="$deps" -DFATHOM_SANITIZE=thread \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/tsan -j"$jobs" \
  --target fathom_threads_test fathom_threads_spin_test fathom_concurrency_test
built=$SECONDS

# halt_on_error: the first report ends the process with exitcode 66 (a failed
# test); second_deadlock_stack: both stacks of a lock-order inversion.
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=4:suppressions=$PWD/ci/tsan.supp"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# The first CPU this script may use.
cpu=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
taskset -c "$cpu" ctest --test-dir build/tsan -L concurrency --timeout 600 --output-on-failure
echo "tsan: build $((built - start)) s, tests $((SECONDS - built)) s"
