#!/usr/bin/env python3
"""Exports the ONNX test fixtures of fathom-onnx from PyTorch.

For each small model and opset (13 and 17; the MLP also 11) it writes <name>_opset<N>.onnx and
<name>_opset<N>.safetensors (tensors "input" and "output": a fixed input and
PyTorch's output for it) into onnx/src/test/resources/dev/fathom/onnx/.
mlp_opset17_external.onnx keeps its weights in an external data file;
gru_lbr0_opset14 is a GRU node written directly (linear_before_reset=0, which
PyTorch does not export) with a NumPy reference output.

    python3 onnx/src/test/python/export_fixtures.py [NAME ...]   # all, or only the named models

Needs torch (Debian: python3-torch) and, for the external-data variant, onnx
(python3-onnx). Seeds are fixed; the committed files are what this writes.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "dev", "fathom", "onnx")


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class BnNet(nn.Module):
    """BatchNormalization after ReLU, so that export cannot fold it into the Conv."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)
        self.bn1 = nn.BatchNorm1d(5)

    def forward(self, x):
        x = self.bn(torch.relu(self.conv(x)))
        x = torch.sigmoid(self.conv2(x))
        x = torch.flatten(self.pool(x), 1)
        return torch.log_softmax(self.bn1(torch.relu(self.fc(x))), dim=1)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.block = ResBlock(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.pool(torch.relu(self.stem(x)))
        x = self.block(x)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.softmax(self.fc(x), dim=1)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(32, 16)
        self.p = nn.Parameter(torch.randn(16, 8) * 0.3)
        self.drop = nn.Dropout(0.5)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        h = torch.cat([h, h * 2.0 - 0.5], dim=1)
        h = nn.functional.leaky_relu(self.fc2(h), 0.1)
        h = self.drop(h)
        h = torch.matmul(h, self.p) / 1.5
        h = torch.clamp(h, -1.0, 1.0).unsqueeze(1).transpose(1, 2).squeeze(2)
        return torch.sigmoid(self.fc3(h))


class Recurrent(nn.Module):
    """LSTM, bidirectional GRU and a tanh RNN, as exported: Shape/Gather/Expand build the zero states."""
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 8)
        self.gru = nn.GRU(8, 5, bidirectional=True)
        self.rnn = nn.RNN(10, 4)
        self.fc = nn.Linear(7 * 4, 3)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        y, _ = self.rnn(y)
        return self.fc(torch.flatten(y.transpose(0, 1), 1))


class CharLm(nn.Module):
    """train_charlm.py's RNNModel, small, on a first minibatch (state None): one-hot tokens
    (Transpose, Cast, OneHot, Cast), a zero state from Shape/Gather/Concat/ConstantOfShape."""
    VOCAB = 11

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(self.VOCAB, 8)
        self.linear = nn.Linear(8, self.VOCAB)

    def forward(self, tokens):
        y, _ = self.rnn(nn.functional.one_hot(tokens.T.long(), self.VOCAB).to(torch.float32))
        return self.linear(y.reshape(-1, y.shape[-1]))


class EmbeddingNet(nn.Module):
    """nn.Embedding exports as Gather with 2-D indices; a 2-layer batch-first GRU; the last step by index."""
    VOCAB = 13

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(self.VOCAB, 6)
        self.gru = nn.GRU(6, 5, num_layers=2, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, tokens):
        y, _ = self.gru(self.emb(tokens))
        return self.fc(y[:, -1])


