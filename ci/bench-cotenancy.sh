#!/usr/bin/env bash
# Co-tenancy: each library trains LeNet and ResNet-18 (Fashion-MNIST batches, 2 threads) alone
# and then beside one busy neighbour process (a single-threaded loop, as a service's request
# thread would be), on the same cores. Reports each library's throughput beside the neighbour
# as a share of its throughput alone, and the neighbour's work rate beside each library as a
# share of its rate alone. On 2 cores with 2 library threads + 1 neighbour thread, a fair
# scheduler gives each thread 2/3 of a core: the neighbour keeps ~0.67 of its rate (1.0 when
# the library's idle threads really sleep between ops) and a library that shares fairly keeps
# ~0.5-0.67 of its throughput. Spinning idle threads take the neighbour's share instead.
# Libraries: Fathom (default: idle threads sleep), PyTorch 1.13 (default: spinning OpenMP, and
# OMP_WAIT_POLICY=PASSIVE), DJL-PyTorch 2.7 (both modes), each where installed.
# usage: ci/bench-cotenancy.sh [out.jsonl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/bench-cotenancy.jsonl}
ref=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
mkdir -p "$(dirname "$out")"
: > "$out"
# shellcheck source=ci/bench-djl.sh
source "$root/ci/bench-djl.sh"
have_torch() { [[ -f "$ref/train_fmnist.py" ]] && /usr/bin/python3 -c "import torch" 2>/dev/null; }
rates=$(mktemp -d)
trap 'rm -rf "$rates"' EXIT

# The neighbour: counts loop iterations until SIGTERM, then writes iterations per second.
neighbour_start() {
  /usr/bin/python3 -c '
import signal, sys, time
n, t0 = 0, time.perf_counter()
def stop(*_):
    open(sys.argv[1], "w").write(str(n / (time.perf_counter() - t0)))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    n += 1
' "$1" &
  neighbour_pid=$!
  sleep 0.5
}
neighbour_stop() {
  kill -TERM "$neighbour_pid"
  wait "$neighbour_pid" || true
}
# One library run, alone ("alone") or beside the neighbour ("beside"); RESULT lines are tagged.
run() {
  local lib=$1 wait=$2 model=$3 where=$4 tagged
  tagged='{"cotenancy": "'"$where"'", "lib": "'"$lib"'", "wait": "'"$wait"'", '
  [[ $where == beside ]] && neighbour_start "$rates/$lib-$wait-$model"
  case $lib in
    fathom)
      "$root/fathom" --threads 2 bench train --model "$model" --iters 60 | grep '^RESULT ' \
        | sed -e "s/^RESULT {/$tagged/" >> "$out" ;;
    pytorch)
      local env=(env -u OMP_WAIT_POLICY) tmp
      [[ $wait == sleep ]] && env=(env OMP_WAIT_POLICY=PASSIVE)
      tmp=$(mktemp)
      (cd "$ref" && "${env[@]}" /usr/bin/python3 train_fmnist.py --model "$model" --threads 2 \
        --max-iters 65 --no-eval --out "$tmp" --tag "$wait" > /dev/null) || echo "PyTorch run failed" >&2
      sed -e "s/^{/$tagged/" "$tmp" >> "$out"
      rm -f "$tmp" ;;
    djl)
      local tmp
      tmp=$(mktemp)
      djl "$wait" train --model "$model" --threads 2 --max-iters 65 --no-eval --out "$tmp" > /dev/null \
        || echo "DJL run failed" >&2
      sed -e "s/^{/$tagged/" "$tmp" >> "$out"
      rm -f "$tmp" ;;
  esac
  if [[ $where == beside ]]; then
    neighbour_stop
    echo '{"cotenancy": "neighbour", "lib": "'"$lib"'", "wait": "'"$wait"'", "model": "'"$model"'", "loops_per_s": '"$(cat "$rates/$lib-$wait-$model")"'}' >> "$out"
  fi
}

neighbour_start "$rates/solo"
sleep 10
neighbour_stop
echo '{"cotenancy": "neighbour", "lib": "none", "loops_per_s": '"$(cat "$rates/solo")"'}' >> "$out"
libs=("fathom sleep")
have_torch && libs+=("pytorch spin" "pytorch sleep")
have_djl && libs+=("djl spin" "djl sleep")
for model in lenet resnet18; do
  for entry in "${libs[@]}"; do
    read -r lib wait <<< "$entry"
    run "$lib" "$wait" "$model" alone
    run "$lib" "$wait" "$model" beside
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
solo = next(r["loops_per_s"] for r in rows if r["cotenancy"] == "neighbour" and r["lib"] == "none")
thr = {(r["lib"], r["wait"], r["model"], r["cotenancy"]): r["img_per_s_median_iter"]
       for r in rows if r["cotenancy"] in ("alone", "beside")}
nb = {(r["lib"], r["wait"], r["model"]): r["loops_per_s"] for r in rows
      if r["cotenancy"] == "neighbour" and r["lib"] != "none"}
names = {"fathom": "Fathom", "pytorch": "PyTorch 1.13", "djl": "DJL-PyTorch 2.7"}
print(f"{'library (idle threads)':28s} {'model':9s} {'alone img/s':>11s} {'beside':>9s} {'kept':>6s} {'neighbour kept':>15s}")
for (lib, wait, model), loops in sorted(nb.items(), key=lambda kv: (kv[0][2], kv[0][0] != "fathom", kv[0])):
    a, b = thr.get((lib, wait, model, "alone"), float("nan")), thr.get((lib, wait, model, "beside"), float("nan"))
    print(f"{names[lib] + ' (' + wait + ')':28s} {model:9s} {a:11.1f} {b:9.1f} {b / a:6.2f} {loops / solo:15.2f}")
print(f"neighbour alone: {solo:.4g} loops/s (one thread). kept: throughput beside the neighbour / alone.")
PY
echo "bench-cotenancy: results in $out"
