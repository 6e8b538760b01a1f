#!/usr/bin/env bash
# The native core and every GoogleTest suite under AddressSanitizer and
# UndefinedBehaviorSanitizer (any error aborts its test), in build/asan.
# Needs the bytedeco jars unpacked by the Maven build (ci/test-cpu.sh or
# ci/build-native.sh) in presets/target/deps. The bytedeco libraries are not
# instrumented; ASan still checks every access Fathom's code makes.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=$PWD/presets/target/deps
if [[ ! -d $deps/org/bytedeco ]]; then
  mvn -B -ntp -q -pl presets -am install -DskipTests
fi
cmake -S . -B build/asan -DFATHOM_DEPS_DIR="$deps" -DFATHOM_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/asan -j"$(nproc)"
# allocator_may_return_null: the allocator tests ask for 2^62 bytes on purpose
# and expect FATHOM_OUT_OF_MEMORY, not ASan's abort.
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan -j"$(nproc)" --timeout 600 --output-on-failure
