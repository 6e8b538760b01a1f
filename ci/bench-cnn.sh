#!/usr/bin/env bash
# LeNet and ResNet-18: training images/s and inference latency of Fathom and
# PyTorch CPU in one run (the PyTorch reference scripts' method), 2 threads.
# usage: ci/bench-cnn.sh [out.jsonl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-cnn.jsonl}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
mkdir -p "$(dirname "$out")"
have_torch() { [[ -f "$ref/train_fmnist.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; }
for model in lenet resnet18; do
  "$root/fathom" --threads 2 bench train --model "$model" --iters 60 | tee -a "$out"
  if have_torch; then
    (cd "$ref" && /usr/bin/python3 train_fmnist.py --model "$model" --threads 2 --max-iters 65 --no-eval \
      --out "$out" | grep -oE '"img_per_s_median_iter": [0-9.]+') || echo "PyTorch baseline failed" >&2
  fi
done
"$root/fathom" --threads 2 bench infer | tee -a "$out"
if have_torch; then
  (cd "$ref" && /usr/bin/python3 infer_bench.py "$out" > /dev/null) || echo "PyTorch baseline failed" >&2
fi
echo "bench-cnn: results in $out"
