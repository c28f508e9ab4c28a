#!/usr/bin/env python3
"""Does PyTorch load Cleave's network files as they are, and compute the same predictions?

For each model: builds the nn.Sequential the file's `arch` metadata describes (the README's few
lines: `sequential(arch, input_shape)` below), loads the file's tensors with
`load_state_dict(..., strict=True)` (no renaming), evaluates the Fashion-MNIST test set in eval
mode and compares, image by image, with `cleave eval --predictions`: the same predicted label
for every image and the same cross-entropy loss (within 1e-4 + 1e-3 |loss|).

By default it trains two small networks with the CLI first (`cleave train --epochs 1`): g24-cnn
and a conv + batchnorm + dropout network, so the running statistics are not the defaults; or
pass model files (cleave-net-v1 files of fashion-mnist, e.g. runs/X/model.safetensors).

The other direction too (without model arguments): G24's CNN written as PyTorch users write it
(modules conv1, fc1..fc4, fc1..fc4 bias-free), trained one epoch in PyTorch (Adam 1e-3, batch
64, seed 0), saved with save_file(model.state_dict()) (tensors conv1.weight, conv1.bias,
fc1.weight, ...), evaluated by `cleave eval F --arch g24-cnn --predictions`: the same
prediction for every test image and the same loss.

    /usr/bin/python3 benchmarks/scripts/pytorch_cnn_interop.py [MODEL.safetensors ...]   # from the repository root
Needs Debian's python3-torch and dataset-fashion-mnist, and the jar ./cleave builds. Exit 0
when every model agrees, 1 otherwise.
"""
import gzip, json, os, struct, subprocess, sys, tempfile
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/share/datasets/fashion-mnist"


def read_safetensors(path):
    """The tensors (as torch tensors) and metadata of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "I64": np.int64, "F64": np.float64}
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        arr = np.frombuffer(raw, dtype=dtypes[h["dtype"]], offset=8 + n + a, count=(b - a) // np.dtype(dtypes[h["dtype"]]).itemsize)
        out[name] = torch.from_numpy(arr.copy()).reshape(h["shape"])
    return out, meta


def sequential(arch, input_shape):
    """The model of a Cleave layer list (canonical tokens, as the file's `arch` metadata holds them):
    an nn.Sequential named `layers` inside an outer nn.Sequential, so its state_dict names are
    layers.<i>.weight etc., as in the file."""
    c, h, w = input_shape
    mods = []
    for tok in arch.split(","):
        p = tok.split(":")
        if p[0] == "conv":
            opts = {q[0]: int(q[1:]) for q in p[2:] if q != "nobias"}
            k = opts.get("k", 3)
            s, pad = opts.get("s", 1), opts.get("p", (k - 1) // 2)
            mods.append(nn.Conv2d(c, int(p[1]), k, stride=s, padding=pad, bias="nobias" not in p))
            c, h, w = int(p[1]), (h + 2 * pad - k) // s + 1, (w + 2 * pad - k) // s + 1
        elif p[0] == "maxpool":
            k = int(p[1]) if len(p) > 1 else 2
            s = int(p[2][1:]) if len(p) > 2 else k
            mods.append(nn.MaxPool2d(k, stride=s))
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif p[0] == "bn":
            mods.append(nn.BatchNorm2d(c))
        elif p[0] == "relu":
            mods.append(nn.ReLU())
        elif p[0] == "dropout":
            mods.append(nn.Dropout(float(p[1])))
        elif p[0] == "flatten":
            mods.append(nn.Flatten())
            c, h, w = c * h * w, 1, 1
        elif p[0] == "linear":
            mods.append(nn.Linear(c * h * w, int(p[1]), bias=len(p) == 2))
            c, h, w = int(p[1]), 1, 1
        else:
            raise ValueError("unknown token " + tok)
    return nn.Sequential(OrderedDict(layers=nn.Sequential(*mods)))


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def cleave(*args):
    env = dict(os.environ, JAVA_OPTS=os.environ.get("JAVA_OPTS", "-Xmx4g"))
    p = subprocess.run([os.path.join(ROOT, "cleave"), *args], cwd=ROOT, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit("cleave " + " ".join(args) + " failed (" + str(p.returncode) + "): " + p.stderr.strip())
    return p.stdout


def compare(what, csv, logits, y):
    """Cleave's --predictions CSV against PyTorch's logits, image by image."""
    loss = nn.functional.cross_entropy(logits.double(), y, reduction="none")
    pred = logits.argmax(1)
    rows = np.loadtxt(csv, delimiter=",", skiprows=1)
    same = int((rows[:, 2].astype(int) == pred.numpy()).sum())
    worst = float(np.max(np.abs(rows[:, 3] - loss.numpy()) - 1e-3 * np.abs(loss.numpy())))
    ok = same == len(y) and worst <= 1e-4 and (rows[:, 1].astype(int) == y.numpy()).all()
    print(f"{what}: {same}/{len(y)} predictions equal, worst loss difference beyond 1e-3 relative {worst:.2e}, "
          f"PyTorch accuracy {float((pred == y).double().mean()):.4f} -> {'OK' if ok else 'MISMATCH'}")
    return ok


def check(model_file, tmp, x, y):
    tensors, meta = read_safetensors(model_file)
    shape = [int(v) for v in meta["input_shape"].split("x")]
    net = sequential(meta["arch"], shape)
    net.load_state_dict(tensors, strict=True)
    net.eval()
    with torch.no_grad():
        logits = torch.cat([net(x[i:i + 1000].reshape(-1, *shape)) for i in range(0, len(x), 1000)])
    csv = os.path.join(tmp, "predictions.csv")
    cleave("eval", model_file, "--dataset", "fashion-mnist", "--predictions", csv)
    return compare(f"{model_file}: {meta['arch']} on {meta['input_shape']}: loaded with strict=True", csv, logits, y)


class G24(nn.Module):
    """G24's CNN on 1x28x28 as its authors' code names it: conv1, fc1..fc4 (fc layers bias-free)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 14 * 14, 64, bias=False)
        self.fc2 = nn.Linear(64, 64, bias=False)
        self.fc3 = nn.Linear(64, 64, bias=False)
        self.fc4 = nn.Linear(64, 10, bias=False)

    def forward(self, x):
        x = torch.flatten(nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2), 1)
        return self.fc4(torch.relu(self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))))


