#!/usr/bin/env bash
# Data-parallel training figures on this machine (docs/spark.md):
#   1. one ring all-reduce between two replicas against the buffer size (AllReduceBench);
#   2. LeNet on Fashion-MNIST, one epoch, through ./fathom example spark in
#      local-cluster[2,1,1024] (two executor JVMs of one core each): 1 replica, then 2
#      replicas with the ring, then 2 with BarrierTaskContext.allGather;
#   3. the baseline: ./fathom train on one thread, the same epoch in one process.
#   ci/bench-spark.sh [epochs, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-1}
out=${FATHOM_BENCH_OUT:-runs/bench-spark}
mkdir -p "$out"
mvn -B -ntp -q install -DskipTests
mvn -B -ntp -q test -pl spark -Dspark.excludedGroups=none -Dgroups=bench -Dtest=AllReduceBench \
  -Dsurefire.failIfNoSpecifiedTests=false | grep '^|' | tee "$out/allreduce.md"
common=(--model lenet --epochs "$epochs" --batch-size 128 --evaluate false)
./fathom example spark "${common[@]}" --workers 1 --out "$out/w1" | tail -1
./fathom example spark "${common[@]}" --workers 2 --out "$out/w2-ring" | tail -1
./fathom example spark "${common[@]}" --workers 2 --transport allgather --out "$out/w2-allgather" | tail -1
./fathom train --model lenet --epochs "$epochs" --batch-size 256 --threads 1 --out "$out/single" | tail -1
echo "| run | batch per step | epoch s | examples/s | steps/s | all-reduce ms/step |"
echo "|---|---|---|---|---|---|"
for r in w1 w2-ring w2-allgather; do
  python3 - "$out/$r" <<'PY'
import json, sys, csv
d = json.load(open(sys.argv[1] + "/spark.json"))
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
s = float(rows[-1]['seconds'])
n = d['steps_per_replica'] * d['workers'] * d['batch_per_worker'] / len(rows)
print(f"| {sys.argv[1].split('/')[-1]} | {d['workers']} x {d['batch_per_worker']} | {s:.1f} | {n / s:.0f}"
      f" | {d['steps_per_second']:.1f} | {d['allreduce_ms_per_step']:.2f} |")
PY
done
python3 - "$out/single" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
s = float(rows[-1]['seconds'])
print(f"| one process, ./fathom train --threads 1 (test pass included) | 256 | {s:.1f} | {60000 / s:.0f} | - | - |")
PY
