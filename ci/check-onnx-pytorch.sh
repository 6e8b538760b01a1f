#!/usr/bin/env bash
# Full-size PyTorch models through Fathom's ONNX import, within 1e-4 of PyTorch:
#  (a) onnx/src/test/python/export_pytorch_models.py exports, with Debian's torch, the reference
#      models of ../shared/bench/pytorch (LeNet, ResNet-18, DenseNet, GoogLeNet; the character LMs
#      of train_charlm.py) at opsets 13 and 17, with a fixed input and PyTorch's outputs;
#      PyTorchModelsTest imports each and compares every output (max abs diff printed per model);
#  (b) two nets no importer test is written against (VGG-like with batch norm; embedding + GRU +
#      LSTM tagger) run through `fathom onnx run`, and its output file is compared with PyTorch's.
# The files (about 150 MB) go to the work folder, not into git. Skips (exit 0) without torch.
# usage: ci/check-onnx-pytorch.sh [work-dir]     (default onnx/target/onnx-pytorch)
#   FATHOM_SKIP_BUILD=1  use the installed jars and cli/target as they are (no mvn install)
#   MAVEN_OPTS=-Dmaven.repo.local=DIR  another local Maven repository
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/onnx/target/onnx-pytorch}
export FATHOM_PYTORCH_BENCH=${FATHOM_PYTORCH_BENCH:-$root/../shared/bench/pytorch}
if [[ ! -f "$FATHOM_PYTORCH_BENCH/models.py" ]] || ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "check-onnx-pytorch: skipped (needs /usr/bin/python3 with torch and $FATHOM_PYTORCH_BENCH/models.py)"
  exit 0
fi
work=$(mkdir -p "$work" && cd "$work" && pwd)
py() { /usr/bin/python3 "$root/onnx/src/test/python/export_pytorch_models.py" "$@"; }

echo "== exporting from PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') into $work"
# torch's exporter warns at length about traced shapes; the files it writes are what matters.
py export --out "$work" 2> >(grep -v -i -e warn -e '_C._jit' -e '^ *$' >&2)

if [[ "${FATHOM_SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && mvn -B -ntp -q install -DskipTests -pl onnx,cli -am)
fi

status=0
echo "== (a) reference models: OnnxModel.load + run against PyTorch (PyTorchModelsTest)"
log="$work/pytorch-models-test.log"
if ! (cd "$root" && mvn -B -ntp test -pl onnx -Dtest=PyTorchModelsTest -Dsurefire.failIfNoSpecifiedTests=false \
      -Dfathom.onnx.pytorch="$work/reference") > "$log" 2>&1; then
  status=1
fi
grep -E "^pytorch |Tests run:|FAIL|expected" "$log" | grep -v "^\[INFO\] Tests run:.*Time elapsed" || true
grep -q "Tests run: [1-9].*Failures: 0, Errors: 0, Skipped: 0" "$log" || status=1

echo "== (b) unseen models: ./fathom onnx run against PyTorch"
for model in "$work"/unseen/*.onnx; do
  stem=${model%.onnx}
  echo "$(basename "$stem"):"
  if "$root/fathom" onnx run --model "$model" --input "$stem.in.safetensors" \
       --output "$stem.fathom.safetensors" > "$stem.run.log" 2>&1; then
    py compare "$stem.out.safetensors" "$stem.fathom.safetensors" || status=1
  else
    sed 's/^/  /' "$stem.run.log"
    status=1
  fi
done

[[ $status == 0 ]] && echo "check-onnx-pytorch: OK" || echo "check-onnx-pytorch: FAILED (log: $log)" >&2
exit $status
