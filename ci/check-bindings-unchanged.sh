#!/usr/bin/env bash
# Regenerates the JavaCPP bindings from native/include/fathom/fathom.h and
# fails when they differ from the committed presets/src/gen/java: every ABI
# change must show up as a reviewed Java diff.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q -pl presets -am generate-sources -Dfathom.skipNative=true
if ! git diff --exit-code -- presets/src/gen/java; then
  echo "check-bindings-unchanged: regenerated bindings differ; commit presets/src/gen/java" >&2
  exit 1
fi
if [[ -n "$(git status --porcelain -- presets/src/gen/java)" ]]; then
  git status --porcelain -- presets/src/gen/java
  echo "check-bindings-unchanged: new generated files are not committed" >&2
  exit 1
fi
