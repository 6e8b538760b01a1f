#!/usr/bin/env bash
# Compiles the CUDA backend (-DFATHOM_CUDA=ON) and runs the "gpu" ctest label,
# which must skip cleanly on a machine without a GPU. Needs nvcc, not a GPU.
# usage: ci/build-cuda-nogpu.sh [build-dir]
#   FATHOM_NVCC picks the compiler (e.g. /usr/bin/nvcc, Debian's CUDA 11.8 from
#   nvidia-cuda-toolkit in contrib/non-free); FATHOM_CUDA_ARCHS the architectures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/cuda}
deps=${FATHOM_DEPS_DIR:-$root/presets/target/deps}
if [[ ! -d "$deps/org/bytedeco" ]]; then
  (cd "$root" && mvn -B -ntp -q -pl presets -am initialize)  # unpacks the bytedeco jars
fi
cmake -S "$root" -B "$build" -DFATHOM_CUDA=ON -DFATHOM_DEPS_DIR="$deps" \
  ${FATHOM_NVCC:+-DCMAKE_CUDA_COMPILER="$FATHOM_NVCC"} \
  -DCMAKE_CUDA_ARCHITECTURES="${FATHOM_CUDA_ARCHS:-75;80;90}" >/dev/null
cmake --build "$build" --parallel "${FATHOM_JOBS:-2}"
ctest --test-dir "$build" -L gpu --output-on-failure
ctest --test-dir "$build" -L cpu --output-on-failure --parallel "${FATHOM_JOBS:-2}"
