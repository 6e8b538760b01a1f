#!/usr/bin/env bash
# Configures, builds and installs the native core with CMake; called by the
# javacpp Maven plugin in the initialize phase (presets/pom.xml).
# usage: cppbuild.sh <build-dir> <deps-dir> <install-dir> <platform> <cuda ON|OFF> <jobs> <version>
set -euo pipefail
build_dir=$1 deps_dir=$2 install_dir=$3 platform=$4 cuda=$5 jobs=$6 version=$7
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DFATHOM_DEPS_DIR="$deps_dir" -DFATHOM_INSTALL_DIR="$install_dir" \
  -DFATHOM_PLATFORM="$platform" -DFATHOM_CUDA="$cuda" -DFATHOM_VERSION_STRING="$version" >/dev/null
cmake --build "$build_dir" --parallel "$jobs"
cmake --install "$build_dir" >/dev/null
