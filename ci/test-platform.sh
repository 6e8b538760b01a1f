#!/usr/bin/env bash
# fathom-platform (platform/pom.xml): installs it, then checks it the way a
# user's project sees it, from a project in a temporary folder that depends
# on it and runs a tensor op.
#
#   ci/test-platform.sh [extra Maven arguments, e.g. -o -Dmaven.repo.local=...]
#
# Needs the jars of both platforms in the local Maven repository: the x86-64
# build (mvn install) and ci/build-arm64.sh.
# 1. mvn -Pplatform -pl platform install: resolving it needs every jar it lists.
# 2. The project with -Djavacpp.platform=linux-x86_64, then linux-arm64: its
#    class path has that platform's jars and none of the other; the op runs on
#    the host JVM (x86-64) and under qemu-aarch64 on the arm64 JDK (arm64),
#    when both are there.
# 3. The project without it: the class path has the jars of both platforms;
#    the same class path runs the op on both JVMs, each loading its own
#    platform's libraries.
# Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' platform/pom.xml | tail -1)
dep_plugin=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
arm64_jdk=${FATHOM_ARM64_JDK:-/usr/lib/jvm/java-17-openjdk-arm64}

# --- 1. the platform artifact ---------------------------------------------------
mvn -B -ntp "$@" -Pplatform -pl platform install

# --- the user's project ------------------------------------------------------------
work=$(mktemp -d /tmp/fathom-platform.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>uses-fathom-platform</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>dev.fathom</groupId>
      <artifactId>fathom-platform</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
EOF
mkdir -p "$work/src"
cat >"$work/src/Main.java" <<'EOF'
import dev.fathom.tensor.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.Loader;

public class Main {
  public static void main(String[] args) {
    try (Tensor a = Tensor.fromArray(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.fromArray(new float[] {5, 6, 7, 8}, 2, 2);
        Tensor c = a.matmul(b)) {
      float[] v = c.toFloatArray();
      System.out.println(Loader.getPlatform() + " matmul " + Arrays.toString(v));
      if (!Arrays.equals(v, new float[] {19, 22, 43, 50})) {
        throw new AssertionError(Arrays.toString(v));
      }
      if (!Loader.getPlatform().equals(args[0])) {
        throw new AssertionError("expected platform " + args[0]);
      }
    }
  }
}
EOF

classpath() { # $1: output file; further arguments go to Maven
  local out=$1
  shift
  (cd "$work" && mvn -B -ntp -q "$@" "$dep_plugin:build-classpath" -Dmdep.outputFile="$out")
}
jars() { tr ':' '\n' <"$1" | sed 's:.*/::' | sort; }
expect() { # $1: class path file, $2: jar name pattern, $3: wanted count
  local n
  n=$(jars "$1" | grep -Ec "$2" || true)
  if [[ $n != "$3" ]]; then
    echo "test-platform: $3 jar(s) matching '$2' expected on the class path, found $n:" >&2
    jars "$1" >&2
    exit 1
  fi
}

# --- 2. one platform --------------------------------------------------------------
command -v qemu-aarch64-static >/dev/null && qemu=qemu-aarch64-static || qemu=qemu-aarch64
arm64_jvm() {
  if command -v "$qemu" >/dev/null && [[ -x $arm64_jdk/bin/java ]]; then
    QEMU_CPU=${QEMU_CPU:-max,sve-default-vector-length=32} "$qemu" "$arm64_jdk/bin/java" \
      -Dorg.bytedeco.javacpp.cachedir="$work/javacpp-cache" "$@"
  else
    echo "test-platform: no qemu-aarch64 or arm64 JDK: the arm64 run is left out"
  fi
}
for p in linux-x86_64 linux-arm64; do
  other=linux-arm64
  [[ $p == linux-arm64 ]] && other=linux-x86_64
  classpath "$work/cp-$p.txt" "$@" -Djavacpp.platform=$p
  echo "test-platform: -Djavacpp.platform=$p:"
  jars "$work/cp-$p.txt" | sed 's/^/  /'
  expect "$work/cp-$p.txt" "^fathom-presets-.*-$p\.jar$" 1
  expect "$work/cp-$p.txt" "^(javacpp|openblas|dnnl)-.*-$p\.jar$" 3
  expect "$work/cp-$p.txt" "$other" 0
  expect "$work/cp-$p.txt" '^fathom-0' 1
done
javac -d "$work/classes" -cp "$(cat "$work/cp-linux-x86_64.txt")" "$work/src/Main.java"
java -cp "$work/classes:$(cat "$work/cp-linux-x86_64.txt")" Main linux-x86_64
arm64_jvm -cp "$work/classes:$(cat "$work/cp-linux-arm64.txt")" Main linux-arm64

# --- 3. all platforms -------------------------------------------------------------
classpath "$work/cp-all.txt" "$@"
echo "test-platform: all platforms:"
jars "$work/cp-all.txt" | sed 's/^/  /'
for p in linux-x86_64 linux-arm64; do
  expect "$work/cp-all.txt" "^fathom-presets-.*-$p\.jar$" 1
  expect "$work/cp-all.txt" "^(javacpp|openblas|dnnl)-.*-$p\.jar$" 3
done
java -cp "$work/classes:$(cat "$work/cp-all.txt")" Main linux-x86_64
arm64_jvm -cp "$work/classes:$(cat "$work/cp-all.txt")" Main linux-arm64
echo "test-platform: passed"
