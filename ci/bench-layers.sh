#!/usr/bin/env bash
# Per-layer forward/backward times (LeNet and ResNet-18 shapes) of Fathom and
# PyTorch CPU in one run, at batch 256 and batch 1; prints a ratio table.
# Each library runs twice, so that every ratio compares like with like: with
# idle threads sleeping (Fathom's default; PyTorch with OMP_WAIT_POLICY=PASSIVE)
# and with spinning (Fathom with a bounded GOMP_SPINCOUNT=3000; PyTorch's
# default), plus the two defaults against each other. Fathom runs each layer
# NCHW in and NCHW out (FATHOM_BLOCKED_LAYOUTS=0), as PyTorch's functional
# calls do. A third Fathom run (--in-run, default waiting) measures each layer
# as inside a network, input and output gradient in the layout activations
# keep between layers: the "run" column, against PyTorch's default (whose
# tensors stay NCHW between layers, so its per-call time is its in-network
# time too).
# usage: ci/bench-layers.sh [out.jsonl] [threads]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-layers.jsonl}
threads=${2:-2}
mkdir -p "$(dirname "$out")"
: > "$out"
for batch in 256 1; do
  FATHOM_BLOCKED_LAYOUTS=0 "$root/fathom" --threads "$threads" bench layers --batch "$batch" | grep RESULT | sed 's/^RESULT //' >> "$out"
  FATHOM_BLOCKED_LAYOUTS=0 GOMP_SPINCOUNT=3000 "$root/fathom" --threads "$threads" bench layers --batch "$batch" | grep RESULT \
    | sed -e 's/^RESULT //' -e 's/"lib": "fathom"/"lib": "fathom-spin"/' >> "$out"
  "$root/fathom" --threads "$threads" bench layers --batch "$batch" --in-run | grep RESULT | sed 's/^RESULT //' >> "$out"
  if /usr/bin/python3 -c "import torch" 2>/dev/null; then
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
nan = float("nan")
def t(libs, lib, key):
    return libs[lib][key] if lib in libs else nan
print(f"{'':28s} {'forward':^44s} | {'backward':^44s}")
print(f"{'layer':22s} {'batch':>5s} {'Fathom':>8s} {'PyTorch':>8s} {'dflt':>6s} {'sleep':>6s} {'spin':>6s} {'run':>6s} |"
      f" {'Fathom':>8s} {'PyTorch':>8s} {'dflt':>6s} {'sleep':>6s} {'spin':>6s} {'run':>6s}")
for (layer, batch), libs in by.items():
    if "fathom" not in libs or "pytorch" not in libs:
        continue
    cells = []
    for key in ("forward_ms", "backward_ms"):
        f, fs, fr = t(libs, "fathom", key), t(libs, "fathom-spin", key), t(libs, "fathom-run", key)
        p, pp = t(libs, "pytorch", key), t(libs, "pytorch-passive", key)
        cells.append(f"{f:8.3f} {p:8.3f} {p / f:6.2f} {pp / f:6.2f} {p / fs:6.2f} {p / fr:6.2f}")
    print(f"{layer:22s} {batch:5d} {cells[0]} | {cells[1]}")
print("ratios = PyTorch time / Fathom time (> 1: Fathom faster). dflt: both defaults (Fathom's idle threads")
print("sleep, PyTorch's spin); sleep: both sleep (PyTorch with OMP_WAIT_POLICY=PASSIVE); spin: both spin")
print("(Fathom with GOMP_SPINCOUNT=3000, PyTorch's default); run: Fathom inside a run of layers (nChw16c")
print("input and output gradient where the kernels keep it) against PyTorch's default.")
PY
