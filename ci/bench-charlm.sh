#!/usr/bin/env bash
# Character language-model training tokens/s of Fathom and PyTorch CPU in one
# run (train_charlm.py's workload: one-hot input, hidden 256, 35 steps, batch
# 32, SGD lr 1, clipping 1), 2 threads; prints a ratio table. A second
# baseline, PyTorch 2.7.1 through DJL (bench/djl, ci/bench-djl.sh), runs the
# same workload in both waiting modes when Java and Maven are there.
# usage: ci/bench-charlm.sh [out.jsonl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-charlm.jsonl}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
data=${FATHOM_CHARLM_DATA:-$root/../shared/data/timemachine.txt}
mkdir -p "$(dirname "$out")"
: > "$out"
# shellcheck source=ci/bench-djl.sh
source "$root/ci/bench-djl.sh"
for cell in rnn gru lstm; do
  "$root/fathom" --threads 2 bench charlm --cell "$cell" --data "$data" | grep RESULT | sed 's/^RESULT //' >> "$out"
  if [[ -f "$ref/train_charlm.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
    # Twice: PyTorch's default (OpenMP threads spin between regions) and with passive waiting, which
    # is what Fathom uses; on a busy machine the spinning default collapses and flatters Fathom.
    (cd "$ref" && /usr/bin/python3 train_charlm.py --cell "$cell" --threads 2 --data "$data" --out "$out" \
      --tag default > /dev/null && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 train_charlm.py --cell "$cell" \
      --threads 2 --data "$data" --out "$out" --tag passive > /dev/null) || echo "PyTorch baseline failed" >&2
  fi
  if have_djl; then
    for wait in spin sleep; do
      djl "$wait" charlm --cell "$cell" --threads 2 --data "$data" --out "$out" > /dev/null \
        || echo "DJL baseline failed" >&2
    done
  fi
done
"$root/fathom" --threads 2 bench charlm --cell gru-notes --data "$data" | grep RESULT | sed 's/^RESULT //' >> "$out"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
fathom = {r["cell"]: r for r in rows if r.get("bench") == "fathom_charlm"}
torch = {(r["cell"], r.get("tag")): r for r in rows if r.get("bench") == "charlm"}
djl = {(r["cell"], r.get("tag")): r for r in rows if r.get("bench") == "djl_charlm"}
nan = float("nan")
tps = lambda r: r["tok_per_s_median_iter"] if r else nan
print(f"{'':10s} {'Fathom':>8s} |" + "".join(f"{h:^16s} |" for h in
      ("PyTorch 1.13", "PT 1.13 passive", "DJL-PT 2.7", "DJL-PT 2.7 sleep")) + f" {'best':>5s} {'foreign':>7s}")
print(f"{'cell':10s} {'tok/s':>8s} |" + f" {'tok/s':>8s} {'ratio':>6s} |" * 4 + f" {'ratio':>5s} {'cores':>7s}")
for cell, f in fathom.items():
    ft = tps(f)
    base = [torch.get((cell, "default")), torch.get((cell, "passive")), djl.get((cell, "spin")), djl.get((cell, "sleep"))]
    p = base[1]
    fc = p["foreign_cores"]["median"] if p and isinstance(p.get("foreign_cores"), dict) else nan
    cols = "".join(f" {tps(b):8.0f} {ft / tps(b):6.2f} |" for b in base)
    known = [tps(b) for b in base if b]
    best = ft / max(known) if known else nan
    print(f"{cell:10s} {ft:8.0f} |{cols} {best:5.2f} {fc:7.2f}")
print("ratio = Fathom / baseline tokens per second (> 1: Fathom faster); gru = torch.nn.GRU's cell, gru-notes = the notes' cell")
print("PyTorch 1.13 and DJL-PT 2.7: threads spin between regions (default); passive, sleep: OMP_WAIT_POLICY=PASSIVE.")
print("DJL-PT: PyTorch 2.7.1 through DJL 0.36 (bench/djl). best: Fathom against the fastest baseline run.")
print("foreign cores: other processes' CPU during the PyTorch 1.13 passive run (0 = idle machine).")
PY
