#!/usr/bin/env bash
# Character language-model training tokens/s of Fathom and PyTorch CPU in one
# run (train_charlm.py's workload: one-hot input, hidden 256, 35 steps, batch
# 32, SGD lr 1, clipping 1), 2 threads; prints a ratio table.
# usage: ci/bench-charlm.sh [out.jsonl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-charlm.jsonl}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
data=${FATHOM_CHARLM_DATA:-$root/../shared/data/timemachine.txt}
mkdir -p "$(dirname "$out")"
: > "$out"
for cell in rnn gru lstm; do
  "$root/fathom" --threads 2 bench charlm --cell "$cell" --data "$data" | grep RESULT | sed 's/^RESULT //' >> "$out"
  if [[ -f "$ref/train_charlm.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
    # Twice: PyTorch's default (OpenMP threads spin between regions) and with passive waiting, which
    # is what Fathom uses; on a busy machine the spinning default collapses and flatters Fathom.
    (cd "$ref" && /usr/bin/python3 train_charlm.py --cell "$cell" --threads 2 --data "$data" --out "$out" \
      --tag default > /dev/null && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 train_charlm.py --cell "$cell" \
      --threads 2 --data "$data" --out "$out" --tag passive > /dev/null) || echo "PyTorch baseline failed" >&2
  fi
done
"$root/fathom" --threads 2 bench charlm --cell gru-notes --data "$data" | grep RESULT | sed 's/^RESULT //' >> "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
fathom = {r["cell"]: r for r in rows if r.get("bench") == "fathom_charlm"}
torch = {(r["cell"], r.get("tag")): r for r in rows if r.get("bench") == "charlm"}
nan = float("nan")
print(f"{'cell':10s} {'Fathom tok/s':>13s} {'PyTorch':>9s} {'ratio':>6s} {'PyTorch passive':>16s} {'ratio':>6s} {'foreign cores':>14s}")
for cell, f in fathom.items():
    ft = f["tok_per_s_median_iter"]
    d, p = torch.get((cell, "default")), torch.get((cell, "passive"))
    dt = d["tok_per_s_median_iter"] if d else nan
    pt = p["tok_per_s_median_iter"] if p else nan
    fc = p["foreign_cores"]["median"] if p and isinstance(p.get("foreign_cores"), dict) else nan
    print(f"{cell:10s} {ft:13.0f} {dt:9.0f} {ft / dt:6.2f} {pt:16.0f} {ft / pt:6.2f} {fc:14.2f}")
print("ratio = Fathom / PyTorch tokens per second (> 1: Fathom faster); gru = torch.nn.GRU's cell, gru-notes = the notes' cell")
PY
