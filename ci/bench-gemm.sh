#!/usr/bin/env bash
# GEMM benchmark: the Java API vs the same call from C++ (one JVM, one run),
# both backends; then numpy/PyTorch sgemm on the same machine when available,
# so every figure has a same-run baseline. Results: JSON lines in $1.
# usage: ci/bench-gemm.sh [out.jsonl] [threads]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-gemm.jsonl}
threads=${2:-2}
mkdir -p "$(dirname "$out")"
"$root/fathom" --threads "$threads" bench gemm --out "$out"
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
if [[ -f "$ref/gemm_bench.py" ]] && /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  # Baselines need Debian's python3-numpy, python3-torch and libopenblas0-pthread.
  for lib in numpy torch; do
    (cd "$ref" && OPENBLAS_NUM_THREADS=$threads /usr/bin/python3 gemm_bench.py "$lib" "$threads" "$out") ||
      echo "bench-gemm: $lib baseline unavailable (see README, Benchmarks)" >&2
  done
fi
echo "bench-gemm: results in $out"
