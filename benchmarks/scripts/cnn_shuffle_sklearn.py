#!/usr/bin/python3
"""The shuffle test of a vgg16-cifar-sized CNN unit graph: Cleave against scikit-learn, in one run.

Build first (from the repository root):
    mvn -B -q -o -DskipTests package
Then:
    OMP_WAIT_POLICY=passive /usr/bin/python3 benchmarks/scripts/cnn_shuffle_sklearn.py [--shuffles 50] [--threads 2]

The graph: F21's CNN graph (conv-to-conv channel edges, max-col-sum norms of the 3x3 kernel
slices) of a Glorot-uniform random VGG-16 with science.md section 8's channel sizes: 13 convs,
4224 channel nodes, 12 dense channel-norm blocks (1.63M edges). Cleave generates it
(dev.cleave.bench.CnnGraphRun) and writes it as Matrix Market; both sides read the same graph.

  sklearn: SpectralClustering(affinity='precomputed', eigen_solver='arpack', n_clusters=12,
           n_init=25) on the graph, then on N `layer` shuffles of its unit matrices (each
           block's entries permuted, as F21 shuffled the channel matrices), each clustered the
           same way; the n-cut of its labels computed here.
  cleave:  ShuffleTest.run on the same unit matrices (N shuffles, k 12, n_init 25, THREADS
           shuffles at once), after an untimed warm-up test of 4 shuffles.
The shuffles are drawn independently on each side (same null model, different permutations),
so the statistics agree in distribution, not draw for draw. The load average before and after
is printed: on a shared machine the times are only comparable within one run.
Also (--f21-seeds S, default 5; 0 skips it): the mean n-cut of S Glorot f21-cnn F21 graphs
(max-col-sum, k 12), F21's reference 10.92.
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

from sklearn_spectral import ncut  # the n-cut of a labelling, computed as in the MLP comparison

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VGG16 = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]


def java(jar, *args):
    cmd = ["java", "--enable-native-access=ALL-UNNAMED", "-cp", jar, "dev.cleave.bench.CnnGraphRun"] + [str(a) for a in args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY="passive"))
    return [json.loads(line) for line in out.stdout.strip().splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jar", default=os.path.join(ROOT, "benchmarks", "target", "benchmarks.jar"))
    ap.add_argument("--dir", default=os.path.join(ROOT, "benchmarks", "target", "graphs"))
    ap.add_argument("--shuffles", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--f21-seeds", type=int, default=5)
    args = ap.parse_args()
    from sklearn.cluster import SpectralClustering
    import sklearn
    import scipy
    print("scikit-learn %s, SciPy %s, NumPy %s; %d CPUs; load average %s" % (
        sklearn.__version__, scipy.__version__, np.__version__, os.cpu_count(), "%.2f %.2f %.2f" % os.getloadavg()))
    if not os.path.exists(args.jar):
        sys.exit("missing %s: run 'mvn -B -q -o -DskipTests package' from the repository root" % args.jar)
    if args.f21_seeds:
        rows = java(args.jar, "ncut", "f21-cnn", args.f21_seeds, args.k)
        print("f21-cnn Glorot, F21 graph, max-col-sum, k %d: n-cut per seed %s, mean %.4f (F21: 10.92)" % (
            args.k, " ".join("%.4f" % r["ncut"] for r in rows[:-1]), rows[-1]["mean_ncut"]), flush=True)
    path = os.path.join(args.dir, "vgg16_f21_%d.mtx" % args.seed)
    java(args.jar, "export", "vgg16-cifar", args.seed, path)
    a = scipy.io.mmread(path).tocsr()
    off = np.cumsum([0] + VGG16)
    assert a.shape[0] == off[-1] == 4224, a.shape
    blocks = [a[off[l + 1]:off[l + 2], off[l]:off[l + 1]].toarray() for l in range(len(VGG16) - 1)]
    print("vgg16-cifar F21 graph: %d nodes, %d edges" % (a.shape[0], a.nnz // 2), flush=True)

    def cluster(g):
        lab = SpectralClustering(n_clusters=args.k, affinity="precomputed", eigen_solver="arpack", n_init=25,
                                 random_state=0).fit(g).labels_
        return ncut(g, lab)

    rng = np.random.default_rng(args.seed)

    def one_shuffle():
        bl = [[None] * len(VGG16) for _ in VGG16]
        for l, b in enumerate(blocks):
            s = sp.csr_matrix(rng.permutation(b.ravel()).reshape(b.shape))
            bl[l + 1][l] = s
            bl[l][l + 1] = s.T.tocsr()
        return cluster(sp.bmat(bl, format="csr"))

    t = time.perf_counter()
    trained = cluster(a)
    t_one = time.perf_counter() - t
    print("sklearn: graph n-cut %.4f in %.1fs" % (trained, t_one), flush=True)
    t = time.perf_counter()
    nc = []
    for i in range(args.shuffles):
        nc.append(one_shuffle())
        if (i + 1) % 10 == 0:
            print("sklearn: %d shuffles, %.1fs" % (i + 1, time.perf_counter() - t), file=sys.stderr, flush=True)
    nc = np.array(nc)
    sec = time.perf_counter() - t
    print("sklearn: %d shuffles in %.1fs, n-cut %.4f +- %.4f; load %s" % (
        args.shuffles, sec, nc.mean(), nc.std(), "%.2f %.2f %.2f" % os.getloadavg()), flush=True)
    r = java(args.jar, "shuffle", "vgg16-cifar", args.seed, args.shuffles, args.threads)[-1]
    print("cleave:  %s; load %s" % (json.dumps(r), "%.2f %.2f %.2f" % os.getloadavg()), flush=True)
    print()
    print("%-36s %9s %10s %18s" % ("vgg16-cifar F21 graph, %d shuffles" % args.shuffles, "seconds", "graph", "shuffled mean +- sd"))
    print("%-36s %9.1f %10.4f %9.4f +- %.4f" % ("sklearn SpectralClustering (arpack)", sec + t_one, trained, nc.mean(), nc.std()))
    print("%-36s %9.1f %10.4f %9.4f +- %.4f" % ("cleave ShuffleTest.run (%d threads)" % args.threads, r["seconds"],
                                                 r["trained_ncut"], r["mean"], r["sd"]))
    print("speed-up of Cleave: %.1fx (sklearn's time includes clustering the graph itself, as ShuffleTest.run does)" % (
        (sec + t_one) / r["seconds"]))


if __name__ == "__main__":
    main()
