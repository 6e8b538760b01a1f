#!/usr/bin/env bash
# linux-arm64 platform jar, cross-built on an x86-64 Debian host, and the
# GoogleTest suites run under qemu user emulation.
#
#   ci/build-arm64.sh [extra Maven arguments, e.g. -o -Dmaven.repo.local=...]
#
# 1. Installs the cross toolchain (g++-aarch64-linux-gnu), qemu-user-static and
#    libgtest-dev:arm64 (Debian multiarch) when they are missing (needs root).
# 2. Builds the presets module with -Djavacpp.platform=linux-arm64: Maven
#    fetches bytedeco's linux-arm64 openblas, dnnl and javacpp jars (the
#    versions of the parent pom), CMake builds libfathom, libfathom_env and the
#    tests with ci/toolchain-aarch64.cmake (picked up through the
#    CMAKE_TOOLCHAIN_FILE environment variable, so cppbuild.sh is the x86
#    one), and JavaCPP builds libjnifathom with aarch64-linux-gnu-g++
#    (ci/javacpp-linux-arm64-cross.properties). Its own build and native
#    folders (target/cmake-linux-arm64, target/native-linux-arm64) keep it
#    apart from an x86 build in the same tree. Result:
#    presets/target/fathom-presets-<version>-linux-arm64.jar, installed in the
#    local Maven repository next to the linux-x86_64 one (with the parent pom
#    and the platform-independent fathom-presets jar), where
#    ci/test-arm64-jvm.sh and the fathom-platform module resolve it.
# 3. Checks that every shared library in that jar is AArch64.
# 4. Runs ctest under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR of the
#    toolchain file), all of them (about 5.5 minutes on 2 cores).
#    FATHOM_ARM64_CTEST_ARGS adds ctest arguments, e.g. "-E \.rules\." to
#    leave out the nine reruns of the convolution, layout and RNN suites
#    under each x86 rule set; FATHOM_ARM64_SKIP_TESTS=1 skips the tests.
#
# Not part of .ci/run: the emulated suites take a while (docs/platforms.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
jobs=${FATHOM_JOBS:-2}

# --- 1. host packages -----------------------------------------------------------
need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null ||
  need+=(qemu-user-static)
[[ -f /usr/lib/aarch64-linux-gnu/cmake/GTest/GTestConfig.cmake ]] ||
  need+=(libgtest-dev:arm64 libgmock-dev:arm64)
if ((${#need[@]})); then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# --- 2. the linux-arm64 build -----------------------------------------------------
target=$root/presets/target
cmake_dir=$target/cmake-linux-arm64
native_root=$target/native-linux-arm64
# A jar of an earlier run must not carry stale libraries.
rm -rf "$native_root"
CMAKE_TOOLCHAIN_FILE=$root/ci/toolchain-aarch64.cmake \
  mvn -B -ntp "$@" -pl presets -am install -DskipTests \
  -Djavacpp.platform=linux-arm64 \
  -Djavacpp.propertyFile="$root/ci/javacpp-linux-arm64-cross.properties" \
  -Dfathom.cmake.dir="$cmake_dir" \
  -Dfathom.native.root="$native_root" \
  -Dfathom.cmake.jobs="$jobs"
built=$SECONDS

# --- 3. every library in the jar is AArch64 ---------------------------------------
jar=$(ls "$target"/fathom-presets-*-linux-arm64.jar)
check=$(mktemp -d /tmp/arm64-jar.XXXXXX)
trap 'rm -rf "$check"' EXIT
unzip -q -o "$jar" -d "$check"
libs=0
while IFS= read -r so; do
  machine=$(readelf -h "$so" | sed -n 's/^ *Machine: *//p')
  if [[ $machine != AArch64 ]]; then
    echo "build-arm64: $so is '$machine', not AArch64" >&2
    exit 1
  fi
  echo "  $(basename "$so"): $machine"
  libs=$((libs + 1))
done < <(find "$check" -name '*.so*' -type f)
for lib in libfathom.so libfathom_env.so libjnifathom.so; do
  if ! find "$check" -name "$lib" | grep -q .; then
    echo "build-arm64: $lib missing from $jar" >&2
    exit 1
  fi
done
echo "build-arm64: $jar: $libs shared libraries, all AArch64 ($((built - start)) s to build)"

# --- 4. the GoogleTest suites under qemu ------------------------------------------
if [[ ${FATHOM_ARM64_SKIP_TESTS:-0} == 1 ]]; then
  exit 0
fi
# qemu's default CPU ("max") has 512-bit SVE, where one oneDNN matmul shape
# fails (docs/platforms.md); the suites run with 256-bit SVE, the vector
# length of Neoverse V1 (AWS Graviton3). QEMU_CPU chooses another: "max" for
# SVE-512, "neoverse-n1" for NEON only (Graviton2).
export QEMU_CPU=${QEMU_CPU:-max,sve-default-vector-length=32}
read -ra ctest_args <<<"${FATHOM_ARM64_CTEST_ARGS:-}"
ctest --test-dir "$cmake_dir" --output-on-failure --parallel "$jobs" --timeout 900 \
  "${ctest_args[@]}"
echo "build-arm64: ctest under qemu-aarch64 (QEMU_CPU=$QEMU_CPU) took $((SECONDS - built)) s"
