package dev.cleave.bench;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.EigenResult;
import dev.cleave.cluster.KMeans;
import dev.cleave.cluster.KMeansResult;
import dev.cleave.cluster.LaplacianEigensolver;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.MatrixMarket;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.graph.SelfLoops;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Command-line helper of benchmarks/scripts/sklearn_spectral.py (not the product CLI).
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun export DIR
 *       writes DIR/mlp.mtx (Glorot MLP graph) and DIR/clusterable.mtx (structured MLP graph)
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun cluster GRAPH [K] [REPEAT] [THREADS]
 *       GRAPH: a .mtx file, mlp, clusterable, or LxW (dense random layered, SpectralGraphs);
 *       clusters it twice untimed (JIT warm-up, as JMH would), then REPEAT times (default 3), and
 *       prints one JSON line: best wall time, the split into eigensolver and k-means time, n-cut,
 *       iterations.
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun shuffle GRAPH [N] [THREADS]
 *       the shuffle test (layer method, N shuffles, default 50) on mlp or clusterable, after one
 *       untimed warm-up test of 4 shuffles; one JSON line with its wall time and statistics.
 * </pre>
 */
public final class SpectralRun {
    private SpectralRun() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("export")) {
            Path dir = Path.of(args[1]);
            Files.createDirectories(dir);
            MatrixMarket.write(NetworkGraph.fromWeights(SpectralGraphs.glorot(SpectralGraphs.MLP, 0)).toCsr(),
                    dir.resolve("mlp.mtx"));
            MatrixMarket.write(NetworkGraph.fromWeights(SpectralGraphs.clusterable(SpectralGraphs.MLP, 0)).toCsr(),
                    dir.resolve("clusterable.mtx"));
            return;
        }
        if (args.length >= 2 && args[0].equals("cluster")) {
            String graph = args[1];
            int k = args.length > 2 ? Integer.parseInt(args[2]) : 12;
            int repeat = args.length > 3 ? Integer.parseInt(args[3]) : 3;
            int threads = args.length > 4 ? Integer.parseInt(args[4]) : 0;
            ClusterOptions o = ClusterOptions.defaults().withK(k).withThreads(threads);
            CsrGraph csr = null;
            NetworkGraph net = null;
            long tl = System.nanoTime();
            if (graph.endsWith(".mtx") || graph.endsWith(".mtx.gz")) {
                csr = MatrixMarket.read(Path.of(graph), SelfLoops.DROP);
            } else {
                net = NetworkGraph.fromWeights(SpectralBench.weights(graph));
            }
            double load = (System.nanoTime() - tl) / 1e9;
            double best = Double.MAX_VALUE;
            double bestEig = 0;
            double bestKm = 0;
            ClusterResult r = null;
            for (int i = 0; i < 2; i++) { // warm-up
                r = csr != null ? SpectralClustering.cluster(csr, o) : SpectralClustering.cluster(net, o);
            }
            for (int i = 0; i < repeat; i++) {
                long t0 = System.nanoTime();
                r = csr != null ? SpectralClustering.cluster(csr, o) : SpectralClustering.cluster(net, o);
                double s = (System.nanoTime() - t0) / 1e9;
                // the split, measured separately (same work as inside cluster)
                long t1 = System.nanoTime();
                EigenResult e = csr != null ? LaplacianEigensolver.smallest(csr.withoutIsolatedNodes(), o.eigenOptions())
                        : LaplacianEigensolver.smallest(net, o.eigenOptions());
                double se = (System.nanoTime() - t1) / 1e9;
                double[] deg = csr != null ? csr.withoutIsolatedNodes().degrees() : net.degrees();
                long t2 = System.nanoTime();
                KMeansResult km = KMeans.fit(SpectralClustering.embedding(e, deg), e.nodes(), k, o.kmeansOptions());
                double sk = (System.nanoTime() - t2) / 1e9;
                if (s < best) {
                    best = s;
                    bestEig = se;
                    bestKm = sk;
                }
                if (km.k() != k) {
                    throw new IllegalStateException();
                }
            }
            System.out.println(String.format(Locale.ROOT,
                    "{\"tool\": \"cleave\", \"graph\": \"%s\", \"nodes\": %d, \"edges\": %d, \"k\": %d, \"load_seconds\": %.3f, "
                            + "\"seconds\": %.4f, \"eigen_seconds\": %.4f, \"kmeans_seconds\": %.4f, \"ncut\": %.6f, "
                            + "\"iterations\": %d, \"operator_applications\": %d, \"solver\": \"%s\", \"max_residual\": %.2e}",
                    graph, r.nodes(), r.edges(), k, load, best, bestEig, bestKm, r.ncut(), r.iterations(),
                    r.operatorApplications(), r.solver(), java.util.Arrays.stream(r.residuals()).max().orElse(0)));
            return;
        }
        if (args.length >= 2 && args[0].equals("shuffle")) {
            int n = args.length > 2 ? Integer.parseInt(args[2]) : 50;
            int threads = args.length > 3 ? Integer.parseInt(args[3]) : 0;
            java.util.List<dev.cleave.util.FloatMatrix> w = SpectralBench.weights(args[1]);
            ShuffleOptions o = ShuffleOptions.defaults().withShuffles(n)
                    .withCluster(ClusterOptions.defaults().withThreads(threads));
            ShuffleTest.run(w, o.withShuffles(4)); // warm-up
            long t0 = System.nanoTime();
            ShuffleResult r = ShuffleTest.run(w, o);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.println(String.format(Locale.ROOT,
                    "{\"tool\": \"cleave\", \"graph\": \"%s\", \"shuffles\": %d, \"seconds\": %.3f, \"trained_ncut\": %.6f, "
                            + "\"mean\": %.6f, \"sd\": %.6f, \"z\": %s, \"p\": %.4f}",
                    args[1], n, s, r.trainedNcut(), r.mean(), r.sd(), r.z() == null ? "null" : String.format(Locale.ROOT, "%.3f", r.z()),
                    r.p()));
            return;
        }
        System.err.println("usage: SpectralRun export DIR | SpectralRun cluster GRAPH [K] [REPEAT] [THREADS] | "
                + "SpectralRun shuffle GRAPH [N] [THREADS]");
        System.exit(2);
    }
}
