"""Per-layer forward/backward times of the LeNet and ResNet-18 layer shapes in
PyTorch CPU, the baseline for `./fathom bench layers` (same shapes, same
method: median of repetitions; backward = dL/dinput and dL/dweights).
usage: python3 pytorch_layers.py BATCH THREADS [out.jsonl]
"""
import json, os, sys, time, statistics
import torch
from torch.nn import functional as F

batch, threads = int(sys.argv[1]), int(sys.argv[2])
out = sys.argv[3] if len(sys.argv) > 3 else None
torch.set_num_threads(threads)
torch.manual_seed(0)

# name, kind, (C, H, W), params
LAYERS = [
    ("lenet.conv1", "conv", (1, 28, 28), dict(k=6, kernel=5, stride=1, pad=0)),
    ("lenet.pool1", "maxpool", (6, 24, 24), dict(kernel=2, stride=2, pad=0)),
    ("lenet.conv2", "conv", (6, 12, 12), dict(k=16, kernel=5, stride=1, pad=0)),
    ("resnet.conv1", "conv", (1, 96, 96), dict(k=64, kernel=7, stride=2, pad=3)),
    ("resnet.bn1", "bn", (64, 48, 48), {}),
    ("resnet.pool", "maxpool", (64, 48, 48), dict(kernel=3, stride=2, pad=1)),
    ("resnet.s1.conv", "conv", (64, 24, 24), dict(k=64, kernel=3, stride=1, pad=1)),
    ("resnet.s2.conv_s2", "conv", (64, 24, 24), dict(k=128, kernel=3, stride=2, pad=1)),
    ("resnet.s2.proj1x1", "conv", (64, 24, 24), dict(k=128, kernel=1, stride=2, pad=0)),
    ("resnet.s2.conv", "conv", (128, 12, 12), dict(k=128, kernel=3, stride=1, pad=1)),
    ("resnet.s3.conv_s2", "conv", (128, 12, 12), dict(k=256, kernel=3, stride=2, pad=1)),
    ("resnet.s3.conv", "conv", (256, 6, 6), dict(k=256, kernel=3, stride=1, pad=1)),
    ("resnet.s4.conv_s2", "conv", (256, 6, 6), dict(k=512, kernel=3, stride=2, pad=1)),
    ("resnet.s4.conv", "conv", (512, 3, 3), dict(k=512, kernel=3, stride=1, pad=1)),
]

def median_time(fn, reps):
    fn(); fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

for name, kind, (c, h, w), p in LAYERS:
    x = torch.randn(batch, c, h, w, requires_grad=True)
    if kind == "conv":
        wt = torch.randn(p["k"], c, p["kernel"], p["kernel"], requires_grad=True)
        b = torch.randn(p["k"], requires_grad=True)
        f = lambda: F.conv2d(x, wt, b, p["stride"], p["pad"])
    elif kind == "maxpool":
        f = lambda: F.max_pool2d(x, p["kernel"], p["stride"], p["pad"])
    else:
        g, bt = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        rm, rv = torch.zeros(c), torch.ones(c)
        f = lambda: F.batch_norm(x, rm, rv, g, bt, True, 0.1, 1e-5)
    reps = 10 if batch > 1 else 50
    with torch.no_grad():
        fwd = median_time(f, reps)
    y = f(); seed = torch.ones_like(y)
    def bwd():
        yy = f(); t = time.perf_counter(); yy.backward(seed); return time.perf_counter() - t
    bwd(); bwd()
    bwds = statistics.median([bwd() for _ in range(reps)])
    r = {"bench": "layer", "lib": os.environ.get("FATHOM_BENCH_TAG", "pytorch"), "layer": name, "batch": batch, "threads": threads,
         "forward_ms": fwd * 1e3, "backward_ms": bwds * 1e3}
    print("RESULT " + json.dumps(r), flush=True)
    if out:
        with open(out, "a") as fh:
            fh.write(json.dumps(r) + "\n")
