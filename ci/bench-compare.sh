#!/usr/bin/env bash
# This build against another checkout of Fathom (e.g. the previous commit,
# built with `mvn install -DskipTests`), same machine, same run, alternating:
# training images/s of softmax, MLP, LeNet, LeNet-BN and ResNet-18,
# inference latency (bench infer) and char-LM training tokens/s (RNN, GRU,
# LSTM), 2 threads, sleeping waits. Prints
# new/old ratios (> 1: this build is faster) per workload, medians of rounds.
# usage: ci/bench-compare.sh <other-root> [rounds] [out.jsonl]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
other=$(cd "${1:?usage: ci/bench-compare.sh <other-root> [rounds] [out.jsonl]}" && pwd)
rounds=${2:-2}
out=${3:-$root/build/bench-compare.jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
run() {
  local tag=$1 dir=$2; shift 2
  "$dir/fathom" --threads 2 "$@" | grep '^RESULT ' | sed -e 's/^RESULT {/{"build": "'"$tag"'", /' >> "$out"
}
for round in $(seq "$rounds"); do
  for model in softmax mlp lenet lenet-bn resnet18; do
    iters=60; [[ $model == softmax || $model == mlp ]] && iters=300
    run new "$root" bench train --model "$model" --iters "$iters"
    run old "$other" bench train --model "$model" --iters "$iters"
  done
  run new "$root" bench infer
  run old "$other" bench infer
  run new "$root" bench charlm --cell rnn,gru,lstm
  run old "$other" bench charlm --cell rnn,gru,lstm
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
vals = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("bench") == "fathom_train_fmnist":
        key, v = ("train " + r["model"], "img/s"), r["img_per_s_median_iter"]
    elif r.get("bench") == "fathom_charlm":
        key, v = ("train charlm " + r["cell"], "tok/s"), r["tok_per_s_median_iter"]
    elif r.get("bench") == "fathom_infer":
        key, v = ("infer %s %dpx b%d" % (r["model"], r["size"], r["batch"]), "ms"), r["latency_ms_median"]
    else:
        continue
    vals.setdefault(key, {}).setdefault(r["build"], []).append(v)
print("| workload | new | old | new/old speed |")
print("|---|---|---|---|")
for (name, unit), by in vals.items():
    if "new" not in by or "old" not in by:
        continue
    new, old = statistics.median(by["new"]), statistics.median(by["old"])
    ratio = old / new if unit == "ms" else new / old
    print("| %s | %.4g %s | %.4g %s | %.2f |" % (name, new, unit, old, unit, ratio))
PY