class PreluNet(nn.Module):
    """PReLU per channel after a Conv (exported as a [C, 1, 1] slope), per feature and shared after a Linear."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act1 = nn.PReLU(4)
        self.fc = nn.Linear(4 * 4 * 4, 6)
        self.act2 = nn.PReLU(6)
        self.out = nn.Linear(6, 3)
        self.act3 = nn.PReLU()
        with torch.no_grad():
            # Distinct slopes (negative ones too), so that a slope on the wrong channel shows.
            self.act1.weight.copy_(torch.linspace(-0.5, 0.9, 4))
            self.act2.weight.copy_(torch.linspace(0.8, -0.2, 6))
            self.act3.weight.fill_(0.4)

    def forward(self, x):
        x = self.act1(self.conv(x))
        return self.act3(self.out(self.act2(self.fc(torch.flatten(x, 1)))))


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        integer = t.dtype == torch.int64
        data = t.detach().contiguous().numpy().astype("<i8" if integer else "<f4").tobytes()
        header[name] = {"dtype": "I64" if integer else "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_input(cls, shape, gen):
    """Token ids for the nets that take them, else normal floats."""
    vocab = getattr(cls, "VOCAB", None)
    return torch.randint(0, vocab, shape, generator=gen) if vocab else torch.randn(*shape, generator=gen)


def warm_up_batchnorm(model, shape, gen):
    """A few training-mode passes so running statistics are not the defaults."""
    if getattr(model, "VOCAB", None):
        return  # no batch norm in the token nets
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(*shape, generator=gen) * 2 + 0.5)
    model.eval()


def gru_without_linear_before_reset():
    """A GRU node with linear_before_reset=0, which PyTorch never exports, built with
    onnx.helper; the reference output follows the ONNX operator definition in NumPy."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.default_rng(3)
    t, n, i, h = 5, 2, 3, 4
    w = rng.normal(0, 0.5, (1, 3 * h, i)).astype(np.float32)
    r = rng.normal(0, 0.5, (1, 3 * h, h)).astype(np.float32)
    b = rng.normal(0, 0.5, (1, 6 * h)).astype(np.float32)
    x = rng.normal(0, 1, (t, n, i)).astype(np.float32)
    node = helper.make_node("GRU", ["input", "W", "R", "B"], ["output"], hidden_size=h, linear_before_reset=0)
    graph = helper.make_graph([node], "gru", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [t, n, i])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [t, 1, n, h])],
                              [numpy_helper.from_array(a, name) for a, name in ((w, "W"), (r, "R"), (b, "B"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    onnx.checker.check_model(model)
    onnx.save_model(model, os.path.join(OUT, "gru_lbr0_opset14.onnx"))

    def sig(v):
        return 1 / (1 + np.exp(-v.astype(np.float64)))
    wz, wr, wh = np.split(w[0].astype(np.float64), 3)
    rz, rr, rh = np.split(r[0].astype(np.float64), 3)
    wbz, wbr, wbh, rbz, rbr, rbh = np.split(b[0].astype(np.float64), 6)
    state = np.zeros((n, h))
    ys = []
    for step in range(t):
        xt = x[step].astype(np.float64)
        z = sig(xt @ wz.T + state @ rz.T + wbz + rbz)
        rg = sig(xt @ wr.T + state @ rr.T + wbr + rbr)
        cand = np.tanh(xt @ wh.T + (rg * state) @ rh.T + rbh + wbh)
        state = (1 - z) * cand + z * state
        ys.append(state)
    y = np.stack(ys)[:, None]
    save_safetensors(os.path.join(OUT, "gru_lbr0_opset14.safetensors"),
                     {"input": torch.from_numpy(x), "output": torch.from_numpy(y.astype(np.float32))})


def main():
    os.makedirs(OUT, exist_ok=True)
    specs = [("lenet", LeNet, (2, 1, 28, 28)), ("bn", BnNet, (4, 3, 16, 16)),
             ("resnet", ResNet, (2, 3, 12, 12)), ("mlp", Mlp, (5, 12)),
             ("recurrent", Recurrent, (7, 2, 6)), ("prelu", PreluNet, (2, 3, 6, 6)),
             ("charlm", CharLm, (3, 6)), ("embedding", EmbeddingNet, (4, 5))]
    only = set(sys.argv[1:])
    for name, cls, shape in specs:
        if only and name not in only:
            continue
        torch.manual_seed(0)
        model = cls()
        gen = torch.Generator().manual_seed(1)
        warm_up_batchnorm(model, shape, gen)
        x = make_input(cls, shape, gen)
        with torch.no_grad():
            y = model(x)
        # Opset 11 as well for the MLP: Squeeze/Unsqueeze take axes as attributes there.
        for opset in ((11, 13, 17) if name == "mlp" else (13, 17)):
            stem = os.path.join(OUT, "%s_opset%d" % (name, opset))
            torch.onnx.export(model, x, stem + ".onnx", opset_version=opset, input_names=["input"],
                              output_names=["output"], do_constant_folding=True)
            save_safetensors(stem + ".safetensors", {"input": x, "output": y})
            if name == "mlp" and opset == 17:
                import onnx
                m = onnx.load(stem + ".onnx")
                data = os.path.join(OUT, "mlp_opset17_external.bin")
                if os.path.exists(data):
                    os.remove(data)  # onnx appends to an existing data file
                onnx.save_model(m, stem + "_external.onnx", save_as_external_data=True,
                                all_tensors_to_one_file=True, location="mlp_opset17_external.bin",
                                size_threshold=0)
    if not only or "gru_lbr0" in only:
        gru_without_linear_before_reset()
    for f in sorted(os.listdir(OUT)):
        print("%8d %s" % (os.path.getsize(os.path.join(OUT, f)), f), file=sys.stderr)


if __name__ == "__main__":
    main()
