package dev.cleave.cluster;

import dev.cleave.graph.NetworkGraph;
import dev.cleave.util.FloatMatrix;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Where the time of one {@link SpectralClustering#cluster(NetworkGraph, ClusterOptions)} goes, stage
 * by stage, for dev.cleave.bench.SpectralRun profile (benchmarks only; it lives in this package to
 * reach the package-private stages). Each stage is run {@code repeat} times after warm-up; the
 * median and range of the wall time are printed in milliseconds, and the median process CPU time
 * (all threads; coarse, but free of the time lost to other processes on a loaded machine).
 */
public final class ClusterProfile {
    private ClusterProfile() {}

    public static void run(List<FloatMatrix> weights, ClusterOptions o, int repeat) {
        EigenOptions eo = o.eigenOptions();
        int threads = eo.resolvedThreads();
        NetworkGraph net = NetworkGraph.fromWeights(weights);
        GraphOperator g = GraphOperator.of(net);
        EigenResult e = LaplacianEigensolver.solve(g, eo);
        double[] emb = SpectralClustering.embedding(e, net.degrees());
        KMeansResult km = KMeans.fit(emb.clone(), e.nodes(), e.k(), o.kmeansOptions());
        String dump = System.getProperty("cleave.profile.embedding"); // raw little-endian doubles, n x k
        if (dump != null) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(emb.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asDoubleBuffer().put(emb);
            try {
                java.nio.file.Files.write(java.nio.file.Path.of(dump), b.array());
            } catch (java.io.IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
            return;
        }
        for (int w = 0; w < 3; w++) { // warm-up of every stage
            SpectralClustering.cluster(net, o);
        }
        System.out.printf(Locale.ROOT, "graph: %d nodes (%d total), %d edges, half %d; k %d, block %d, tolerance %.1e, "
                + "threads %d; eigen: %d iterations, %d operator applications, method %s%n", net.nodes(), net.totalNodes(),
                net.edges(), g.half, eo.k(), eo.blockSize() > 0 ? eo.blockSize() : LaplacianEigensolver.defaultBlockSize(eo.k()),
                eo.tolerance(), threads, e.iterations(), e.operatorApplications(), e.method());
        stage("total cluster(network)", repeat, () -> SpectralClustering.cluster(net, o));
        stage("graph build (fromWeights)", repeat, () -> NetworkGraph.fromWeights(weights));
        stage("operator description (GraphOperator.of)", repeat, () -> GraphOperator.of(net));
        stage("components (union-find)", repeat, g::componentLabels);
        stage("native operator copy (open+close)", repeat, () -> {
            OperatorHandle h = OperatorHandle.open(g, eo.backend(), threads);
            h.close();
            return h;
        });
        stage("eigensolve (solve: open, M iteration, lift, residuals)", repeat, () -> LaplacianEigensolver.solve(g, eo));
        try (OperatorHandle h = OperatorHandle.open(g, eo.backend(), threads)) {
            int k = eo.k();
            int p = LaplacianEigensolver.defaultBlockSize(k);
            double[] x0 = ChebyshevEigensolver.startBlock(g.half, p, eo.seed(), "eigen/start/half");
            stage("  M iteration alone (h.eigs)", repeat, () -> h.eigs(OperatorHandle.M, k, p, 0.0, 1.0, eo.tolerance(), true,
                    eo.maxIterations(), ChebyshevEigensolver.DEFAULT_MAX_DEGREE, ChebyshevEigensolver.DEFAULT_AMPLIFICATION,
                    x0, null, null));
            double[] xm = new double[g.half * p];
            double[] ym = new double[g.half * p];
            Arrays.fill(xm, 1.0);
            stage("  one M application to p = " + p + " columns", repeat, () -> {
                h.apply(OperatorHandle.M, xm, ym, p);
                return ym;
            });
        }
        stage("embedding", repeat, () -> SpectralClustering.embedding(e, net.degrees()));
        stage("k-means (" + o.kmeansOptions().nInit() + " restarts, " + o.kmeansOptions().resolvedThreads() + " threads)",
                repeat, () -> KMeans.fit(emb, e.nodes(), e.k(), o.kmeansOptions()));
        stage("k-means (" + o.kmeansOptions().nInit() + " restarts, 1 thread)", repeat,
                () -> KMeans.fit(emb, e.nodes(), e.k(), o.kmeansOptions().withThreads(1)));
        stage("k-means (1 restart, 1 thread)", repeat,
                () -> KMeans.fit(emb, e.nodes(), e.k(), o.kmeansOptions().withNInit(1).withThreads(1)));
        int[] labels = km.labels();
        stage("n-cut (cutWeights + volumes)", repeat, () -> NCut.of(net.cutWeights(labels, e.k()),
                NCut.volumes(labels, net.degrees(), e.k())));
        StringBuilder per = new StringBuilder("k-means restarts alone (seed s, 1 restart, 1 thread: ms/iterations):");
        for (int s = 0; s < 25; s++) {
            KMeansOptions ko = o.kmeansOptions().withNInit(1).withThreads(1).withSeed(s);
            KMeans.fit(emb, e.nodes(), e.k(), ko);
            long t0 = System.nanoTime();
            KMeansResult r = KMeans.fit(emb, e.nodes(), e.k(), ko);
            per.append(String.format(Locale.ROOT, " %.2f/%d", (System.nanoTime() - t0) / 1e6, r.iterations()));
        }
        System.out.println(per);
        System.out.printf(Locale.ROOT, "k-means best restart %d, %d iterations, inertia %.6g%n", km.bestRestart(),
                km.iterations(), km.inertia());
    }

    private static void stage(String name, int repeat, Supplier<Object> f) {
        double[] t = new double[repeat];
        double[] cpu = new double[repeat];
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int i = 0; i < repeat; i++) {
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            Object r = f.get();
            t[i] = (System.nanoTime() - t0) / 1e6;
            cpu[i] = (os.getProcessCpuTime() - c0) / 1e6;
            if (r == null) {
                throw new IllegalStateException(name);
            }
        }
        Arrays.sort(t);
        Arrays.sort(cpu);
        System.out.printf(Locale.ROOT, "%-58s %9.3f ms  (%.3f .. %.3f)  process cpu %.1f ms%n", name, t[repeat / 2], t[0],
                t[repeat - 1], cpu[repeat / 2]);
    }
}
