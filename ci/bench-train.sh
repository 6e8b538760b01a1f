#!/usr/bin/env bash
# Training throughput (images/s, batch 256) of Fathom and PyTorch CPU on the
# same machine in one run, alternating, for softmax regression and the MLP.
# usage: ci/bench-train.sh [out.jsonl] [threads] [iters]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-train.jsonl}
threads=${2:-2}
iters=${3:-300}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
mkdir -p "$(dirname "$out")"
# Three alternating rounds: this machine is shared and noisy, so compare medians.
for round in 1 2 3; do
  for model in softmax mlp; do
    "$root/fathom" --threads "$threads" bench train --model "$model" --iters "$iters" | tee -a "$out"
    if [[ -f "$ref/train_fmnist.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
      (cd "$ref" && /usr/bin/python3 train_fmnist.py --model "$model" --threads "$threads" \
        --max-iters "$((iters + 5))" --no-eval --out "$out" | grep RESULT | grep -oE "\"img_per_s_median_iter\": [0-9.]+|\"foreign_cores\": {[^}]*}" | tr "\n" " "; echo) ||
        echo "bench-train: PyTorch baseline failed" >&2
    fi
  done
done
echo "bench-train: results in $out"
