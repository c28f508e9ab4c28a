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
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun export-model MODEL.safetensors OUT.mtx
 *       writes the graph of a trained MLP (cleave train's model file) as Matrix Market
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun profile GRAPH [K] [REPEAT] [THREADS]
 *       the time of each stage of one clustering (median and range of REPEAT runs, default 9)
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun cluster GRAPH [K] [REPEAT] [THREADS]
 *       GRAPH: a .mtx file, a model .safetensors, mlp, clusterable, LxW (dense random layered, SpectralGraphs),
 *       or shuffled:GRAPH (one layer shuffle of a layered GRAPH);
 *       clusters it twice untimed (JIT warm-up, as JMH would), then REPEAT times (default 3), and
 *       prints one JSON line: the wall time (seconds: the best; median; max), the median split into
 *       eigensolver and k-means time (each run once more on its own), n-cut, iterations.
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.SpectralRun shuffle GRAPH [N] [THREADS] [REPEAT]
 *       the shuffle test (layer method, N shuffles, default 50) on mlp, clusterable or a model file,
 *       after one untimed warm-up test of 4 shuffles, REPEAT times (default 1); one JSON line with
 *       its wall time (seconds: the best; median; max) and statistics.
 * </pre>
 */
public final class SpectralRun {
    private SpectralRun() {}

    private static double min(double[] a) {
        return java.util.Arrays.stream(a).min().orElse(0);
    }

    private static double max(double[] a) {
        return java.util.Arrays.stream(a).max().orElse(0);
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }

    /** The weights of a named benchmark graph, or of a model file (*.safetensors: cleave train's MLP). */
    static java.util.List<dev.cleave.util.FloatMatrix> weights(String graph) {
        if (graph.startsWith("shuffled:")) { // one `layer` shuffle (seed 0) of the graph named after the colon
            return ShuffleTest.shuffle(weights(graph.substring(9)), dev.cleave.cluster.ShuffleMethod.LAYER,
                    dev.cleave.util.Rng.stream(0, "shuffle/0"));
        }
        if (graph.endsWith(".safetensors")) {
            try (dev.cleave.train.ModelFile.Loaded m = dev.cleave.train.ModelFile.load(Path.of(graph))) {
                return m.model().weightMatrices();
            }
        }
        return SpectralBench.weights(graph);
    }

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
        if (args.length >= 3 && args[0].equals("export-model")) {
            MatrixMarket.write(NetworkGraph.fromWeights(weights(args[1])).toCsr(), Path.of(args[2]));
            return;
        }
        if (args.length >= 2 && args[0].equals("profile")) {
            int k = args.length > 2 ? Integer.parseInt(args[2]) : 12;
            int repeat = args.length > 3 ? Integer.parseInt(args[3]) : 9;
            int threads = args.length > 4 ? Integer.parseInt(args[4]) : 0;
            long t0 = System.nanoTime();
            java.util.List<dev.cleave.util.FloatMatrix> w = weights(args[1]);
            System.out.printf(Locale.ROOT, "weights loaded in %.1f ms%n", (System.nanoTime() - t0) / 1e6);
            dev.cleave.cluster.ClusterProfile.run(w, ClusterOptions.defaults().withK(k).withThreads(threads), repeat);
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
                net = NetworkGraph.fromWeights(weights(graph));
            }
            double load = (System.nanoTime() - tl) / 1e9;
            double[] total = new double[repeat];
            double[] eig = new double[repeat];
            double[] kms = new double[repeat];
            ClusterResult r = null;
            for (int i = 0; i < 2; i++) { // warm-up
                r = csr != null ? SpectralClustering.cluster(csr, o) : SpectralClustering.cluster(net, o);
            }
            for (int i = 0; i < repeat; i++) {
                long t0 = System.nanoTime();
                r = csr != null ? SpectralClustering.cluster(csr, o) : SpectralClustering.cluster(net, o);
                total[i] = (System.nanoTime() - t0) / 1e9;
                // the split, measured separately (same work as inside cluster)
                long t1 = System.nanoTime();
                EigenResult e = csr != null ? LaplacianEigensolver.smallest(csr.withoutIsolatedNodes(), o.eigenOptions())
                        : LaplacianEigensolver.smallest(net, o.eigenOptions());
                eig[i] = (System.nanoTime() - t1) / 1e9;
                double[] deg = csr != null ? csr.withoutIsolatedNodes().degrees() : net.degrees();
                long t2 = System.nanoTime();
                KMeansResult km = KMeans.fit(SpectralClustering.embedding(e, deg), e.nodes(), k, o.kmeansOptions());
                kms[i] = (System.nanoTime() - t2) / 1e9;
                if (km.k() != k) {
                    throw new IllegalStateException();
                }
            }
            System.out.println(String.format(Locale.ROOT,
                    "{\"tool\": \"cleave\", \"graph\": \"%s\", \"nodes\": %d, \"edges\": %d, \"k\": %d, \"load_seconds\": %.3f, "
                            + "\"repeat\": %d, \"seconds\": %.4f, \"median\": %.4f, \"max\": %.4f, \"eigen_seconds\": %.4f, "
                            + "\"kmeans_seconds\": %.4f, \"ncut\": %.6f, \"iterations\": %d, \"operator_applications\": %d, "
                            + "\"solver\": \"%s\", \"max_residual\": %.2e}",
                    graph, r.nodes(), r.edges(), k, load, repeat, min(total), median(total), max(total), median(eig),
                    median(kms), r.ncut(), r.iterations(), r.operatorApplications(), r.solver(),
                    java.util.Arrays.stream(r.residuals()).max().orElse(0)));
            return;
        }
        if (args.length >= 2 && args[0].equals("shuffle")) {
            int n = args.length > 2 ? Integer.parseInt(args[2]) : 50;
            int threads = args.length > 3 ? Integer.parseInt(args[3]) : 0;
            java.util.List<dev.cleave.util.FloatMatrix> w = weights(args[1]);
            ShuffleOptions o = ShuffleOptions.defaults().withShuffles(n)
                    .withCluster(ClusterOptions.defaults().withThreads(threads));
            int repeat = args.length > 4 ? Integer.parseInt(args[4]) : 1;
            ShuffleTest.run(w, o.withShuffles(4)); // warm-up
            double[] t = new double[repeat];
            ShuffleResult r = null;
            for (int i = 0; i < repeat; i++) {
                long t0 = System.nanoTime();
                r = ShuffleTest.run(w, o);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            System.out.println(String.format(Locale.ROOT,
                    "{\"tool\": \"cleave\", \"graph\": \"%s\", \"shuffles\": %d, \"repeat\": %d, \"seconds\": %.3f, "
                            + "\"median\": %.3f, \"max\": %.3f, \"trained_ncut\": %.6f, \"mean\": %.6f, \"sd\": %.6f, "
                            + "\"z\": %s, \"p\": %.4f}",
                    args[1], n, repeat, min(t), median(t), max(t), r.trainedNcut(), r.mean(), r.sd(), r.z() == null ? "null" : String.format(Locale.ROOT, "%.3f", r.z()),
                    r.p()));
            return;
        }
        System.err.println("usage: SpectralRun export DIR | SpectralRun export-model MODEL OUT.mtx | "
                + "SpectralRun profile GRAPH [K] [REPEAT] [THREADS] | SpectralRun cluster GRAPH [K] [REPEAT] [THREADS] | "
                + "SpectralRun shuffle GRAPH [N] [THREADS] [REPEAT]");
        System.exit(2);
    }
}
