#!/usr/bin/env bash
# ResNet-18 inference: Fathom's ONNX import and zoo module against ONNX Runtime's
# CPU provider, batch 1 and 256, 2 threads, in one run (OnnxRuntimeBench).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q install -DskipTests -pl onnx -am
mvn -B -ntp test -pl onnx -Donnx.excludedGroups=none -Dgroups=bench -Dtest=OnnxRuntimeBench \
  -Dsurefire.failIfNoSpecifiedTests=false 2>&1 | grep -E "^\||Tests run:|FAIL"
