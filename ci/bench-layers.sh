#!/usr/bin/env bash
# Per-layer forward/backward times (LeNet and ResNet-18 shapes) of Fathom and
# PyTorch CPU in one run, at batch 256 and batch 1; prints a ratio table.
# usage: ci/bench-layers.sh [out.jsonl] [threads]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-layers.jsonl}
threads=${2:-2}
mkdir -p "$(dirname "$out")"
: > "$out"
for batch in 256 1; do
  "$root/fathom" --threads "$threads" bench layers --batch "$batch" | grep RESULT | sed 's/^RESULT //' >> "$out"
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
    /usr/bin/python3 "$root/tests/bench/pytorch_layers.py" "$batch" "$threads" "$out" > /dev/null
  fi
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault((r["layer"], r["batch"]), {})[r["lib"]] = r
print(f"{'layer':22s} {'batch':>5s} {'fwd ms':>9s} {'torch':>9s} {'ratio':>6s} {'bwd ms':>9s} {'torch':>9s} {'ratio':>6s}")
for (layer, batch), libs in by.items():
    f, t = libs.get("fathom"), libs.get("pytorch")
    if not f or not t:
        continue
    print(f"{layer:22s} {batch:5d} {f['forward_ms']:9.3f} {t['forward_ms']:9.3f} {t['forward_ms']/f['forward_ms']:6.2f}"
          f" {f['backward_ms']:9.3f} {t['backward_ms']:9.3f} {t['backward_ms']/f['backward_ms']:6.2f}")
print("ratio = PyTorch time / Fathom time (> 1: Fathom faster)")
PY
