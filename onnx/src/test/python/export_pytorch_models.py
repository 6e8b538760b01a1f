#!/usr/bin/env python3
"""Full-size PyTorch models as ONNX files, with a fixed input and PyTorch's output (ci/check-onnx-pytorch.sh).

  export_pytorch_models.py export --out DIR      writes DIR/reference/ and DIR/unseen/
  export_pytorch_models.py compare A B [--tol T] max |a - b| of every tensor of B, by name in A

reference/: the reference architectures of ../shared/bench/pytorch/models.py ($FATHOM_PYTORCH_BENCH):
LeNet, ResNet-18, DenseNet and GoogLeNet at their reference input sizes, and the character language
model of train_charlm.py (RNNModel: one-hot input, LSTM/GRU/RNN with hidden 256, Linear), each at
opsets 13 and 17. PyTorchModelsTest (fathom-onnx) imports these and compares.
unseen/: two nets no test of the importer is written against (a VGG-like CNN with batch norm, and a
tagger with an embedding, a 2-layer bidirectional GRU and an LSTM); the script runs them with
`fathom onnx run`.

For each model NAME: NAME.onnx, NAME.in.safetensors (inputs under their ONNX input names) and
NAME.out.safetensors (PyTorch's outputs under their ONNX output names). Random weights (fixed
seeds), batch-norm statistics moved away from their defaults, eval mode. The files are large
(ResNet-18 is 45 MB) and are not committed.
Needs torch (Debian: python3-torch); safetensors go through tests/pytorch/compat.py (json and struct only).
"""
import argparse
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.environ.get('FATHOM_PYTORCH_BENCH',
                       os.path.join(HERE, '..', '..', '..', '..', '..', 'shared', 'bench', 'pytorch'))
OPSETS = (13, 17)  # torch 1.13 exports up to opset 17
# safetensors with json and struct only: the reader and writer of the PyTorch compatibility checks.
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', '..', 'tests', 'pytorch'))
os.environ.setdefault('FATHOM_PYTORCH_BENCH', BENCH)
from compat import save, load as load_with_metadata  # noqa: E402


def load(path):
    return load_with_metadata(path)[0]


def randomize_batchnorm(net, gen):
    """Running statistics and affine parameters away from 0/1, so that eval-mode BN is really checked."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(c, generator=gen) * 0.4 - 0.2)


# ---------------------------------------------------------------- the character LM of train_charlm.py

def charlm_vocab():
    """train_charlm.py's vocabulary: the sorted characters of the corpus (70 for timemachine.txt)."""
    path = os.path.join(BENCH, '..', '..', 'data', 'timemachine.txt')
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            return len(set(f.read()))
    return 70


class RNNModel(nn.Module):
    """train_charlm.py's RNNModel, copied: that script trains when imported. Hidden 256 as there."""
    def __init__(self, cell, vocab, hidden=256):
        super().__init__()
        self.vocab = vocab
        self.rnn = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[cell](vocab, hidden)
        self.linear = nn.Linear(hidden, vocab)

    def forward(self, X, state):
        Y, state = self.rnn(F.one_hot(X.T.long(), self.vocab).to(torch.float32), state)
        return self.linear(Y.reshape(-1, Y.shape[-1])), state


class FirstStep(nn.Module):
    """RNNModel on its first minibatch (state None): the zero state is built in the graph."""
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, X):
        return self.net(X, None)[0]


# ---------------------------------------------------------------- nets no importer test is written against

class VggBn(nn.Module):
    def __init__(self):
        super().__init__()
        def block(i, o):
            return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
        self.features = nn.Sequential(*block(3, 16), *block(16, 16), nn.MaxPool2d(2), *block(16, 32),
                                      *block(32, 32), nn.MaxPool2d(2), *block(32, 64), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(64 * 4 * 4, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(64, 7))

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.view(x.size(0), -1))


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.gru = nn.GRU(16, 24, num_layers=2, bidirectional=True, batch_first=True)
        self.lstm = nn.LSTM(48, 12, batch_first=True)
        self.out = nn.Linear(12, 5)

    def forward(self, tokens):
        y, _ = self.gru(self.emb(tokens))
        y, (h, _) = self.lstm(y)
        return torch.log_softmax(self.out(y), -1), h.squeeze(0)


