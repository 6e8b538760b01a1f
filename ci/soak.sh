#!/usr/bin/env bash
# The long soak: SoakTest with 1e6 mixed ops, 10,000 LeNet-BN training steps,
# 3,000 LSTM steps and 16 Predictor callers for SERVE_SECONDS (default 120),
# in the surefire execution whose heap is fixed and pre-touched (java/pom.xml),
# so that the resident memory it prints and checks is native memory.
# CI runs the bounded version (1e5 ops, 400 steps) inside mvn test.
# usage: ci/soak.sh [serve_seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
serve=${1:-120}
mvn -B -ntp -q install -DskipTests -pl java -am
mvn -B -ntp surefire:test@soak -pl java -Dfathom.soak.ops=1000000 -Dfathom.soak.steps=10000 \
  -Dfathom.soak.lmSteps=3000 -Dfathom.soak.serveSeconds="$serve" 2>&1 \
  | grep -E "SoakTest:|Tests run:|FAIL|expected" 
