#!/usr/bin/env python3
"""Does Cleave read models trained and saved by PyTorch, unrenamed? One run, real PyTorch.

Trains F21's MLP (784-256-256-256-256-10) on Fashion-MNIST in PyTorch (Adam 1e-3, batch 128,
seed 0, --epochs 3 by default), then saves its state_dict three ways:

  seq.safetensors      an nn.Sequential, as save_file(model.state_dict()) writes it: 0.weight, 0.bias, 2.weight, ...
  named_f16.safetensors the same weights in a module with named layers (net.fc1 ... net.fc5), in float16
  renamed.safetensors  the renamed F32 file Cleave always read (layers.N.weight / layers.N.bias)
  renamed_f16.safetensors the float16 weights widened to F32 under Cleave's names

and checks, through the CLI:
  - `cleave cluster F --k 12`: seq gives the n-cut of renamed, named_f16 the n-cut of renamed_f16;
  - `cleave eval F`: seq gives PyTorch's test accuracy of the F32 model, named_f16 that of the
    float16 weights evaluated in float32.
  - a torch.save .pt file is refused with a message that says it is a PyTorch pickle.

    /usr/bin/python3 benchmarks/scripts/pytorch_interop.py [--epochs N]   # from the repository root
Needs Debian's python3-torch and dataset-fashion-mnist, and the jar ./cleave builds. The
`safetensors` Python package is used when installed; otherwise an equivalent writer below
(the format: 8-byte little-endian header length, a JSON header, raw little-endian data).
"""
import argparse, gzip, json, os, struct, subprocess, sys, tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def save(tensors, path):
    try:
        from safetensors.torch import save_file
        save_file(tensors, path)
        return
    except ImportError:
        pass
    names = {torch.float32: "F32", torch.float16: "F16", torch.float64: "F64", torch.bfloat16: "BF16"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.view(torch.int16).numpy().tobytes() if t.dtype in (torch.float16, torch.bfloat16) else t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def cleave(*args):
    env = dict(os.environ, JAVA_OPTS=os.environ.get("JAVA_OPTS", "-Xmx4g"))
    p = subprocess.run([os.path.join(ROOT, "cleave"), *args], cwd=ROOT, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def last_json(stdout):
    return json.loads([l for l in stdout.splitlines() if l.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    xtr = torch.tensor(idx("train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    ytr = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.long)
    xte = torch.tensor(idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    yte = torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.long)
    widths = [784, 256, 256, 256, 256, 10]
    mods = []
    for i in range(5):
        mods.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < 4:
            mods.append(torch.nn.ReLU())
    seq = torch.nn.Sequential(*mods)
    opt = torch.optim.Adam(seq.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        perm = torch.randperm(len(xtr))
        for s in range(0, len(xtr), 128):
            b = perm[s:s + 128]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(seq(xtr[b]), ytr[b]).backward()
            opt.step()

    def accuracy(model):
        with torch.no_grad():
            return (model(xte).argmax(1) == yte).float().mean().item()

    acc32 = accuracy(seq)
    linears = [m for m in seq if isinstance(m, torch.nn.Linear)]

    class Named(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Module()
            for i, l in enumerate(linears):
                setattr(self.net, "fc%d" % (i + 1), torch.nn.Linear(l.in_features, l.out_features))
                getattr(self.net, "fc%d" % (i + 1)).load_state_dict(l.state_dict())

    named16 = {k: v.half() for k, v in Named().state_dict().items()}
    seq16 = torch.nn.Sequential(*[torch.nn.Linear(l.in_features, l.out_features) if isinstance(l, torch.nn.Linear) else l for l in mods])
    with torch.no_grad():
        for dst, (i, l) in zip([m for m in seq16 if isinstance(m, torch.nn.Linear)], enumerate(linears)):
            dst.weight.copy_(named16["net.fc%d.weight" % (i + 1)].float())
            dst.bias.copy_(named16["net.fc%d.bias" % (i + 1)].float())
    acc16 = accuracy(seq16)

    tmp = tempfile.mkdtemp(prefix="cleave-interop-")
    files = {
        "seq": os.path.join(tmp, "seq.safetensors"),
        "named_f16": os.path.join(tmp, "named_f16.safetensors"),
        "renamed": os.path.join(tmp, "renamed.safetensors"),
        "renamed_f16": os.path.join(tmp, "renamed_f16.safetensors"),
    }
    save(seq.state_dict(), files["seq"])
    save(named16, files["named_f16"])
    save({"layers.%d.%s" % (i, p): getattr(l, p).detach() for i, l in enumerate(linears) for p in ("weight", "bias")},
         files["renamed"])
    save({"layers.%d.%s" % (i, p): named16["net.fc%d.%s" % (i + 1, p)].float() for i in range(5) for p in ("weight", "bias")},
         files["renamed_f16"])
    pt = os.path.join(tmp, "model.pt")
    torch.save(seq.state_dict(), pt)

    ok = True
    ncut = {}
    for name, f in files.items():
        rc, out, err = cleave("cluster", f, "--k", "12", "--json")
        if rc != 0:
            print("cluster %s: exit %d: %s" % (name, rc, err.strip()))
            ok = False
            continue
        ncut[name] = last_json(out)["ncut"]
    print("PyTorch %d epochs: test accuracy F32 %.4f, float16 weights %.4f" % (args.epochs, acc32, acc16))
    for a, b in (("seq", "renamed"), ("named_f16", "renamed_f16")):
        if a in ncut and b in ncut:
            same = ncut[a] == ncut[b]
            ok &= same
            print("n-cut k=12  %-10s %.12f   %-12s %.12f   %s" % (a, ncut[a], b, ncut[b], "equal" if same else "DIFFERENT"))
    if "named_f16" in ncut and "renamed" in ncut:
        print("n-cut of the float16 weights minus the float32 ones: %+.2e" % (ncut["named_f16"] - ncut["renamed"]))
    for name, want in (("seq", acc32), ("named_f16", acc16)):
        rc, out, err = cleave("eval", files[name], "--json", "--no-install")
        if rc != 0:
            print("eval %s: exit %d: %s" % (name, rc, err.strip()))
            ok = False
            continue
        got = last_json(out)["accuracy"]
        same = abs(got - want) < 0.5 / len(xte)
        ok &= same
        print("eval %-10s Cleave %.4f  PyTorch %.4f  %s" % (name, got, want, "equal" if same else "DIFFERENT"))
    rc, out, err = cleave("cluster", pt, "--k", "12")
    refused = rc == 2 and "PyTorch pickle" in err
    ok &= refused
    print("torch.save .pt file: exit %d, %s" % (rc, err.strip().splitlines()[-1] if err.strip() else "(no message)"))
    print("files in", tmp)
    print("ALL EQUAL" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
