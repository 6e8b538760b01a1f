#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (no JDK needed): build the CUDA backend,
# using cuBLAS when CMake finds it (CUDAToolkit_ROOT or pip nvidia-cublas via
# FATHOM_CUBLAS_ROOT), and run the GPU GoogleTest suite; fails if no GPU is seen.
# usage: FATHOM_DEPS_DIR=<unpacked bytedeco jars> ci/gpu-smoke.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/gpu}
nvidia-smi -L
extra=()
if [[ -n "${FATHOM_CUBLAS_ROOT:-}" ]]; then
  extra+=(-DCUDA_cublas_LIBRARY="$FATHOM_CUBLAS_ROOT/lib/libcublas.so.13"
          -DCMAKE_CXX_FLAGS="-I$FATHOM_CUBLAS_ROOT/include" -DCMAKE_CUDA_FLAGS="-I$FATHOM_CUBLAS_ROOT/include")
fi
cmake -S "$root" -B "$build" -DFATHOM_CUDA=ON -DFATHOM_DEPS_DIR="${FATHOM_DEPS_DIR:?}" \
  -DCMAKE_CUDA_ARCHITECTURES="${FATHOM_CUDA_ARCHS:-90}" "${extra[@]}" >/dev/null
cmake --build "$build" --parallel "${FATHOM_JOBS:-8}"
"$build/tests/native/fathom_cuda_test" --gtest_brief=0 | tee "$build/gpu-test.log"
if grep -q "SKIPPED" "$build/gpu-test.log"; then
  echo "gpu-smoke: tests skipped although a GPU was expected" >&2
  exit 1
fi
