# Sourced by ci/bench-cnn.sh, ci/bench-train.sh and ci/bench-charlm.sh (which set $root): the
# second baseline, PyTorch 2.7.1 through DJL 0.36 (bench/djl, a standalone Maven project that the
# root build never touches). Its RESULT lines have "djl_" before the bench name, "engine":
# "djl-pytorch-2.7.1" and "tag": "spin" or "sleep".
#   have_djl         builds bench/djl if its jar is missing or older than its sources (once per
#                    script); false, with a message, where Java, Maven or DJL's artifacts are missing
#   djl WAIT ARGS..  runs the baseline with libgomp's default waiting (WAIT=spin: OMP_WAIT_POLICY
#                    unset) or passive waiting (WAIT=sleep: OMP_WAIT_POLICY=PASSIVE), tagged WAIT
# DJL_JAVA_OPTS passes JVM options; DJL_CACHE_DIR moves the unpacked native library (default
# bench/djl/build/djl-cache). Nothing is downloaded at run time (-Dai.djl.offline=true).
djl_dir=$root/bench/djl
djl_jar=$djl_dir/target/fathom-bench-djl.jar
djl_state=
have_djl() {
  [[ $djl_state == yes ]] && return 0
  [[ $djl_state == no ]] && return 1
  djl_state=no
  if ! command -v java > /dev/null; then
    echo "DJL baseline skipped: no java" >&2
    return 1
  fi
  if [[ ! -f $djl_jar ]] || [[ -n $(find "$djl_dir/pom.xml" "$djl_dir/src" -newer "$djl_jar" -print -quit) ]]; then
    if ! command -v mvn > /dev/null; then
      echo "DJL baseline skipped: no Maven to build bench/djl" >&2
      return 1
    fi
    echo "building the DJL baseline (mvn -f bench/djl/pom.xml package) ..." >&2
    if ! mvn -B -q -Dstyle.color=never -f "$djl_dir/pom.xml" package >&2; then
      echo "DJL baseline skipped: bench/djl did not build (DJL's artifacts unavailable?)" >&2
      return 1
    fi
  fi
  djl_state=yes
}
djl() {
  local wait=$1; shift
  local env=(env -u OMP_WAIT_POLICY)
  [[ $wait == sleep ]] && env=(env OMP_WAIT_POLICY=PASSIVE)
  # shellcheck disable=SC2086
  "${env[@]}" java ${DJL_JAVA_OPTS:-} -Dai.djl.offline=true -jar "$djl_jar" "$@" --tag "$wait"
}
