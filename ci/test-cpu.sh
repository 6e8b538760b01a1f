#!/usr/bin/env bash
# The full CPU test run: CMake build, GoogleTest suites through ctest, JNI
# bindings, JUnit 5 tests of the Java API, and the platform jar.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp install "$@"
