#!/usr/bin/env bash
# Weights move between Fathom and PyTorch both ways, for LeNet and LeNet-BN:
#  (a) Fathom trains one epoch on Fashion-MNIST and writes model.safetensors; PyTorch loads it
#      into ../shared/bench/pytorch/models.py's model (strict names, shapes, dtypes) and gives the
#      logits Fathom gave on a fixed input, within 1e-5;
#  (b) PyTorch writes a (briefly trained) state dict; Fathom loads it with `fathom predict --model`
#      and gives PyTorch's logits within 1e-5.
# Needs /usr/bin/python3 with torch and the Fashion-MNIST files; skips (exit 0) without torch.
# usage: ci/check-pytorch-compat.sh [work-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/build/pytorch-compat}
export FATHOM_PYTORCH_BENCH=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
if [[ ! -f "$FATHOM_PYTORCH_BENCH/models.py" ]] || ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "check-pytorch-compat: skipped (needs /usr/bin/python3 with torch and $FATHOM_PYTORCH_BENCH/models.py)"
  exit 0
fi
py() { /usr/bin/python3 "$root/tests/pytorch/compat.py" "$@"; }
mkdir -p "$work"
py input --out "$work/input.safetensors"
status=0
for model in lenet lenet-bn; do
  dir="$work/$model"
  echo "== $model: Fathom -> PyTorch"
  "$root/fathom" --threads 2 train --model "$model" --epochs 1 --out "$dir" > /dev/null
  "$root/fathom" predict --checkpoint "$dir" --input "$work/input.safetensors" \
    --output "$dir/fathom-logits.safetensors" > /dev/null
  py logits --model "$model" --weights "$dir/model.safetensors" --input "$work/input.safetensors" \
    --out "$dir/torch-logits-of-fathom-weights.safetensors"
  py compare "$dir/fathom-logits.safetensors" "$dir/torch-logits-of-fathom-weights.safetensors" || status=1
  echo "== $model: PyTorch -> Fathom"
  py export --model "$model" --out "$dir/torch-model.safetensors" --input "$work/input.safetensors" \
    --logits "$dir/torch-logits.safetensors"
  "$root/fathom" predict --checkpoint "$dir/torch-model.safetensors" --model "$model" \
    --input "$work/input.safetensors" --output "$dir/fathom-logits-of-torch-weights.safetensors" > /dev/null
  py compare "$dir/torch-logits.safetensors" "$dir/fathom-logits-of-torch-weights.safetensors" || status=1
done
[[ $status == 0 ]] && echo "check-pytorch-compat: OK" || echo "check-pytorch-compat: FAILED" >&2
exit $status
