#!/usr/bin/env python3
"""The enmeshment op in PyTorch, autograd and hand-written, for comparison with Cleave's native
kernel (benchmarks/scripts/enmeshment_compare.py runs both, and a triad, in one run).

The computation of the kernel: W of 256x256, 1024x1024 and 4096x4096 (float32, CPU), k = 4
balanced contiguous clusters on rows and columns (the rule of
dev.cleave.modular.BalancedPartition), C = sum(W^2 * mask) / sum(W^2) with the block mask, and
scale * dC/dW ADDED into a gradient buffer (scale = -20/3), as the kernel adds into its own.
W is the tensor benchmarks/native/enmeshment_bw.cpp builds (an integer hash of the flat index,
exact in float32), so C and the gradient can be compared with Cleave's.

Three implementations, each timed on 1 and on 2 torch threads:
  autograd  C from W^2 * mask, then (scale * C).backward() (adds into W.grad).
  mask      hand-written, no autograd, any labels: the mask materialised once (as autograd gets
            it); S = dot(W, W), T = W * mask, B = dot(T, W), C = B / S, then
            G += (2 scale / S) T - (2 scale C / S) W (two in-place adds).
  blocks    hand-written, no autograd, contiguous clusters (the kernel's own fast path): each
            row block is cut into out | in | out column segments (views, no copies); S and B
            from the squared norms of the segments (one read of W), then one in-place add per
            segment with its coefficient, 2 scale (1 - C) / S inside, -2 scale C / S outside
            (one read of W, one read and write of G): the kernel's 16 bytes per element.
Before timing, the hand-written gradients are checked against autograd's (max |difference|
at most 1e-5 of max |gradient|, C within 1e-6).

The time of a call is the best batch mean over several batches (a batch lasts at least
--min-batch-seconds). GB/s counts 16 bytes per element of W, the kernel's traffic, for every
implementation (a work rate: autograd and "mask" move more).

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
IMPLS = ("autograd", "mask", "blocks")


def make_w(n):
    """W of enmeshment_bw.cpp: (mix(idx) >> 8) * 2^-24 - 0.5, mix a 32-bit integer hash."""
    m = 0xFFFFFFFF
    x = (torch.arange(n * n, dtype=torch.int64) * 2654435761) & m
    x ^= x >> 16
    x = (x * 0x45D9F3B) & m
    x ^= x >> 16
    return ((x >> 8).to(torch.float32) * 2.0 ** -24 - 0.5).view(n, n)


def sumsq(x):
    """Sum of squares of a 2-D tensor or view, without a temporary of its size: the squared
    norms of the rows, added. (torch.dot and torch.linalg.vector_norm over the whole 4096 x 4096
    W sum in float and miss C by 3e-5 and 1e-3; (W * W).sum() is accurate but writes W^2.)"""
    return float(torch.linalg.vector_norm(x, dim=1).square_().sum())


def balanced_bounds(n, k):
    """[start, end) of each cluster: contiguous blocks, the first n % k one larger."""
    bounds, start = [], 0
    for c in range(k):
        end = start + n // k + (1 if c < n % k else 0)
        bounds.append((start, end))
        start = end
    return bounds


def block_mask(n, k):
    labels = torch.empty(n, dtype=torch.int64)
    for c, (a, b) in enumerate(balanced_bounds(n, k)):
        labels[a:b] = c
    return (labels[:, None] == labels[None, :]).to(torch.float32)


class Problem:
    """One size: W, its mask and cluster bounds, and a gradient buffer per implementation."""

    def __init__(self, n):
        self.n = n
        self.w = make_w(n)
        self.mask = block_mask(n, K)
        self.bounds = balanced_bounds(n, K)
        self.w_leaf = self.w.clone().requires_grad_(True)
        self.grad = torch.zeros_like(self.w)
        # (rows, segments): per row block, the column segments [a, b) with their in-block flag
        self.segments = []
        for a, b in self.bounds:
            segs = [(0, a, False), (a, b, True), (b, n, False)]
            self.segments.append(((a, b), [s for s in segs if s[1] > s[0]]))

    def step(self, impl):
        """One call of impl: C, and scale * dC/dW added into its gradient buffer."""
        return getattr(self, "_" + impl)()

    def _autograd(self):
        sq = self.w_leaf * self.w_leaf
        c = (sq * self.mask).sum() / sq.sum()
        (SCALE * c).backward()
        return float(c)

    def _mask(self):
        w, g = self.w, self.grad
        t = w * self.mask
        s = sumsq(w)
        c = sumsq(t) / s  # (W * mask)^2 = W^2 * mask, the mask 0 or 1
        g.add_(t, alpha=2.0 * SCALE / s)
        g.add_(w, alpha=-2.0 * SCALE * c / s)
        return c

    def _blocks(self):
        w, g = self.w, self.grad
        s = b_in = 0.0
        for (r0, r1), segs in self.segments:
            for c0, c1, inside in segs:
                q = sumsq(w[r0:r1, c0:c1])
                s += q
                if inside:
                    b_in += q
        c = b_in / s
        a_in, a_out = 2.0 * SCALE * (1.0 - c) / s, -2.0 * SCALE * c / s
        for (r0, r1), segs in self.segments:
            for c0, c1, inside in segs:
                g[r0:r1, c0:c1].add_(w[r0:r1, c0:c1], alpha=a_in if inside else a_out)
        return c

    def gradient(self):
        """The gradient buffers, for the checks (autograd's is W.grad)."""
        return {"autograd": self.w_leaf.grad, "mask": self.grad, "blocks": self.grad}

    def reset(self):
        self.w_leaf.grad = None
        self.grad.zero_()


def check(problem):
    """One call of each implementation from a zero gradient; returns autograd's C and gradient
    statistics, and raises if a hand-written one disagrees with autograd."""
    problem.reset()
    c_ref = problem.step("autograd")
    g_ref = problem.w_leaf.grad.clone()
    scale = float(g_ref.abs().max())
    for impl in ("mask", "blocks"):
        problem.reset()
        c = problem.step(impl)
        diff = float((problem.grad - g_ref).abs().max()) / scale
        if abs(c - c_ref) > 1e-6 or diff > 1e-5:
            raise SystemExit(f"n={problem.n}: {impl} disagrees with autograd: C {c} against {c_ref}, "
                             f"max |gradient difference| {diff:.2e} of max |gradient|")
    problem.reset()
    return {"c": c_ref, "grad_abs_sum": float(g_ref.double().abs().sum()), "grad_max_abs": scale}


def time_batch(problem, impl, threads, calls):
    """Seconds per call, the mean of a batch of `calls` calls of impl on `threads` torch threads."""
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    for _ in range(calls):
        problem.step(impl)
    return (time.perf_counter() - t0) / calls


def calibrate(batch, min_batch_seconds):
    """Calls per batch, doubled until batch(calls) * calls lasts at least min_batch_seconds
    (after one warm-up call)."""
    batch(1)
    calls = 1
    while batch(calls) * calls < min_batch_seconds:
        calls *= 2
    return calls


def time_call(problem, impl, threads, reps, min_batch_seconds):
    """Best batch mean (seconds per call) of impl on `threads` torch threads."""
    calls = calibrate(lambda c: time_batch(problem, impl, threads, c), min_batch_seconds)
    return min(time_batch(problem, impl, threads, calls) for _ in range(reps))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--min-batch-seconds", type=float, default=0.05)
    args = parser.parse_args()
    torch.set_num_interop_threads(1)
    print(f"torch {torch.__version__}, default intra-op threads {torch.get_num_threads()}")
    print(f"{'n':>6} {'impl':>9} {'threads':>7} {'us/call':>12} {'GB/s*':>8}")
    for n in SIZES:
        problem = Problem(n)
        print(f"{n:>6} check: C {check(problem)['c']:.9f}, hand-written gradients equal autograd's")
        for impl in IMPLS:
            for threads in (1, 2):
                seconds = time_call(problem, impl, threads, args.reps, args.min_batch_seconds)
                print(f"{n:>6} {impl:>9} {threads:>7} {seconds * 1e6:>12.1f} {16.0 * n * n / seconds / 1e9:>8.2f}")
    print("* 16 bytes per element of W, the kernel's traffic (benchmarks/native/enmeshment_bw.cpp)")


if __name__ == "__main__":
    main()
