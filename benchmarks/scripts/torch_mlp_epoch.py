#!/usr/bin/python3
"""Times PyTorch CPU training of F21's MLP (784-256-256-256-256-10, ReLU, Glorot-uniform,
Adam 1e-3, batch 128) on Fashion-MNIST: the reference Cleave's cpu backend is compared with.

Needs Debian's python3-torch and the dataset-fashion-mnist package:
    apt-get install -y python3-torch dataset-fashion-mnist
    /usr/bin/python3 benchmarks/scripts/torch_mlp_epoch.py --threads 1 --epochs 1
Prints one JSON line per epoch. OPENBLAS_CORETYPE (read by OpenBLAS at load time) must be set
in the environment before Python starts; compare_training.py does that for each configuration.
"""
import argparse, gzip, json, os, time

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"


def idx(name, offset):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    xt = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255.0)
    yt = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
    widths = [784, 256, 256, 256, 256, 10]
    layers = []
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1])
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(n)
        start = time.perf_counter()
        total = 0.0
        for b in range(0, n, 128):
            idxs = perm[b:b + 128]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idxs]), y[idxs])
            loss.backward()
            opt.step()
            total += loss.item() * len(idxs)
        seconds = time.perf_counter() - start
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print(json.dumps({"epoch": epoch, "threads": args.threads,
                          "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "default"),
                          "train_loss": total / n, "test_accuracy": acc, "seconds": seconds,
                          "samples_per_s": n / seconds}), flush=True)


if __name__ == "__main__":
    main()
