#!/usr/bin/env bash
# LeNet, LeNet-BN and ResNet-18: training images/s and inference latency of Fathom and
# PyTorch CPU in one run (the PyTorch reference scripts' method), 2 threads;
# prints a ratio table. Each library runs in both waiting modes, so that each
# ratio compares like with like: idle threads sleeping (Fathom's default;
# PyTorch with OMP_WAIT_POLICY=PASSIVE) and spinning (Fathom with a bounded
# GOMP_SPINCOUNT=3000; PyTorch's default). Fathom also runs once with every
# activation NCHW (FATHOM_BLOCKED_LAYOUTS=0, "nchw"): the last column is what
# keeping activations in nChw16c between layers gains. A second baseline,
# PyTorch 2.7.1 through DJL (bench/djl, ci/bench-djl.sh), runs the same
# workloads in both waiting modes when Java and Maven are there.
# usage: ci/bench-cnn.sh [out.jsonl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-cnn.jsonl}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
mkdir -p "$(dirname "$out")"
: > "$out"
# shellcheck source=ci/bench-djl.sh
source "$root/ci/bench-djl.sh"
have_torch() { [[ -f "$ref/train_fmnist.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; }
# Fathom's RESULT lines, tagged with the waiting mode.
fathom() {
  local wait=$1; shift
  local env=(env)
  [[ $wait == spin ]] && env+=(GOMP_SPINCOUNT=3000)
  [[ $wait == nchw ]] && env+=(FATHOM_BLOCKED_LAYOUTS=0)
  "${env[@]}" "$root/fathom" --threads 2 "$@" | grep '^RESULT ' \
    | sed -e 's/^RESULT {/{"wait": "'"$wait"'", /' >> "$out"
}
for model in lenet lenet-bn resnet18; do
  for wait in sleep spin nchw; do
    fathom "$wait" bench train --model "$model" --iters 60
  done
  if have_torch; then
    (cd "$ref" && /usr/bin/python3 train_fmnist.py --model "$model" --threads 2 --max-iters 65 --no-eval \
      --out "$out" --tag spin > /dev/null && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 train_fmnist.py \
      --model "$model" --threads 2 --max-iters 65 --no-eval --out "$out" --tag sleep > /dev/null) \
      || echo "PyTorch baseline failed" >&2
  fi
  if have_djl; then
    for wait in spin sleep; do
      djl "$wait" train --model "$model" --threads 2 --max-iters 65 --no-eval --out "$out" > /dev/null \
        || echo "DJL baseline failed" >&2
    done
  fi
done
for wait in sleep spin nchw; do
  fathom "$wait" bench infer
done
if have_torch; then
  (cd "$ref" && /usr/bin/python3 infer_bench.py "$out" > /dev/null \
    && OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 infer_bench.py "$out" > /dev/null) \
    || echo "PyTorch baseline failed" >&2
fi
if have_djl; then
  for wait in spin sleep; do
    djl "$wait" infer --threads 2 --out "$out" > /dev/null || echo "DJL baseline failed" >&2
  done
fi
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
val = {}
for r in rows:
    b = r.get("bench")
    if b == "fathom_train_fmnist":
        val[("train", r["model"], 28, 256, "fathom", r["wait"])] = r["img_per_s_median_iter"]
    elif b == "train_fmnist":
        val[("train", r["model"], 28, 256, "pytorch", r["tag"])] = r["img_per_s_median_iter"]
    elif b == "djl_train_fmnist":
        val[("train", r["model"], 28, 256, "djl", r["tag"])] = r["img_per_s_median_iter"]
    elif b == "fathom_infer":
        val[("infer", r["model"], r["size"], r["batch"], "fathom", r["wait"])] = r["latency_ms_median"]
    elif b == "infer":
        wait = "sleep" if r.get("OMP_WAIT_POLICY") == "PASSIVE" else "spin"
        val[("infer", r["model"], r["size"], r["batch"], "pytorch", wait)] = r["latency_ms"]["median"]
    elif b == "djl_infer":
        val[("infer", r["model"], r["size"], r["batch"], "djl", r["tag"])] = r["latency_ms"]["median"]
nan = float("nan")
keys = sorted({k[:4] for k in val}, key=lambda k: (k[0] != "train", k[1], k[2], k[3]))
print(f"{'':36s} {'Fathom':>9s} {'PyTorch':>9s} {'DJL-PT':>9s} |{'Fathom / PyTorch 1.13':^21s} |"
      f"{'Fathom / DJL-PT 2.7':^21s} | {'best':>5s} {'blocked':>7s}")
print(f"{'measurement':36s} {'':>9s} {'1.13':>9s} {'2.7':>9s} |"
      + f" {'dflt':>6s} {'sleep':>6s} {'spin':>6s} |" * 2 + f" {'':>5s} {'':>7s}")
for kind, model, size, batch in keys:
    g = lambda lib, wait: val.get((kind, model, size, batch, lib, wait), nan)
    fs, fp, fn = g("fathom", "sleep"), g("fathom", "spin"), g("fathom", "nchw")
    if kind == "train":  # images/s: higher is better
        name, ratio, better = f"{model} training img/s", lambda f, t: f / t, max
    else:                # latency: lower is better
        name, ratio, better = f"{model}@{size} inference ms, batch {batch}", lambda f, t: t / f, min
    cols = []
    for lib in ("pytorch", "djl"):
        ts, tp = g(lib, "spin"), g(lib, "sleep")
        cols.append(f" {ratio(fs, ts):6.2f} {ratio(fs, tp):6.2f} {ratio(fp, ts):6.2f} |")
    base = [v for v in (g(l, w) for l in ("pytorch", "djl") for w in ("spin", "sleep")) if v == v]
    best = ratio(fs, better(base)) if base else nan
    print(f"{name:36s} {fs:9.4g} {g('pytorch', 'spin'):9.4g} {g('djl', 'spin'):9.4g} |" + "".join(cols)
          + f" {best:5.2f} {ratio(fs, fn):7.2f}")
print("ratio > 1: Fathom faster. dflt: both defaults (Fathom sleeps, PyTorch spins); sleep: both sleep;")
print("spin: both spin (Fathom with GOMP_SPINCOUNT=3000). Fathom/PyTorch/DJL-PT columns: the defaults.")
print("DJL-PT: PyTorch 2.7.1 through DJL 0.36 (bench/djl). best: Fathom's default against the fastest")
print("baseline run (either library, either waiting mode).")
print("blocked: Fathom's default against Fathom with every activation NCHW (FATHOM_BLOCKED_LAYOUTS=0).")
PY
echo "bench-cnn: results in $out"
