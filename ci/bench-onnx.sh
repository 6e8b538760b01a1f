#!/usr/bin/env bash
# ResNet-18 inference: Fathom's ONNX import (as loaded, and loadForInference) and zoo module
# against ONNX Runtime's CPU provider, batch 1 and 256, 2 threads, in one run per waiting mode
# (OnnxRuntimeBench): Fathom's workers sleeping (its default, OMP_WAIT_POLICY=PASSIVE) and with a
# bounded spin (GOMP_SPINCOUNT=3000, as ci/bench-cnn.sh); ONNX Runtime spins by default.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q install -DskipTests -pl onnx -am
for wait in sleep spin; do
  echo "Fathom workers: $wait"
  env=(env)
  [[ $wait == spin ]] && env+=(GOMP_SPINCOUNT=3000)
  "${env[@]}" mvn -B -ntp test -pl onnx -Donnx.excludedGroups=none -Dgroups=bench -Dtest=OnnxRuntimeBench \
    -Dsurefire.failIfNoSpecifiedTests=false 2>&1 | grep -E "^\||Tests run:|FAIL"
done
