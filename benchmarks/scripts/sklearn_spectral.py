#!/usr/bin/python3
"""Cleave's spectral clustering against scikit-learn / SciPy on the same graphs, in one run.

Build first (from the repository root):
    mvn -B -q -o -DskipTests package
Then:
    OMP_WAIT_POLICY=passive /usr/bin/python3 benchmarks/scripts/sklearn_spectral.py [--big] [--repeat 3]

Graphs (identical on both sides):
  mlp          untrained Glorot-uniform 784-256-256-256-256-10 MLP (1818 nodes), shared as .mtx
  clusterable  the same MLP with F21's clusterable initialisation (real structure), as .mtx
  8x1024       dense random layered net, 8 layers of 1024 (8192 nodes, 14.7M stored entries)
  8x2048       the same with 2048 units (16384 nodes, 58.7M stored entries; only with --big)
The random layered nets are not written to disk: both sides generate entry [i][j] of weight l
as the counter-based uniform dev.cleave.util.Rng.uniform(1, l, i * in + j), reproduced below.

Baselines (Debian python3-sklearn / python3-scipy; use /usr/bin/python3):
  MLP graphs: sklearn.cluster.SpectralClustering(affinity='precomputed', eigen_solver='arpack',
              n_clusters=12, n_init=25) -- the F21 pipeline.
  Layered:    scipy.sparse.linalg.eigsh(N, k=12, which='LA') on N = D^-1/2 A D^-1/2 (largest
              algebraic: SciPy's fastest path here; sklearn's shift-invert LU of an 8192-node
              dense-block graph is far slower), then sklearn KMeans(n_init=25) on the
              D^-1/2-scaled embedding.
  Shuffle test (--shuffles N, default 50; 0 skips it): N `layer` shuffles of the MLP graph's
              |W| blocks (each block's entries permuted, as the null model does to W), each
              clustered by the sklearn pipeline above; against Cleave's ShuffleTest.run with N
              shuffles on both cores. The shuffles are drawn independently on each side (same
              null model, different permutations), so the statistics agree in distribution.
Cleave runs through dev.cleave.bench.SpectralRun (best of --repeat runs, both cores); the
.mtx path and the layered (network) path are both timed for the MLP graphs. Every line states
its n-cut: the n-cut of each side's labels on the same graph, computed here the same way.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import scipy.io
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
M1 = np.uint64(0x9E3779B97F4A7C15)
M2 = np.uint64(0xBF58476D1CE4E5B9)
M3 = np.uint64(0x94D049BB133111EB)


def uniform(seed, stream, n):
    """dev.cleave.util.Rng.uniform(seed, stream, i) for i in [0, n): float32 in [0, 1)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) ^ (np.uint64(stream) * M1)
        z = z + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * M2
        z = (z ^ (z >> np.uint64(30))) * M2
        z = (z ^ (z >> np.uint64(27))) * M3
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def layered(layers, width, seed=1):
    blocks = [[None] * layers for _ in range(layers)]
    for l in range(layers - 1):
        w = sp.csr_matrix(uniform(seed, l, width * width).reshape(width, width).astype(np.float64))
        blocks[l + 1][l] = w
        blocks[l][l + 1] = w.T.tocsr()
    return sp.bmat(blocks, format="csr")


def ncut(a, labels):
    d = np.asarray(a.sum(axis=1)).ravel()
    total = 0.0
    for c in np.unique(labels[labels >= 0]):
        m = labels == c
        vol = d[m].sum()
        total += (vol - a[m][:, m].sum()) / vol
    return total


