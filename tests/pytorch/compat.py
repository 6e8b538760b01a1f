"""Weights moving between Fathom and PyTorch, both ways (ci/check-pytorch-compat.sh drives it).

Reads and writes safetensors with torch and json only (no `safetensors` package): an 8-byte
little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
then the raw little-endian bytes. Models come from ../shared/bench/pytorch/models.py (or
$FATHOM_PYTORCH_BENCH), whose module structure gives the state-dict names Fathom's zoo reproduces.

  compat.py input   --out X.safetensors                      fixed input [8, 1, 28, 28]
  compat.py export  --model M --out W.safetensors [--input X --logits L.safetensors]
                                                             a PyTorch model (seeded, a few SGD steps on
                                                             random data so batch-norm statistics move)
  compat.py logits  --model M --weights W --input X --out L  PyTorch logits of weights W (e.g. Fathom's)
  compat.py compare A.safetensors B.safetensors [--tol T]    max |a - b| of the 'logits' tensors
  compat.py check   --model M --weights W --input X --logits L [--tol T]
                                                             logits + compare in one go: PyTorch's logits
                                                             of weights W against L (e.g. Fathom's)
  compat.py fixture --model M --dir DIR                      the JUnit fixture: DIR/torch-M.safetensors
                                                             and DIR/torch-M-io.safetensors
"""
import argparse, json, os, struct, sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.environ.get('FATHOM_PYTORCH_BENCH', os.path.join(HERE, '..', '..', '..', 'shared', 'bench', 'pytorch'))
sys.path.insert(0, BENCH)
import models  # noqa: E402  (the reference definitions)

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I32': torch.int32, 'I64': torch.int64, 'BOOL': torch.bool}
CODES = {v: k for k, v in DTYPES.items()}
FUNCTIONS = {'softmax': 'softmax_regression', 'mlp': 'mlp', 'lenet-sigmoid': 'lenet_sigmoid', 'lenet': 'lenet',
             'lenet-bn': 'lenet_bn', 'alexnet': 'alexnet', 'vgg11': 'vgg11', 'nin': 'nin', 'googlenet': 'googlenet',
             'resnet18': 'resnet18', 'densenet': 'densenet'}


def save(tensors, path, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()  # numpy: little-endian on x86/arm
        header[name] = {'dtype': CODES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def load(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        buf = bytearray(raw[8 + n + b:8 + n + end])
        t = torch.frombuffer(buf, dtype=DTYPES[e['dtype']]) if buf else torch.empty(0, dtype=DTYPES[e['dtype']])
        out[name] = t.reshape(e['shape']).clone()
    return out, meta


def model(name):
    return getattr(models, FUNCTIONS[name])()


def fixed_input(n=8):
    g = torch.Generator().manual_seed(1234)
    return torch.rand(n, 1, 28, 28, generator=g)


def logits_of(name, state, x):
    m = model(name)
    m.load_state_dict(state, strict=True)  # every name, shape and dtype must match
    m.eval()
    with torch.no_grad():
        return m(x)


def torch_trained(name, seed=0, steps=20):
    """A PyTorch model moved away from its initialisation, with non-trivial batch-norm statistics."""
    torch.manual_seed(seed)
    m = model(name)
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(seed + 1)
    for _ in range(steps):
        x = torch.rand(32, 1, 28, 28, generator=g) * 2
        y = torch.randint(0, 10, (32,), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
    m.eval()
    return m


def compare(a_path, b_path, tol):
    a, _ = load(a_path)
    b, _ = load(b_path)
    la, lb = a['logits'].double(), b['logits'].double()
    if la.shape != lb.shape:
        print(f'shape mismatch: {tuple(la.shape)} vs {tuple(lb.shape)}')
        return 1
    diff = (la - lb).abs().max().item()
    same_argmax = bool((la.argmax(1) == lb.argmax(1)).all())
    ok = diff <= tol and same_argmax
    print(f'max |logit difference| = {diff:.3g} (tolerance {tol:g}, logits up to {la.abs().max().item():.3g}); '
          f'same predictions: {same_argmax}: {"OK" if ok else "FAILED"}')
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('input')
    s.add_argument('--out', required=True)
    s = sub.add_parser('export')
    s.add_argument('--model', required=True, choices=FUNCTIONS)
    s.add_argument('--out', required=True)
    s.add_argument('--input')
    s.add_argument('--logits')
    s = sub.add_parser('logits')
    s.add_argument('--model', required=True, choices=FUNCTIONS)
    s.add_argument('--weights', required=True)
    s.add_argument('--input', required=True)
    s.add_argument('--out', required=True)
    s = sub.add_parser('compare')
    s.add_argument('a')
    s.add_argument('b')
    s.add_argument('--tol', type=float, default=1e-5)
    s = sub.add_parser('check')
    s.add_argument('--model', required=True, choices=FUNCTIONS)
    s.add_argument('--weights', required=True)
    s.add_argument('--input', required=True)
    s.add_argument('--logits', required=True)
    s.add_argument('--tol', type=float, default=1e-5)
    s = sub.add_parser('fixture')
    s.add_argument('--model', required=True, choices=FUNCTIONS)
    s.add_argument('--dir', required=True)
    a = p.parse_args()
    torch.set_num_threads(2)
    if a.cmd == 'input':
        save({'input': fixed_input()}, a.out)
    elif a.cmd == 'export':
        m = torch_trained(a.model)
        save(m.state_dict(), a.out, {'format': 'pt', 'producer': f'torch {torch.__version__}'})
        if a.input:
            x, _ = load(a.input)
            with torch.no_grad():
                save({'logits': m(x['input'])}, a.logits)
    elif a.cmd == 'logits':
        state, _ = load(a.weights)
        x, _ = load(a.input)
        save({'logits': logits_of(a.model, state, x['input'])}, a.out)
    elif a.cmd == 'compare':
        return compare(a.a, a.b, a.tol)
    elif a.cmd == 'check':
        state, _ = load(a.weights)
        x, _ = load(a.input)
        out = a.logits + '.torch.safetensors'
        save({'logits': logits_of(a.model, state, x['input'])}, out)
        return compare(a.logits, out, a.tol)
    elif a.cmd == 'fixture':
        m = torch_trained(a.model)
        note = (f'PyTorch {torch.__version__}: models.{FUNCTIONS[a.model]}() from ../shared/bench/pytorch, '
                f'torch.manual_seed(0), 20 SGD steps on random data; made by tests/pytorch/compat.py fixture')
        save(m.state_dict(), os.path.join(a.dir, f'torch-{a.model}.safetensors'), {'format': 'pt', 'source': note})
        x = fixed_input(4)
        with torch.no_grad():
            y = m(x)
        save({'input': x, 'logits': y}, os.path.join(a.dir, f'torch-{a.model}-io.safetensors'), {'source': note})
    return 0


if __name__ == '__main__':
    sys.exit(main())
