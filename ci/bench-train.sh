#!/usr/bin/env bash
# Training throughput (images/s, batch 256) of Fathom and PyTorch CPU on the
# same machine in one run, alternating, for softmax regression and the MLP.
# A second baseline, PyTorch 2.7.1 through DJL (bench/djl, ci/bench-djl.sh),
# runs beside them in both waiting modes when Java and Maven are there; the
# closing table gives each library's median over the rounds of this run.
# usage: ci/bench-train.sh [out.jsonl] [threads] [iters]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-train.jsonl}
threads=${2:-2}
iters=${3:-300}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
mkdir -p "$(dirname "$out")"
# shellcheck source=ci/bench-djl.sh
source "$root/ci/bench-djl.sh"
# The file is appended to: the table reads only the lines this run adds.
lines_before=0
[[ -f $out ]] && lines_before=$(wc -l < "$out")
# Three alternating rounds: this machine is shared and noisy, so compare medians.
for round in 1 2 3; do
  for model in softmax mlp; do
    "$root/fathom" --threads "$threads" bench train --model "$model" --iters "$iters" | tee -a "$out"
    if [[ -f "$ref/train_fmnist.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
      (cd "$ref" && /usr/bin/python3 train_fmnist.py --model "$model" --threads "$threads" \
        --max-iters "$((iters + 5))" --no-eval --out "$out" | grep RESULT | grep -oE "\"img_per_s_median_iter\": [0-9.]+|\"foreign_cores\": {[^}]*}" | tr "\n" " "; echo) ||
        echo "bench-train: PyTorch baseline failed" >&2
    fi
    if have_djl; then
      for wait in spin sleep; do
        (djl "$wait" train --model "$model" --threads "$threads" --max-iters "$((iters + 5))" --no-eval \
          --out "$out" | grep RESULT | grep -oE "\"(bench|tag)\": \"[a-z_]+\"|\"img_per_s_median_iter\": [0-9.]+" \
          | tr "\n" " "; echo) || echo "bench-train: DJL baseline failed" >&2
      done
    fi
  done
done
/usr/bin/python3 - "$out" "$lines_before" <<'PY'
import json, statistics, sys
rows = []
for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):]:
    l = l.strip()
    if l.startswith("RESULT "):
        l = l[len("RESULT "):]
    if l.startswith("{"):
        rows.append(json.loads(l))
val = {}
for r in rows:
    b = r.get("bench")
    lib = {"fathom_train_fmnist": "fathom", "train_fmnist": "pytorch"}.get(b)
    if b == "djl_train_fmnist":
        lib = "djl-" + r.get("tag", "")
    if lib:
        val.setdefault((r["model"], lib), []).append(r["img_per_s_median_iter"])
nan = float("nan")
med = lambda m, lib: statistics.median(val[(m, lib)]) if (m, lib) in val else nan
libs = [("pytorch", "PyTorch 1.13"), ("djl-spin", "DJL-PT 2.7"), ("djl-sleep", "DJL-PT sleep")]
print(f"{'img/s, median of rounds':24s} {'Fathom':>8s}" + "".join(f" {n:>12s} {'ratio':>6s}" for _, n in libs)
      + f" {'best':>6s}")
for m in sorted({k[0] for k in val}):
    f = med(m, "fathom")
    base = [med(m, lib) for lib, _ in libs]
    known = [b for b in base if b == b]
    best = f / max(known) if known else nan
    print(f"{m:24s} {f:8.0f}" + "".join(f" {b:12.0f} {f / b:6.2f}" for b in base) + f" {best:6.2f}")
print("ratio = Fathom / baseline images per second (> 1: Fathom faster); best: against the fastest baseline.")
print("Fathom and PyTorch 1.13: their default waiting; DJL-PT: PyTorch 2.7.1 through DJL 0.36 (bench/djl),")
print("threads spinning (its default) and sleeping (OMP_WAIT_POLICY=PASSIVE).")
PY
echo "bench-train: results in $out"
