#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer) of every loader of untrusted input, one
# target at a time, ROUNDS runs of its @FuzzTest maxDuration each (default 6;
# the corpus in java/.cifuzz-corpus carries over between rounds and runs). The regression inputs under
# java/src/test/resources/**/<Class>Inputs/ run in every `mvn test`; a
# finding is written there by Jazzer, to be fixed and committed.
# usage: ci/fuzz.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
targets=(
  "data.LoaderFuzzTest#idxImages" "data.LoaderFuzzTest#idxLabelsGzip" "data.LoaderFuzzTest#csv"
  "io.SafeTensorsCoverageFuzzTest#read"
  "text.TextFuzzTest#vocab" "text.TextFuzzTest#corpus" "text.TextFuzzTest#languageModelCheckpoint"
  "text.TextFuzzTest#languageModelFile"
  "serve.ImagesFuzzTest#decode" "serve.PredictionServerFuzzTest#requestBody"
)
# Classes to instrument besides Fathom's own (Jazzer's default) for the serving
# targets: the JDK's image readers and the JSON parser, so that coverage inside
# them guides the mutations.
includes() {
  case "$1" in
    serve.ImagesFuzzTest*) echo 'dev.fathom.**:com.sun.imageio.**:javax.imageio.**' ;;
    serve.PredictionServerFuzzTest*) echo 'dev.fathom.**:com.fasterxml.jackson.**:com.sun.imageio.**' ;;
    *) echo '' ;;
  esac
}
mvn -B -ntp -q install -DskipTests -pl java -am
for t in "${targets[@]}"; do
  for r in $(seq "$rounds"); do
    echo "== fuzzing dev.fathom.$t, round $r"
    inc=$(includes "$t")
    env JAZZER_FUZZ=1 ${inc:+"JAZZER_INSTRUMENTATION_INCLUDES=$inc"} mvn -B -ntp surefire:test -pl java -Dtest="dev.fathom.$t" 2>&1 \
      | grep -E "Done [0-9]+ runs|Tests run:|FAIL|Java Exception" || true
  done
done
