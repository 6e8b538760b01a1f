#!/usr/bin/env bash
# Native core + JNI bindings + platform jar (no tests): fathom-presets.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -pl presets -am install -DskipTests "$@"
