#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (no JDK needed): builds the CUDA backend twice,
# with cuBLAS (when CMake finds it) and with Fathom's own tiled kernel, and runs
# the GPU GoogleTest suite against each; fails if no GPU is seen or a GPU test
# skips. With FATHOM_GPU_CPU_SUITE=1 it also runs the CPU suite of the first
# build there (another CPU, often another oneDNN ISA).
# usage: FATHOM_DEPS_DIR=<unpacked bytedeco jars> ci/gpu-smoke.sh [build-root]
#   GoogleTest is found through CMAKE_PREFIX_PATH; FATHOM_CUBLAS_ROOT points at
#   a cuBLAS outside the CUDA toolkit (the pip nvidia-cublas wheel's folder).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
builds=${1:-$root/build/gpu}
nvidia-smi -L
extra=()
if [[ -n "${FATHOM_CUBLAS_ROOT:-}" ]]; then
  lib=$(ls "$FATHOM_CUBLAS_ROOT"/lib/libcublas.so* | head -1)
  extra+=(-DCUDA_cublas_LIBRARY="$lib"
          -DCMAKE_CXX_FLAGS="-I$FATHOM_CUBLAS_ROOT/include" -DCMAKE_CUDA_FLAGS="-I$FATHOM_CUBLAS_ROOT/include")
fi
mkdir -p "$builds"
status=0
for variant in cublas kernel; do
  build=$builds/$variant
  cublas=ON; [[ $variant == kernel ]] && cublas=OFF
  echo "== CUDA GEMM via $variant"
  cmake -S "$root" -B "$build" -DFATHOM_CUDA=ON -DFATHOM_CUDA_CUBLAS=$cublas \
    -DFATHOM_DEPS_DIR="${FATHOM_DEPS_DIR:?}" \
    -DCMAKE_CUDA_ARCHITECTURES="${FATHOM_CUDA_ARCHS:-90}" "${extra[@]}" | grep "Fathom CUDA" || true
  cmake --build "$build" --parallel "${FATHOM_JOBS:-8}" > "$build.build.log" 2>&1 \
    || { tail -40 "$build.build.log"; exit 1; }
  log=$build/gpu-test.log
  "$build/tests/native/fathom_cuda_test" | tee "$log" || status=1
  want=true; [[ $cublas == OFF ]] && want=false
  grep -q "cuda.cublas=$want" "$log" || { echo "gpu-smoke: expected cuda.cublas=$want" >&2; status=1; }
  if grep -q "SKIPPED" "$log"; then
    echo "gpu-smoke: tests skipped although a GPU was expected" >&2
    status=1
  fi
done
if [[ "${FATHOM_GPU_CPU_SUITE:-0}" == 1 ]]; then
  echo "== CPU suite on this machine ($(nproc) cores)"
  ctest --test-dir "$builds/cublas" -L cpu --parallel "${FATHOM_JOBS:-8}" --timeout 300 \
    > "$builds/cpu-ctest.log" 2>&1 || status=1
  tail -15 "$builds/cpu-ctest.log"
fi
exit $status
