#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer) of every loader of untrusted input, one
# target at a time, SECONDS each (default 60). The regression inputs under
# java/src/test/resources/**/<Class>Inputs/ run in every `mvn test`; a
# finding is written there by Jazzer, to be fixed and committed.
# usage: ci/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=(
  "data.LoaderFuzzTest#idxImages" "data.LoaderFuzzTest#idxLabelsGzip" "data.LoaderFuzzTest#csv"
  "io.SafeTensorsCoverageFuzzTest#read"
  "text.TextFuzzTest#vocab" "text.TextFuzzTest#corpus" "text.TextFuzzTest#languageModelCheckpoint"
)
mvn -B -ntp -q install -DskipTests -pl java -am
for t in "${targets[@]}"; do
  echo "== fuzzing dev.fathom.$t for ${seconds}s"
  JAZZER_FUZZ=1 mvn -B -ntp surefire:test -pl java -Dtest="dev.fathom.$t" \
    -Djazzer.max_duration="${seconds}s" 2>&1 | grep -E "Done [0-9]+ runs|Tests run:|FAIL|Java Exception" || true
done
