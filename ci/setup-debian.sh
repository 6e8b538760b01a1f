#!/usr/bin/env bash
# Installs the system packages the build needs on Debian/Ubuntu (JDK 17 and
# Maven are assumed). Idempotent and non-interactive: apt runs only when a
# package is missing. Run time needs none of these: the jars carry the libraries.
set -euo pipefail
packages=(cmake g++ make libgtest-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
  echo "setup-debian: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for tool in java mvn cmake g++; do
  command -v "$tool" >/dev/null || { echo "setup-debian: $tool not found on PATH" >&2; exit 1; }
done