def cleave(jar, graph, k, repeat, threads):
    cmd = ["java", "--enable-native-access=ALL-UNNAMED", "-cp", jar, "dev.cleave.bench.SpectralRun", "cluster",
           graph, str(k), str(repeat), str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY="passive"))
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(repeat, fn):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def report(rows):
    print()
    print("%-12s %-34s %9s %8s  %s" % ("graph", "method", "seconds", "n-cut", "speed-up of Cleave (best path)"))
    for r in rows:
        print("%-12s %-34s %9.3f %8.4f  %s" % (r["graph"], r["method"], r["seconds"], r["ncut"], r.get("ratio", "")))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "benchmarks", "target", "benchmarks.jar"))
    ap.add_argument("--dir", default=os.path.join(ROOT, "benchmarks", "target", "graphs"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--big", action="store_true", help="also 8x2048 (SciPy takes minutes)")
    ap.add_argument("--only", default=None, help="comma-separated subset: mlp,clusterable,8x1024,8x2048,shuffle")
    ap.add_argument("--shuffles", type=int, default=50, help="shuffle-test size (0: skip it)")
    args = ap.parse_args()
    from sklearn.cluster import KMeans, SpectralClustering
    import sklearn
    import scipy
    print("scikit-learn %s, SciPy %s, NumPy %s; %d CPUs" % (sklearn.__version__, scipy.__version__, np.__version__,
                                                            os.cpu_count()))
    if not os.path.exists(args.jar):
        sys.exit("missing %s: run 'mvn -B -q -o -DskipTests package' from the repository root" % args.jar)
    if not os.path.exists(os.path.join(args.dir, "mlp.mtx")):
        subprocess.run(["java", "-cp", args.jar, "dev.cleave.bench.SpectralRun", "export", args.dir], check=True)
    wanted = ["mlp", "clusterable", "8x1024"] + (["8x2048"] if args.big else []) + (["shuffle"] if args.shuffles else [])
    if args.only:
        wanted = args.only.split(",")
    rows = []
    for g in wanted:
        if g == "shuffle":
            a = scipy.io.mmread(os.path.join(args.dir, "mlp.mtx")).tocsr()
            widths = [784, 256, 256, 256, 256, 10]
            off = np.cumsum([0] + widths)
            blocks = [a[off[l + 1]:off[l + 2], off[l]:off[l + 1]].toarray() for l in range(len(widths) - 1)]
            rng = np.random.default_rng(0)

            def one_shuffle():
                bl = [[None] * len(widths) for _ in widths]
                for l, b in enumerate(blocks):
                    s = sp.csr_matrix(rng.permutation(b.ravel()).reshape(b.shape))
                    bl[l + 1][l] = s
                    bl[l][l + 1] = s.T.tocsr()
                g2 = sp.bmat(bl, format="csr")
                keep = np.asarray(g2.sum(axis=1)).ravel() > 0
                g2 = g2[keep][:, keep]
                lab = SpectralClustering(n_clusters=args.k, affinity="precomputed", eigen_solver="arpack", n_init=25,
                                         random_state=0).fit(g2).labels_
                return ncut(g2, lab)

            t = time.perf_counter()
            nc = [one_shuffle() for _ in range(args.shuffles)]
            sec = time.perf_counter() - t
            print("sklearn: %d shuffles in %.1fs, n-cut %.4f +- %.4f" % (args.shuffles, sec, np.mean(nc), np.std(nc)),
                  flush=True)
            cmd = ["java", "--enable-native-access=ALL-UNNAMED", "-cp", args.jar, "dev.cleave.bench.SpectralRun", "shuffle",
                   "mlp", str(args.shuffles), str(args.threads)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                          env=dict(os.environ, OMP_WAIT_POLICY="passive")).stdout.strip().splitlines()[-1])
            rows.append({"graph": "mlp x%d" % args.shuffles, "method": "sklearn pipeline per shuffle", "seconds": sec,
                         "ncut": float(np.mean(nc)), "ratio": "%.1fx" % (sec / r["seconds"])})
            rows.append({"graph": "mlp x%d" % args.shuffles, "method": "cleave ShuffleTest.run (mean n-cut)",
                         "seconds": r["seconds"], "ncut": r["mean"]})
            print("cleave: %s" % json.dumps(r), flush=True)
            report(rows[-2:])
            continue
        if g in ("mlp", "clusterable"):
            a = scipy.io.mmread(os.path.join(args.dir, g + ".mtx")).tocsr()
            sec, sc = best_of(args.repeat, lambda: SpectralClustering(
                n_clusters=args.k, affinity="precomputed", eigen_solver="arpack", n_init=25, random_state=0).fit(a))
            base = {"graph": g, "method": "sklearn SpectralClustering(arpack)", "seconds": sec, "ncut": ncut(a, sc.labels_)}
            mtx = cleave(args.jar, os.path.join(args.dir, g + ".mtx"), args.k, args.repeat, args.threads)
            net = cleave(args.jar, g, args.k, args.repeat, args.threads)
            best = min(mtx["seconds"], net["seconds"])
            base["ratio"] = "%.1fx" % (sec / best)
            rows += [base,
                     {"graph": g, "method": "cleave (.mtx, CSR operator)", "seconds": mtx["seconds"], "ncut": mtx["ncut"]},
                     {"graph": g, "method": "cleave (network, layered operator)", "seconds": net["seconds"],
                      "ncut": net["ncut"]}]
        else:
            layers, width = (int(x) for x in g.split("x"))
            t0 = time.perf_counter()
            a = layered(layers, width)
            d = np.asarray(a.sum(axis=1)).ravel()
            s = sp.diags(1.0 / np.sqrt(d))
            n_op = (s @ a @ s).tocsr()
            print("%s: built in %.1fs, %d stored entries" % (g, time.perf_counter() - t0, a.nnz), flush=True)
            v0 = np.random.default_rng(0).random(a.shape[0])
            t = time.perf_counter()
            w, v = eigsh(n_op, k=args.k, which="LA", v0=v0)
            te = time.perf_counter() - t
            emb = v / np.sqrt(d)[:, None]
            t = time.perf_counter()
            km = KMeans(n_clusters=args.k, n_init=25, random_state=0).fit(emb)
            tk = time.perf_counter() - t
            rows.append({"graph": g, "method": "scipy eigsh(LA) + sklearn KMeans", "seconds": te + tk,
                         "ncut": ncut(a, km.labels_)})
            print("%s: eigsh %.1fs, KMeans %.1fs, top eigenvalues of N %s" % (g, te, tk, np.sort(w)[::-1][:4]), flush=True)
            r = cleave(args.jar, g, args.k, args.repeat, args.threads)
            rows[-1]["ratio"] = "%.1fx (eigensolver alone: %.1fx)" % ((te + tk) / r["seconds"], te / r["eigen_seconds"])
            rows.append({"graph": g, "method": "cleave (network, layered operator)", "seconds": r["seconds"],
                         "ncut": r["ncut"]})
        report(rows[-3:] if g in ("mlp", "clusterable") else rows[-2:])
    print("\nsummary")
    report(rows)


if __name__ == "__main__":
    main()
