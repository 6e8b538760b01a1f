#!/usr/bin/env bash
# A JUnit selection of the java module on an arm64 JDK under qemu user
# emulation, against the linux-arm64 platform jar of ci/build-arm64.sh.
#
#   ci/test-arm64-jvm.sh [extra Maven arguments, e.g. -o -Dmaven.repo.local=...]
#
# 1. Runs ci/build-arm64.sh (without its ctest run) unless its jar is in
#    presets/target; that script installs fathom-presets and its linux-arm64
#    jar in the local Maven repository, where step 2 resolves them.
# 2. With the host's (x86-64) Maven and JDK: compiles the java module and its
#    tests, and resolves the test class path with -Djavacpp.platform=linux-arm64,
#    so that it holds the linux-arm64 jars of fathom-presets and of bytedeco's
#    javacpp, openblas and dnnl; fetches JUnit's console launcher of the
#    pom's JUnit version.
# 3. Under qemu-aarch64 with Debian's arm64 JDK (openjdk-17-jdk-headless:arm64,
#    multiarch): runs ci/arm64/NativeCheck.java, which fails unless os.arch is
#    aarch64 and a matmul on the native core is right, and prints the path of
#    every native library JavaCPP loaded; each of them must be AArch64
#    (readelf). Then the JUnit selection below, with the tags surefire excludes.
#
# The JVM is slow under emulation (docs/platforms.md has the figures), so the
# selection is a subset: FATHOM_ARM64_JUNIT replaces it (console launcher
# selectors, e.g. "--select-class dev.fathom.FathomTest"). QEMU_CPU as in
# ci/build-arm64.sh. Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
jdk=${FATHOM_ARM64_JDK:-/usr/lib/jvm/java-17-openjdk-arm64}
export QEMU_CPU=${QEMU_CPU:-max,sve-default-vector-length=32}

