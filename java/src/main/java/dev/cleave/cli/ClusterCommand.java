package dev.cleave.cli;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.DistributedShuffles;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.Duplicates;
import dev.cleave.graph.RemovedNode;
import dev.cleave.graph.SelfLoops;
import dev.cleave.nn.Device;
import dev.cleave.pipeline.ClusterGraphRequest;
import dev.cleave.pipeline.ClusterModelRequest;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.Pipeline;
import dev.cleave.pipeline.ShuffleSummary;
import dev.cleave.util.InvalidInputException;
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

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "a model.safetensors (cleave train or init; an MLP or a CNN, or a PyTorch state_dict)")
    Path model;

    @Option(names = "--graph", paramLabel = "FILE.mtx", description = "cluster this Matrix Market graph instead of a model")
    Path graph;

    @Option(names = "--self-loops", paramLabel = "P", description = "with --graph, diagonal entries: drop (ignored, as "
            + "scipy's and scikit-learn's Laplacians do) | reject (default: drop)")
    String selfLoops;

    @Option(names = "--duplicates", paramLabel = "P", description = "with --graph, an entry given more than once: "
            + "sum (as SciPy and networkx do) | reject (default: sum)")
    String duplicates;

    @Option(names = "--k", defaultValue = "12", paramLabel = "K", description = "clusters (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--layers", split = ",", paramLabel = "NAME", description = "the model's layers by weight or module name, "
            + "first layer first (default: found from the tensor names; 'cleave cluster MODEL' prints what it found)")
    List<String> chain;

    @Option(names = "--eigenvalues", paramLabel = "N", description = "also report the N smallest eigenvalues of the "
            + "normalized Laplacian (k is unchanged)")
    Integer eigenvalues;

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

    @Option(names = "--slice-norm", paramLabel = "N", description = "for a CNN, the norm of a kernel slice K[j,i,:,:] (and of "
            + "a dense block after flatten) that weighs an edge: l1 (entrywise sum) | max-col-sum (F21's code) | l2 (default: l1)")
    String sliceNorm;

    @Option(names = "--edges", paramLabel = "E", description = "for a CNN, the unit graph: units (input channels, conv "
            + "channels and dense neurons, every edge between consecutive layers) | f21 (conv channels, conv-to-conv edges "
            + "only, as F21) (default: units)")
    String edges;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON result to FILE (e.g. RUN_DIR/cluster.json)")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        CommonOptions.shuffles(shuffles);
        CommonOptions.nInit(nInit);
        CommonOptions.checkOut(out);
        Device device = common.device(spec.commandLine().getErr());
        common.printHeader(w, "cluster", device, common.seed);
        if ((model == null) == (graph == null)) {
            throw new InvalidInputException("give either a MODEL file or --graph FILE.mtx (exactly one)");
        }
        if (graph == null && (selfLoops != null || duplicates != null)) {
            throw new InvalidInputException((selfLoops != null ? "--self-loops" : "--duplicates")
                    + " applies to --graph FILE.mtx only (a model's network graph has neither)");
        }
        SelfLoops loops = selfLoops == null ? SelfLoops.DROP : SelfLoops.parse(selfLoops, "--self-loops");
        Duplicates dups = duplicates == null ? Duplicates.SUM : Duplicates.parse(duplicates, "--duplicates");
        if (spark != null && shuffles == 0) {
            throw new InvalidInputException("--spark spreads the shuffle test: give --shuffles N too");
        }
        if (shuffles > 0 && graph != null) {
            throw new InvalidInputException("--shuffles needs a model (weight matrices to shuffle), not --graph");
        }
        if (graph != null && chain != null) {
            throw new InvalidInputException("--layers names a model's layers; a --graph has none: drop it");
        }
        if (graph != null && (sliceNorm != null || edges != null)) {
            throw new InvalidInputException((sliceNorm != null ? "--slice-norm" : "--edges") + " builds the unit graph of a CNN "
                    + "model; a --graph is clustered as it is: drop it");
        }
        CnnGraphOptions cnnGraph = cnnGraph(sliceNorm, edges);
        if (eigenvalues != null && eigenvalues < 1) {
            throw new InvalidInputException("--eigenvalues must be >= 1, got " + eigenvalues);
        }
        int spectrum = eigenvalues == null ? 0 : eigenvalues;
        ClusterOptions options = ClusterOptions.defaults().withK(k).withNInit(nInit).withTolerance(tolerance)
                .withSeed(common.seed).withThreads(device.threads()).withBackend(device);
        ClusterRun result;
        ShuffleTest.Runner shuffleTest = ShuffleTest::run;
        if (spark != null) {
            DistributedShuffles engine = DistributedShuffles.load();
            shuffleTest = (weights, so, progress) -> engine.run(weights, so, spark);
        }
        try (Progress progress = Progress.start(common.json, spec.commandLine().getErr())) {
            result = graph != null ? Pipeline.clusterGraph(new ClusterGraphRequest(graph, loops, dups, options, spectrum, out))
                    : Pipeline.clusterModel(new ClusterModelRequest(model, chain, options, shuffles,
                            ShuffleMethod.parse(shuffleMethod), spectrum, cnnGraph, out), progress, shuffleTest);
        }
        ClusterRun printed = result;
        common.emit(w, result, out, () -> printText(w, printed));
        return 0;
    }

    /** The CNN graph options given (either left out: its default), or null when neither is given. */
    static CnnGraphOptions cnnGraph(String sliceNorm, String edges) {
        if (sliceNorm == null && edges == null) {
            return null;
        }
        CnnGraphOptions o = CnnGraphOptions.defaults();
        if (sliceNorm != null) {
            o = o.withNorm(CommonOptions.sliceNorm(sliceNorm));
        }
        if (edges != null) {
            try {
                o = o.withEdges(CnnGraphOptions.Edges.parse(edges));
            } catch (InvalidInputException e) {
                throw new InvalidInputException("--edges must be units or f21, got '" + edges + "'");
            }
        }
        return o;
    }

    private static void printText(PrintWriter w, ClusterRun run) {
        CommonOptions.printLayers(w, run.modelLayers(), run.assumption());
        ClusterResult r = run.result();
        if (run.cnn()) {
            StringBuilder units = new StringBuilder();
            for (ClusterRun.UnitLayer u : run.unitLayers()) {
                units.append(units.length() == 0 ? "" : ", ").append(u.name()).append(' ').append(u.units());
            }
            w.println("unit graph (" + run.cnnGraph().edges() + ", " + run.cnnGraph().norm() + " norm): " + units);
            if (!r.removedNodes().isEmpty()) {
                StringBuilder removed = new StringBuilder();
                int shown = 0;
                for (RemovedNode n : r.removedNodes()) {
                    if (shown++ == 10) {
                        removed.append(", ...");
                        break;
                    }
                    removed.append(shown == 1 ? "" : ", ").append(run.describe(n));
                }
                w.println(r.removedNodes().size() + " unit(s) of zero or negligible degree removed: " + removed);
            }
        }
        w.printf("%d nodes (%d isolated dropped), %d edges, %d components, k = %d, %s solver: n-cut %.4f (%.2f s)%n",
                r.nodes(), r.isolatedNodesDropped(), r.edges(), r.components(), r.k(), r.solver(), r.ncut(), r.seconds());
        w.println("cluster sizes: " + Arrays.toString(r.clusterSizes()).replace(" ", ""));
        w.println("eigenvalues: " + rounded(r.eigenvalues()));
        w.printf("max residual %.2e after %d iterations (%d operator applications)%n",
                Arrays.stream(r.residuals()).max().orElse(0), r.iterations(), r.operatorApplications());
        double[] sm = run.smallestEigenvalues();
        if (sm != null) {
            w.println(sm.length + " smallest eigenvalues: " + rounded(sm));
        }
        ShuffleSummary s = run.shuffle();
        if (s != null) {
            w.printf("shuffle test (%s, %d shuffles): shuffled n-cut %.4f +- %.4f, z = %s, p = %.4f (%.1f s)%n",
                    s.method(), s.n(), s.mean(), s.sd(), s.z() == null ? "undefined (sd 0)" : String.format("%.2f", s.z()),
                    s.p(), s.seconds());
        }
    }

    private static String rounded(double[] values) {
        return Arrays.toString(Arrays.stream(values).map(v -> Math.round(v * 1e5) / 1e5).toArray());
    }
}
