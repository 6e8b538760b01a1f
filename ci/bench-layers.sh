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
    # Twice: PyTorch's default (OpenMP threads spin between regions) and with
    # passive waiting, which is Fathom's default; at batch 1 the wake-ups of
    # passive threads are a large part of a layer's time.
    /usr/bin/python3 "$root/tests/bench/pytorch_layers.py" "$batch" "$threads" "$out" > /dev/null
    OMP_WAIT_POLICY=PASSIVE FATHOM_BENCH_TAG=pytorch-passive \
      /usr/bin/python3 "$root/tests/bench/pytorch_layers.py" "$batch" "$threads" "$out" > /dev/null
  fi
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by.setdefault((r["layer"], r["batch"]), {})[r["lib"]] = r
print(f"{'layer':22s} {'batch':>5s} {'fwd ms':>8s} {'torch':>8s} {'ratio':>5s} {'passv':>5s}"
      f" {'bwd ms':>8s} {'torch':>8s} {'ratio':>5s} {'passv':>5s}")
nan = float("nan")
for (layer, batch), libs in by.items():
    f, t, p = libs.get("fathom"), libs.get("pytorch"), libs.get("pytorch-passive")
    if not f or not t:
        continue
    pf = p["forward_ms"] / f["forward_ms"] if p else nan
    pb = p["backward_ms"] / f["backward_ms"] if p else nan
    print(f"{layer:22s} {batch:5d} {f['forward_ms']:8.3f} {t['forward_ms']:8.3f} {t['forward_ms']/f['forward_ms']:5.2f} {pf:5.2f}"
          f" {f['backward_ms']:8.3f} {t['backward_ms']:8.3f} {t['backward_ms']/f['backward_ms']:5.2f} {pb:5.2f}")
print("ratio = PyTorch time / Fathom time (> 1: Fathom faster); passv = the same against PyTorch with OMP_WAIT_POLICY=PASSIVE")
PY
