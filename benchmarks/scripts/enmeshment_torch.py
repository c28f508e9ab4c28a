#!/usr/bin/env python3
"""The enmeshment op in PyTorch autograd, for comparison with Cleave's native kernel
(benchmarks/src/main/java/dev/cleave/bench/EnmeshmentBench.java).

Same computation as the JMH benchmark: W of 256x256, 1024x1024 and 4096x4096 (float32,
CPU), k = 4 balanced contiguous clusters on rows and columns (the rule of
dev.cleave.modular.BalancedPartition), C = sum(W^2 * mask) / sum(W^2) with the block mask,
then (scale * C).backward() with scale = -20/3, which ADDS scale * dC/dW into W.grad, as
the kernel adds into its gradient buffer. Each size is timed on 1 and on 2 torch threads;
the time of a call is the best batch mean over several batches. "GB/s" is the same
convention as the JMH benchmark (16 bytes per element of W), so the two are comparable;
PyTorch itself moves more (W^2 and the masked product are materialised, and autograd
allocates its temporaries).

Needs Debian's python3-torch (use /usr/bin/python3, not a pyenv python). Command, from the
repository root:

    OMP_WAIT_POLICY=passive /usr/bin/python3 benchmarks/scripts/enmeshment_torch.py
"""
import argparse
import time

import torch

SIZES = (256, 1024, 4096)
K = 4
SCALE = -20.0 / 3


def balanced_labels(n, k):
    """Cluster of each index: contiguous blocks, the first n % k one larger."""
    labels = []
    for c in range(k):
        labels += [c] * (n // k + (1 if c < n % k else 0))
    return torch.tensor(labels)


def enmeshment(w, mask):
    sq = w * w
    return (sq * mask).sum() / sq.sum()


def time_call(n, threads, batches, min_batch_seconds):
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(1)
    w = (torch.randn(n, n, generator=gen) / n ** 0.5).requires_grad_(True)
    labels = balanced_labels(n, K)
    mask = (labels[:, None] == labels[None, :]).to(torch.float32)

    def step():
        c = enmeshment(w, mask)
        (SCALE * c).backward()
        return c

    c = step()
    reps = 1
    while True:  # calibrate a batch to last at least min_batch_seconds
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        if time.perf_counter() - t0 >= min_batch_seconds:
            break
        reps *= 2
    best = float("inf")
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best, float(c)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--min-batch-seconds", type=float, default=0.2)
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    print(f"torch {torch.__version__}, default intra-op threads {torch.get_num_threads()}")
    print(f"{'n':>6} {'threads':>7} {'us/call':>12} {'GB/s*':>8}  C")
    for n in SIZES:
        best = None
        for threads in (1, 2):
            seconds, c = time_call(n, threads, args.batches, args.min_batch_seconds)
            gbs = 16.0 * n * n / seconds / 1e9
            print(f"{n:>6} {threads:>7} {seconds * 1e6:>12.1f} {gbs:>8.2f}  {c:.6f}")
            best = seconds if best is None else min(best, seconds)
        print(f"{n:>6} {'best':>7} {best * 1e6:>12.1f} {16.0 * n * n / best / 1e9:>8.2f}")
    print("* 16 bytes per element of W, the convention of EnmeshmentBench")


if __name__ == "__main__":
    main()
