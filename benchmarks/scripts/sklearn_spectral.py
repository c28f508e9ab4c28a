#!/usr/bin/python3
"""Cleave's spectral clustering against scikit-learn / SciPy on the same graphs, in one run.

Build first (from the repository root):
    mvn -B -q -o -DskipTests package
Then:
    OMP_WAIT_POLICY=passive /usr/bin/python3 benchmarks/scripts/sklearn_spectral.py \
        [--model runs/mlp/model.safetensors] [--big] [--repeat 5] [--scipy-repeat 3]

Graphs (identical on both sides):
  trained      a trained MLP's graph (--model: a cleave train model.safetensors), as .mtx
  mlp          untrained Glorot-uniform 784-256-256-256-256-10 MLP (1818 nodes), shared as .mtx
  clusterable  the same MLP with F21's clusterable initialisation (real structure), as .mtx
  8x1024       dense random layered net, 8 layers of 1024 (8192 nodes, 14.7M stored entries)
  8x2048       the same with 2048 units (16384 nodes, 58.7M stored entries; only with --big)
The random layered nets are not written to disk: both sides generate entry [i][j] of weight l
as the counter-based uniform dev.cleave.util.Rng.uniform(1, l, i * in + j), reproduced below.

Every method clusters into k = 12 with 25 k-means++ restarts, each is timed --repeat times
(--scipy-repeat for the SciPy eigensolvers of the layered graphs) after one untimed run, and the
median and range are printed. Methods:
  sklearn      sklearn.cluster.SpectralClustering(affinity='precomputed', n_clusters=12, n_init=25)
               with each eigen_solver that finishes: 'arpack' (eigen_tol 0, its default), 'arpack'
               at eigen_tol 1e-6 (Cleave's tolerance), 'lobpcg' (eigen_tol 1e-6). pyamg ('amg') is
               not packaged in Debian. Only on the MLP graphs (its shift-invert LU of a dense
               layered graph is far slower than the SciPy paths below).
  scipy eigsh  eigsh(N, k=12, which='LA', tol) on N = D^-1/2 A D^-1/2 (tol 1e-6, Cleave's
               residual tolerance on ||N|| = 1; 8x1024 also at tol 0; not on 8x2048, where it
               takes minutes), then sklearn KMeans(n_init=25) on the D^-1/2-scaled embedding.
  scipy svds   svds(B, k=12, tol=1e-6) of the bipartite half B = N[S, T] (S the smaller colour
               class): the same reduction Cleave uses (its eigenvalues of M = B B^T are the
               squared singular values); the eigenvectors of N are (u, v) / sqrt 2. Then the
               same KMeans. Its time is the SVD plus the KMeans time (measured once per graph).
  cleave       dev.cleave.bench.SpectralRun in a JVM started once per graph, after two untimed
               runs (JIT warm-up), on --threads threads; the .mtx (CSR) path and, for generated
               graphs, the layered (network) path. A separate row gives its eigensolver alone.
  Shuffle test (--shuffles N, default 50; 0 skips it): N `layer` shuffles of the first MLP
               graph's |W| blocks (trained if --model is given, else mlp), each clustered by the
               sklearn pipeline (arpack, default tolerance), once; against Cleave's ShuffleTest.run
               with N shuffles on both cores (--repeat runs). The shuffles are drawn independently
               on each side (same null model, different permutations), so the statistics agree
               in distribution.
The ratio column: the peer's median over Cleave's median (best Cleave path). The load average
before and after each graph is printed: on a shared machine the times are only comparable
within one run.
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
from scipy.sparse.csgraph import breadth_first_order
from scipy.sparse.linalg import eigsh, svds

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


def timed(repeat, fn):
    """fn() once untimed, then repeat times: (median, min, max, last result)."""
    result = fn()
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        t.append(time.perf_counter() - t0)
    if not t:
        return float("nan"), float("nan"), float("nan"), result
    return float(np.median(t)), min(t), max(t), result


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def two_colouring(a):
    """The colour classes of a bipartite graph (BFS per component), or None if it is not bipartite."""
    n = a.shape[0]
    colour = np.full(n, -1, dtype=np.int64)
    indptr, indices = a.indptr, a.indices
    for root in range(n):
        if colour[root] >= 0:
            continue
        order, pred = breadth_first_order(a, root, directed=False, return_predecessors=True)
        colour[root] = 0
        for v in order[1:]:
            colour[v] = 1 - colour[pred[v]]
    src = np.repeat(np.arange(n), np.diff(indptr))
    if np.any(colour[src] == colour[indices]):
        return None
    return colour


class Peers:
    """The SciPy paths of one graph: N, its bipartite half, and the shared KMeans."""

    def __init__(self, a, k, repeat):
        self.a, self.k, self.repeat = a, k, repeat
        self.d = np.asarray(a.sum(axis=1)).ravel()
        s = sp.diags(1.0 / np.sqrt(self.d))
        self.n_op = (s @ a @ s).tocsr()
        colour = two_colouring(a)
        if colour is None:
            self.S = None
        else:
            side = 0 if np.sum(colour == 0) <= np.sum(colour == 1) else 1
            self.S = np.flatnonzero(colour == side)
            self.T = np.flatnonzero(colour != side)
            self.B = self.n_op[self.S][:, self.T].tocsr()
        self.v0 = np.random.default_rng(0).random(a.shape[0])

    def eigsh(self, tol):
        w, v = eigsh(self.n_op, k=self.k, which="LA", tol=tol, v0=self.v0)
        return v

    def svds(self, tol):
        u, sv, vt = svds(self.B, k=self.k, tol=tol, v0=self.v0[:min(self.B.shape)])
        v = np.zeros((self.a.shape[0], self.k))
        v[self.S] = u / np.sqrt(2.0)
        v[self.T] = vt.T / np.sqrt(2.0)
        return v

    def kmeans(self, v, repeat):
        from sklearn.cluster import KMeans
        emb = v / np.sqrt(self.d)[:, None]
        return timed(repeat, lambda: KMeans(n_clusters=self.k, n_init=25, random_state=0).fit(emb).labels_)


def row(graph, method, t, ncut_value, note=""):
    med, lo, hi = t
    return {"graph": graph, "method": method, "median": med, "min": lo, "max": hi, "ncut": ncut_value, "note": note}


def report(rows):
    print()
    print("%-12s %-46s %9s %17s %8s  %s" % ("graph", "method", "median s", "range", "n-cut", "Cleave's speed-up"))
    for r in rows:
        print("%-12s %-46s %9.4f %8.4f-%-8.4f %8.4f  %s" % (r["graph"], r["method"], r["median"], r["min"], r["max"],
                                                            r["ncut"], r["note"]))
    sys.stdout.flush()


def clusterings(g, a, args, jar_graphs):
    """Every method on one graph: rows, Cleave's best median first among the Cleave rows."""
    from sklearn.cluster import SpectralClustering
    rows = []
    peers = Peers(a, args.k, args.repeat)
    layered = g not in ("mlp", "clusterable", "trained")
    if not layered:
        for name, solver, tol in (("arpack", "arpack", "auto"), ("arpack tol 1e-6", "arpack", 1e-6),
                                  ("lobpcg tol 1e-6", "lobpcg", 1e-6)):
            try:
                med, lo, hi, lab = timed(args.repeat, lambda: SpectralClustering(
                    n_clusters=args.k, affinity="precomputed", eigen_solver=solver, eigen_tol=tol, n_init=25,
                    random_state=0).fit(a).labels_)
            except Exception as e:  # a solver that does not finish is reported, not timed
                print("%s: sklearn %s failed: %s" % (g, name, e), flush=True)
                continue
            rows.append(row(g, "sklearn SpectralClustering(%s)" % name, (med, lo, hi), ncut(a, lab)))
            print("%s: sklearn %s %.4f s (%.4f-%.4f)" % (g, name, med, lo, hi), flush=True)
    srep = args.repeat if not layered else args.scipy_repeat
    eig_rows = []
    solvers = [] if g == "8x2048" else [("eigsh(LA) tol 1e-6", lambda: peers.eigsh(1e-6))]
    if layered and g != "8x2048":
        solvers.append(("eigsh(LA) tol 0", lambda: peers.eigsh(0)))
    if peers.S is not None:
        solvers.append(("svds(half B) tol 1e-6", lambda: peers.svds(1e-6)))
    km = None
    for name, fn in solvers:
        med, lo, hi, v = timed(srep, fn)
        if km is None:
            km = peers.kmeans(v, srep)
            print("%s: sklearn KMeans(n_init=25) %.4f s (%.4f-%.4f)" % (g, km[0], km[1], km[2]), flush=True)
        lab = peers.kmeans(v, 0)[3]
        eig_rows.append((name, (med, lo, hi)))
        rows.append(row(g, "scipy %s + KMeans" % name, (med + km[0], lo + km[1], hi + km[2]), ncut(a, lab)))
        print("%s: scipy %s %.4f s (%.4f-%.4f)" % (g, name, med, lo, hi), flush=True)
    cl = []
    for label, graph in jar_graphs:
        r = cleave(args.jar, graph, args.k, args.repeat, args.threads)
        print("%s: cleave %s %s" % (g, label, json.dumps(r)), flush=True)
        cl.append((label, r))
    best = min(cl, key=lambda c: c[1]["median"])
    for r in rows:
        r["note"] = "%.1fx" % (r["median"] / best[1]["median"])
    for label, r in cl:
        rows.append(row(g, "cleave (%s)" % label, (r["median"], r["seconds"], r["max"]), r["ncut"]))
    for name, t in eig_rows:
        rows.append(row(g, "  eigensolver alone: %s" % name, t, float("nan"),
                        "%.1fx" % (t[0] / best[1]["eigen_seconds"])))
    rows.append(row(g, "  eigensolver alone: cleave (%s)" % best[0].split(",")[0],
                    (best[1]["eigen_seconds"],) * 3, float("nan"), "median only"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "benchmarks", "target", "benchmarks.jar"))
    ap.add_argument("--dir", default=os.path.join(ROOT, "benchmarks", "target", "graphs"))
    ap.add_argument("--model", default=None, help="a trained MLP (cleave train's model.safetensors): graph 'trained'")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scipy-repeat", type=int, default=3, help="repeats of the SciPy eigensolvers on layered graphs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--big", action="store_true", help="also 8x2048 (SciPy takes minutes)")
    ap.add_argument("--only", default=None, help="comma-separated subset: trained,mlp,clusterable,8x1024,8x2048,shuffle")
    ap.add_argument("--shuffles", type=int, default=50, help="shuffle-test size (0: skip it)")
    args = ap.parse_args()
    from sklearn.cluster import SpectralClustering
    import sklearn
    import scipy
    print("scikit-learn %s, SciPy %s, NumPy %s; %d CPUs; %s; %s UTC" % (
        sklearn.__version__, scipy.__version__, np.__version__, os.cpu_count(), load(),
        time.strftime("%Y-%m-%d %H:%M", time.gmtime())), flush=True)
    if not os.path.exists(args.jar):
        sys.exit("missing %s: run 'mvn -B -q -o -DskipTests package' from the repository root" % args.jar)
    if not os.path.exists(os.path.join(args.dir, "mlp.mtx")):
        subprocess.run(["java", "-cp", args.jar, "dev.cleave.bench.SpectralRun", "export", args.dir], check=True)
    if args.model:
        if not os.path.exists(args.model):
            sys.exit("no model file %s (train one: ./cleave train --dataset fashion-mnist --out runs/mlp)" % args.model)
        subprocess.run(["java", "--enable-native-access=ALL-UNNAMED", "-cp", args.jar, "dev.cleave.bench.SpectralRun",
                        "export-model", os.path.abspath(args.model), os.path.join(args.dir, "trained.mtx")], check=True)
    wanted = (["trained"] if args.model else []) + ["mlp", "clusterable", "8x1024"] + (["8x2048"] if args.big else []) \
        + (["shuffle"] if args.shuffles else [])
    if args.only:
        wanted = args.only.split(",")
    rows = []
    for g in wanted:
        print("%s: start, %s" % (g, load()), flush=True)
        if g == "shuffle":
            src = "trained" if args.model else "mlp"
            a = scipy.io.mmread(os.path.join(args.dir, src + ".mtx")).tocsr()
            widths = [784, 256, 256, 256, 256, 10]
            if a.shape[0] != sum(widths):
                sys.exit("the shuffle test needs the full 1818-node F21 MLP graph, got %d nodes" % a.shape[0])
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
            print("sklearn: %d shuffles of %s in %.1fs, n-cut %.4f +- %.4f" % (args.shuffles, src, sec, np.mean(nc),
                                                                               np.std(nc)), flush=True)
            model = os.path.abspath(args.model) if args.model else "mlp"
            cmd = ["java", "--enable-native-access=ALL-UNNAMED", "-cp", args.jar, "dev.cleave.bench.SpectralRun", "shuffle",
                   model, str(args.shuffles), str(args.threads), str(args.repeat)]
            r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                          env=dict(os.environ, OMP_WAIT_POLICY="passive")).stdout.strip().splitlines()[-1])
            name = "%s x%d" % (src, args.shuffles)
            rows.append(row(name, "sklearn pipeline per shuffle (once)", (sec, sec, sec), float(np.mean(nc)),
                            "%.1fx" % (sec / r["median"])))
            rows.append(row(name, "cleave ShuffleTest.run (mean n-cut)", (r["median"], r["seconds"], r["max"]), r["mean"]))
            print("cleave: %s" % json.dumps(r), flush=True)
            report(rows[-2:])
        elif g in ("mlp", "clusterable", "trained"):
            mtx = os.path.join(args.dir, g + ".mtx")
            a = scipy.io.mmread(mtx).tocsr()
            jar_graphs = [(".mtx, CSR operator", mtx)]
            jar_graphs.append(("network, layered operator", os.path.abspath(args.model) if g == "trained" else g))
            got = clusterings(g, a, args, jar_graphs)
            rows += got
            report(got)
        else:
            layers, width = (int(x) for x in g.split("x"))
            t0 = time.perf_counter()
            a = layered(layers, width)
            print("%s: built in %.1fs, %d stored entries" % (g, time.perf_counter() - t0, a.nnz), flush=True)
            got = clusterings(g, a, args, [("network, layered operator", g)])
            rows += got
            report(got)
        print("%s: end, %s" % (g, load()), flush=True)
    print("\nsummary (%s UTC, %s)" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), load()))
    report(rows)


if __name__ == "__main__":
    main()