version=$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' presets/pom.xml | tail -1)
junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
# JUnit 5.x.y ships with JUnit Platform 1.x.y.
platform_version=1.${junit#5.}

# --- host packages --------------------------------------------------------------
need=()
[[ -x $jdk/bin/java ]] || need+=(openjdk-17-jdk-headless:arm64)
if ((${#need[@]})); then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# --- 1. the linux-arm64 platform jar ----------------------------------------------
if [[ ! -f presets/target/fathom-presets-$version-linux-arm64.jar ]]; then
  FATHOM_ARM64_SKIP_TESTS=1 ci/build-arm64.sh "$@"
fi
command -v qemu-aarch64-static >/dev/null && qemu=qemu-aarch64-static || qemu=qemu-aarch64

# --- 2. classes and the arm64 test class path --------------------------------------
work=$(mktemp -d /tmp/arm64-jvm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mvn -B -ntp "$@" -pl java -Djavacpp.platform=linux-arm64 \
  test-compile dependency:build-classpath dependency:copy \
  -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test \
  -Dartifact=org.junit.platform:junit-platform-console-standalone:"$platform_version" \
  -DoutputDirectory="$work"
launcher=$work/junit-platform-console-standalone-$platform_version.jar
# The launcher bundles the JUnit Platform and Jupiter: the pom's copies stay out.
deps=$(tr ':' '\n' <"$work/cp.txt" |
  grep -Ev '/(junit-jupiter|junit-platform|opentest4j|apiguardian)[^/]*\.jar$' | paste -sd:)
for a in fathom-presets javacpp openblas dnnl; do
  if ! tr ':' '\n' <<<"$deps" | grep -q "/$a-[^/]*-linux-arm64\.jar$"; then
    echo "test-arm64-jvm: no linux-arm64 $a jar on the class path" >&2
    exit 1
  fi
done
if tr ':' '\n' <<<"$deps" | grep -q 'linux-x86_64'; then
  echo "test-arm64-jvm: a linux-x86_64 jar is on the class path" >&2
  exit 1
fi
javac -d "$work/check" -cp "java/target/classes:$deps" ci/arm64/NativeCheck.java
prepared=$SECONDS

# A cache of its own, so that what is checked below is what this run extracted.
# FORK: the default launch mechanism execs the JDK's arm64 jspawnhelper, which
# the host kernel cannot run without binfmt_misc; forked, the JVM execs the
# program itself (PyTorchCompatTest's host python3).
jvm=("$qemu" "$jdk/bin/java" -Dorg.bytedeco.javacpp.cachedir="$work/javacpp-cache"
  -Djdk.lang.Process.launchMechanism=FORK)
cp_all=$root/java/target/test-classes:$root/java/target/classes:$deps

# --- 3a. an arm64 JVM that loads arm64 libraries --------------------------------
(cd java && "${jvm[@]}" -cp "$work/check:$cp_all" NativeCheck) | tee "$work/check.txt"
loaded=0
while read -r _ name path; do
  machine=$(readelf -h "$path" | sed -n 's/^ *Machine: *//p')
  if [[ $machine != AArch64 ]]; then
    echo "test-arm64-jvm: $name was loaded from $path, which is '$machine'" >&2
    exit 1
  fi
  loaded=$((loaded + 1))
done < <(grep '^lib ' "$work/check.txt")
for lib in jnifathom fathom; do
  grep -q "^lib $lib " "$work/check.txt" || { echo "test-arm64-jvm: $lib not loaded" >&2; exit 1; }
done
echo "test-arm64-jvm: $loaded native libraries loaded, all AArch64"
checked=$SECONDS

# --- 3b. the JUnit selection ------------------------------------------------------
# Numerical gradient checks of every differentiable op; element-wise, reduction
# and matmul kernels, conv/pool/batch-norm layers and RNN kernels against their
# references (the float64 ref path vs the float32 oneDNN/OpenBLAS one); layers,
# losses and optimizers against reference formulas; LeNet forward/backward, a
# small Trainer run and a LeNet-BN training run resumed bitwise from a
# checkpoint; safetensors round trip, checkpoints and PyTorch's LeNet-BN logits
# from its weights; Predictor under 16 threads; bad inputs refused through the
# C ABI; the native core's runtime information and plans. BlockedLayoutTest is
# left out: the AArch64 oneDNN kernels keep NCHW, so it skips itself. One
# LeNet epoch on Fashion-MNIST (ReadmeLandingExampleTest) takes about 8.5
# minutes here: FATHOM_ARM64_JUNIT="--select-class
# dev.fathom.train.ReadmeLandingExampleTest" runs it.
default_selection="
  --select-class dev.fathom.FathomTest
  --select-class dev.fathom.tensor.TensorTest
  --select-class dev.fathom.tensor.GradCheckTest
  --select-class dev.fathom.tensor.KernelReferenceTest
  --select-class dev.fathom.tensor.RnnOpTest
  --select-class dev.fathom.tensor.RnnReferenceGradCheckTest
  --select-class dev.fathom.nn.CnnLayersTest
  --select-class dev.fathom.nn.NnTest
  --select-class dev.fathom.nn.RecurrentLayersTest
  --select-class dev.fathom.nn.rnn.RnnReferenceTest
  --select-class dev.fathom.linalg.GemmTest
  --select-class dev.fathom.loss.CrossEntropyLossTest
  --select-class dev.fathom.optim.SGDTest
  --select-class dev.fathom.optim.AdamTest
  --select-method dev.fathom.zoo.ModelsTest#lenetStageShapes
  --select-method dev.fathom.zoo.ModelsTest#forwardAndBackwardAtReducedSize
  --select-class dev.fathom.train.TrainerTest
  --select-method dev.fathom.train.TrainerResumeTest#lenetBatchNormAdamAndCosineResumesExactly
  --select-class dev.fathom.io.SafeTensorsTest
  --select-class dev.fathom.io.PyTorchCompatTest
  --select-class dev.fathom.serve.PredictorTest
  --select-class dev.fathom.hardening.BadInputMatrixTest
  --select-class dev.fathom.internal.nativ.OpTableTest
  --select-class dev.fathom.internal.nativ.Conv2dPlanTest
  --select-class dev.fathom.internal.nativ.FamilyPlansTest"
read -r -d "" -a selection <<<"${FATHOM_ARM64_JUNIT:-$default_selection}" || true
rm -rf java/target/arm64-junit
mkdir -p java/target/arm64-junit
set +e
# Working directory java/, as under surefire (tests read paths relative to it).
(cd java && "${jvm[@]}" -cp "$launcher:$cp_all" org.junit.platform.console.ConsoleLauncher execute \
  --disable-banner --disable-ansi-colors --details=tree --exclude-tag=gpu --fail-if-no-tests \
  --reports-dir="$root/java/target/arm64-junit" "${selection[@]}")
rc=$?
set -e
echo "test-arm64-jvm: QEMU_CPU=$QEMU_CPU; build and class path $((prepared - start)) s," \
  "native check $((checked - prepared)) s, JUnit $((SECONDS - checked)) s;" \
  "reports in java/target/arm64-junit"
exit $rc
