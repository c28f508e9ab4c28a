#!/usr/bin/python3
"""Graphs made of many connected components (issue 14 item 9) against SciPy's dense eigh, and
their clustering time against connected graphs of the same size, through the CLI.

Run from the repository root (after ./cleave has built once):
    /usr/bin/python3 benchmarks/scripts/many_components.py [--repeat 3]

Graphs (written as Matrix Market files into a temporary folder, node ids shuffled):
  cycles-60x5    60 disjoint 5-cycles (300 nodes; each cycle's spectrum 0, 0.691 x2, 1.809 x2)
  cycles-100x5   100 disjoint 5-cycles (500 nodes)
  cycles-8x41    8 disjoint 41-cycles (328 nodes)
  blobs-500/1000 the symmetrized 2-nearest-neighbour graph of two tight Gaussian blobs
                 (scikit-learn's kneighbors_graph; 30-40 components)
  and, for the timing, connected graphs of the same sizes: a 300-cycle, a 500-cycle and the
  10-nearest-neighbour graphs of the same blobs.
For each graph and k in (2, 6): `cleave cluster --graph F --k K --json`; its eigenvalues of the
normalized Laplacian against numpy.linalg.eigh of the dense L = I - D^-1/2 A D^-1/2 (isolated
nodes dropped, as both tools do); the components found (with at least k components, every component inside one cluster);
the best wall time of --repeat runs of the whole command (JVM start included) and the best of
the clustering's own "seconds" (eigensolver + k-means): the connected graphs of the same size
are the fair comparison.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.io as sio
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import kneighbors_graph


def cycles(count, length, rng):
    n = count * length
    perm = rng.permutation(n)
    rows, cols = [], []
    for c in range(count):
        for j in range(length):
            a, b = perm[c * length + j], perm[c * length + (j + 1) % length]
            rows += [a, b]
            cols += [b, a]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def knn(x, neighbours):
    a = kneighbors_graph(x, neighbours, include_self=False)
    return sp.csr_matrix(((a + a.T) > 0).astype(float))


def laplacian_eigenvalues(a, k):
    a = a.toarray()
    d = a.sum(axis=1)
    keep = d > 0
    a, d = a[np.ix_(keep, keep)], d[keep]
    s = 1 / np.sqrt(d)
    lap = np.eye(len(d)) - s[:, None] * a * s[None, :]
    return np.linalg.eigh(lap)[0][:k]


def run_cleave(path, k):
    cmd = ["./cleave", "cluster", "--graph", path, "--k", str(k), "--json"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return p.returncode, None, wall, p.stderr.strip().splitlines()[-1:]
    return 0, json.loads(p.stdout.strip().splitlines()[-1]), wall, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    graphs = {"cycles-60x5": cycles(60, 5, rng), "cycles-100x5": cycles(100, 5, rng), "cycles-8x41": cycles(8, 41, rng),
              "ring-300": cycles(1, 300, rng), "ring-500": cycles(1, 500, rng)}
    for m in (250, 500):
        x = np.vstack([rng.normal(0, 0.05, (m, 2)), rng.normal(3, 0.05, (m, 2))])
        graphs[f"blobs-{2 * m}"] = knn(x, 2)
        graphs[f"knn10-{2 * m}"] = knn(x, 10)
    folder = tempfile.mkdtemp(prefix="cleave-many-components-")
    print(f"load: {os.getloadavg()[0]:.2f}")
    print(f"{'graph':14s} {'nodes':>5s} {'comps':>5s} {'k':>2s} {'exit':>4s} {'max |dl| vs eigh':>17s} {'comps kept':>10s} {'wall s':>7s} {'solve s':>8s}")
    worst = 0.0
    for name, a in graphs.items():
        path = os.path.join(folder, name + ".mtx")
        sio.mmwrite(path, a)
        comps, labels = connected_components(a, directed=False)
        for k in (2, 6):
            best, inner, result, code, err = None, None, None, 0, None
            for _ in range(args.repeat):
                code, result, wall, err = run_cleave(path, k)
                best = wall if best is None else min(best, wall)
                if result is not None:
                    inner = result["seconds"] if inner is None else min(inner, result["seconds"])
            if code != 0:
                print(f"{name:14s} {a.shape[0]:5d} {comps:5d} {k:2d} {code:4d}  {err}")
                continue
            ours = np.array(result["eigenvalues"])
            ref = laplacian_eigenvalues(a, len(ours))
            diff = float(np.max(np.abs(ours - ref)))
            worst = max(worst, diff)
            cl = np.array(result["labels"])
            # With at least k components, every component must lie inside one cluster.
            kept = str(all(len(set(cl[labels == c])) == 1 for c in range(comps))) if comps >= k else "n/a"
            print(f"{name:14s} {a.shape[0]:5d} {comps:5d} {k:2d} {code:4d} {diff:17.2e} {kept:>10s} {best:7.2f} {inner:8.4f}")
    print(f"worst eigenvalue difference: {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
