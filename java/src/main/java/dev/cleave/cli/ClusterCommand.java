package dev.cleave.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.graph.MatrixMarket;
import dev.cleave.io.Json;
import dev.cleave.train.ModelFile;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cleave cluster MODEL} (a network's neuron graph, F21) or {@code cleave cluster --graph
 * FILE.mtx} (any weighted graph): spectral clustering, n-cut, and for models the shuffle test.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Spectral clustering (normalized Laplacian, k smallest eigenvectors, k-means++) with n-cut; "
                + "for a model, optionally the shuffle test against shuffled weights.")
final class ClusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "a model.safetensors (cleave train)")
    Path model;

    @Option(names = "--graph", paramLabel = "FILE.mtx", description = "cluster this Matrix Market graph instead of a model")
    Path graph;

    @Option(names = "--k", defaultValue = "12", paramLabel = "K", description = "clusters (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--n-init", defaultValue = "25", paramLabel = "N", description = "k-means++ restarts (default: ${DEFAULT-VALUE})")
    int nInit;

    @Option(names = "--tolerance", defaultValue = "1e-6", paramLabel = "TOL", description = "eigenpair residual tolerance (default: ${DEFAULT-VALUE})")
    double tolerance;

    @Option(names = "--shuffles", defaultValue = "0", paramLabel = "N", description = "shuffle-test shuffles, 0 for none (F21: 50)")
    int shuffles;

    @Option(names = "--shuffle-method", defaultValue = "layer", paramLabel = "M", description = "layer | layer_nonzero (default: ${DEFAULT-VALUE})")
    String shuffleMethod;

    @Option(names = "--spark", arity = "0..1", fallbackValue = "local[*]", paramLabel = "MASTER",
            description = "spread the shuffles over Spark tasks (default master local[*]; e.g. spark://host:7077); same result as without")
    String spark;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON result to FILE (e.g. RUN_DIR/cluster.json)")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        int threads = common.threads();
        dev.cleave.cluster.Backend backend = CommonOptions.clusterBackend(common.backend, spec.commandLine().getErr());
        common.printHeader(w, "cluster", CommonOptions.cliName(backend), threads, common.seed);
        if ((model == null) == (graph == null)) {
            throw new InvalidInputException("give either a MODEL file or --graph FILE.mtx (exactly one)");
        }
        if (spark != null && shuffles == 0) {
            throw new InvalidInputException("--spark spreads the shuffle test: give --shuffles N too");
        }
        if (shuffles > 0 && graph != null) {
            throw new InvalidInputException("--shuffles needs a model (weight matrices to shuffle), not --graph");
        }
        ClusterOptions options = ClusterOptions.defaults().withK(k).withNInit(nInit).withTolerance(tolerance)
                .withSeed(common.seed).withThreads(threads).withBackend(backend);
        ObjectNode result;
        try (Progress progress = Progress.start(common.json, spec.commandLine().getErr())) {
            result = graph != null ? clusterGraph(graph, options)
                    : clusterModel(model, options, shuffles, ShuffleMethod.parse(shuffleMethod), progress, spark);
        }
        common.emit(spec, w, result, out, r -> printText(w, r));
        return 0;
    }

    static ObjectNode clusterGraph(Path file, ClusterOptions options) {
        ClusterResult r = SpectralClustering.cluster(MatrixMarket.read(file), options);
        ObjectNode node = Json.mapper().valueToTree(r);
        node.put("graph", file.toString());
        return node;
    }

    /** Clusters a model's network graph and, with shuffles > 0, runs the shuffle test; the JSON the CLI prints. */
    static ObjectNode clusterModel(Path file, ClusterOptions options, int shuffles, ShuffleMethod method,
            ProgressListener progress) {
        return clusterModel(file, options, shuffles, method, progress, null);
    }

    /** {@link #clusterModel(Path, ClusterOptions, int, ShuffleMethod, ProgressListener)}, the shuffles on Spark when {@code sparkMaster} is given. */
    static ObjectNode clusterModel(Path file, ClusterOptions options, int shuffles, ShuffleMethod method,
            ProgressListener progress, String sparkMaster) {
        List<FloatMatrix> weights;
        try (ModelFile.Loaded loaded = ModelFile.load(file)) {
            weights = loaded.model().weightMatrices();
        }
        ObjectNode node;
        if (shuffles > 0) {
            ShuffleOptions so = ShuffleOptions.defaults().withMethod(method).withShuffles(shuffles).withCluster(options);
            ShuffleResult s = sparkMaster == null ? ShuffleTest.run(weights, so, progress)
                    : dev.cleave.cluster.DistributedShuffles.load().run(weights, so, sparkMaster);
            node = Json.mapper().valueToTree(s.trained());
            ObjectNode sh = node.putObject("shuffle");
            sh.put("method", s.method().toString());
            sh.put("n", s.n());
            sh.put("mean", s.mean());
            sh.put("sd", s.sd());
            if (s.z() == null) {
                sh.putNull("z");
            } else {
                sh.put("z", s.z());
            }
            sh.put("p", s.p());
            sh.put("lower", s.lower());
            sh.put("seconds", s.seconds());
            sh.set("ncuts", Json.mapper().valueToTree(s.ncuts()));
        } else {
            node = Json.mapper().valueToTree(SpectralClustering.cluster(weights, options));
        }
        node.put("model", file.toString());
        return node;
    }

    private static void printText(PrintWriter w, ObjectNode r) {
        w.printf("%d nodes (%d removed), %d edges, k = %d, %s solver: n-cut %.4f (%.2f s)%n", r.get("nodes").asInt(),
                r.get("removed_nodes").size(), r.get("edges").asLong(), r.get("k").asInt(), r.get("solver").asText(),
                r.get("ncut").asDouble(), r.get("seconds").asDouble());
        w.println("cluster sizes: " + r.get("cluster_sizes"));
        double[] ev = Json.mapper().convertValue(r.get("eigenvalues"), double[].class);
        w.println("eigenvalues: " + Arrays.toString(Arrays.stream(ev).map(v -> Math.round(v * 1e5) / 1e5).toArray()));
        double[] res = Json.mapper().convertValue(r.get("residuals"), double[].class);
        w.printf("max residual %.2e after %d iterations (%d operator applications)%n",
                Arrays.stream(res).max().orElse(0), r.get("iterations").asInt(), r.get("operator_applications").asLong());
        if (r.has("shuffle")) {
            ObjectNode s = (ObjectNode) r.get("shuffle");
            w.printf("shuffle test (%s, %d shuffles): shuffled n-cut %.4f +- %.4f, z = %s, p = %.4f (%.1f s)%n",
                    s.get("method").asText(), s.get("n").asInt(), s.get("mean").asDouble(), s.get("sd").asDouble(),
                    s.get("z").isNull() ? "undefined (sd 0)" : String.format("%.2f", s.get("z").asDouble()),
                    s.get("p").asDouble(), s.get("seconds").asDouble());
        }
    }
}