def train_epoch(net, batch=64):
    """One epoch of Fashion-MNIST's training images through `net`: Adam 1e-3, cross-entropy, a
    random order from torch's current seed."""
    x = torch.tensor(idx("train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
    y = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.long)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    perm = torch.randperm(len(x))
    for s in range(0, len(x), batch):
        b = perm[s:s + batch]
        opt.zero_grad()
        nn.functional.cross_entropy(net(x[b]), y[b]).backward()
        opt.step()


def check_pytorch_g24(tmp, x, y):
    """G24's CNN trained and saved by PyTorch, evaluated by Cleave with --arch g24-cnn."""
    from pytorch_interop import save  # the safetensors writer (safetensors.torch when installed)
    torch.manual_seed(0)
    net = G24()
    train_epoch(net)
    net.eval()
    model_file = os.path.join(tmp, "g24_pytorch.safetensors")
    save(net.state_dict(), model_file)
    with torch.no_grad():
        logits = torch.cat([net(x[i:i + 1000].reshape(-1, 1, 28, 28)) for i in range(0, len(x), 1000)])
    csv = os.path.join(tmp, "g24_pytorch_predictions.csv")
    out = cleave("eval", model_file, "--arch", "g24-cnn", "--dataset", "fashion-mnist", "--predictions", csv)
    print("cleave eval --arch g24-cnn printed: " + next(l for l in out.splitlines() if l.startswith("layers:")))
    return compare("PyTorch-trained G24 CNN (" + ", ".join(net.state_dict()) + ") with --arch g24-cnn", csv, logits, y)


def main():
    x = torch.tensor(idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    y = torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp:
        models = sys.argv[1:]
        results = []
        if not models:
            results.append(check_pytorch_g24(tmp, x, y))
            for i, arch in enumerate(["g24-cnn", "conv:8,bn,relu,maxpool,dropout:0.25,conv:8:k5:s2:p1:nobias,relu,flatten,linear:10"]):
                run = os.path.join(tmp, f"run{i}")
                cleave("train", "--arch", arch, "--dataset", "fashion-mnist", "--epochs", "1", "--batch-size", "64", "--out", run)
                models.append(os.path.join(run, "model.safetensors"))
        results += [check(m, tmp, x, y) for m in models]
    print("ALL EQUAL" if all(results) else "MISMATCH")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