def export_one(folder, name, net, inputs, input_names, output_names, opsets=OPSETS, dynamic_axes=None,
               run_inputs=None):
    """Traced on `inputs`; the .in/.out files hold `run_inputs` (default: the same) and PyTorch's outputs."""
    net.eval()
    run_inputs = run_inputs or inputs
    with torch.no_grad():
        outputs = net(*run_inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    def flatten(values):  # (logits, (h, c)) -> logits, h, c, as the ONNX graph lists them
        flat = []
        for v in values:
            flat.extend(v if isinstance(v, tuple) else (v,))
        return flat
    flat = flatten(outputs)
    for opset in opsets:
        stem = os.path.join(folder, '%s_opset%d' % (name, opset))
        torch.onnx.export(net, tuple(inputs), stem + '.onnx', opset_version=opset, input_names=input_names,
                          output_names=output_names, do_constant_folding=True, dynamic_axes=dynamic_axes)
        save(dict(zip(input_names, flatten(run_inputs))), stem + '.in.safetensors')
        save(dict(zip(output_names, flat)), stem + '.out.safetensors')
        print('%-28s %9d bytes, outputs %s' % (os.path.basename(stem), os.path.getsize(stem + '.onnx'),
                                               [tuple(t.shape) for t in flat]), file=sys.stderr)


def export(out):
    sys.path.insert(0, BENCH)
    import models  # the reference definitions
    ref = os.path.join(out, 'reference')
    unseen = os.path.join(out, 'unseen')
    os.makedirs(ref, exist_ok=True)
    os.makedirs(unseen, exist_ok=True)
    torch.set_num_threads(2)
    for seed, name in enumerate(('lenet', 'resnet18', 'densenet', 'googlenet')):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(100 + seed)
        net = models.MODELS[name]()
        models.init_weights(net, name)  # as the reference training initialises them (Xavier)
        randomize_batchnorm(net, gen)
        side = models.INPUT_SIZE.get(name, 28)
        x = torch.rand(2, 1, side, side, generator=gen)
        export_one(ref, name, net, [x], ['input'], ['output'])
    vocab = charlm_vocab()
    for seed, cell in enumerate(('lstm', 'gru', 'rnn')):
        torch.manual_seed(10 + seed)
        gen = torch.Generator().manual_seed(110 + seed)
        net = RNNModel(cell, vocab)
        tokens = torch.randint(0, vocab, (4, 35), generator=gen)  # (batch, steps) as train_charlm.py feeds it
        h0 = torch.randn(1, 4, 256, generator=gen) * 0.5
        if cell == 'lstm':
            c0 = torch.randn(1, 4, 256, generator=gen) * 0.5
            export_one(ref, 'charlm_lstm', net, [tokens, (h0, c0)], ['tokens', 'h0', 'c0'], ['logits', 'hn', 'cn'])
            # The same net on a first minibatch, state None.
            export_one(ref, 'charlm_lstm_nostate', FirstStep(net), [tokens], ['tokens'], ['logits'])
        else:
            export_one(ref, 'charlm_' + cell, net, [tokens, h0], ['tokens', 'h0'], ['logits', 'hn'])
    torch.manual_seed(20)
    gen = torch.Generator().manual_seed(120)
    vgg = VggBn()
    randomize_batchnorm(vgg, gen)
    # A symbolic batch: x.view(x.size(0), -1) then exports as Shape/Gather/Unsqueeze/Concat/Reshape,
    # traced at batch 3 and run at batch 5.
    export_one(unseen, 'vgg_bn', vgg, [torch.randn(3, 3, 32, 32, generator=gen)], ['images'], ['scores'],
               opsets=(17,), dynamic_axes={'images': {0: 'N'}, 'scores': {0: 'N'}},
               run_inputs=[torch.randn(5, 3, 32, 32, generator=gen)])
    torch.manual_seed(21)
    export_one(unseen, 'tagger', Tagger(), [torch.randint(0, 50, (3, 9), generator=gen)], ['tokens'],
               ['log_probs', 'h'], opsets=(13,))


def compare(a_path, b_path, tol):
    a, b = load(a_path), load(b_path)
    status = 0
    for name, want in a.items():
        if name not in b:
            print('  %s: missing from %s' % (name, b_path))
            status = 1
            continue
        got = b[name]
        if tuple(got.shape) != tuple(want.shape):
            print('  %s: shape %s, expected %s' % (name, tuple(got.shape), tuple(want.shape)))
            status = 1
            continue
        diff = (got.double() - want.double()).abs().max().item()
        ok = diff < tol
        print('  %-10s %-14s max |diff| %.3g (max |value| %.3g): %s' % (name, tuple(want.shape), diff,
                                                                        want.abs().max().item(),
                                                                        'OK' if ok else 'FAILED'))
        status |= 0 if ok else 1
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('export')
    e.add_argument('--out', required=True)
    c = sub.add_parser('compare')
    c.add_argument('expected')
    c.add_argument('actual')
    c.add_argument('--tol', type=float, default=1e-4)
    a = p.parse_args()
    if a.cmd == 'export':
        export(a.out)
        return 0
    return compare(a.expected, a.actual, a.tol)


if __name__ == '__main__':
    sys.exit(main())
