package dev.cleave.pipeline;

import dev.cleave.circuits.AblationResult;
import dev.cleave.circuits.ClusterAblation;
import dev.cleave.circuits.EcsResult;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.circuits.LabelCircuit;
import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterResult;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.CoClustering;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.data.Dataset;
import dev.cleave.graph.MatrixMarket;
import dev.cleave.modular.Enmeshment;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Backend;
import dev.cleave.train.ModelFile;
import dev.cleave.train.ModularOptions;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The analysis steps below the CLI, each from a typed request to a result record with its
 * provenance: cluster a model ({@link #clusterModel}) or a graph ({@link #clusterGraph}),
 * co-cluster a model's layers ({@link #cocluster}), and a model's circuits ({@link #circuits}).
 * {@link Demo} runs them in the demo's sequence. Nothing here parses options or prints;
 * {@link Results} writes and reads the records' JSON.
 */
public final class Pipeline {
    private Pipeline() {}

    /** Clusters a model's network graph and, with shuffles, runs the shuffle test. */
    public static ClusterRun clusterModel(ClusterModelRequest request, ProgressListener progress) {
        List<FloatMatrix> weights = weights(request.model());
        String model = request.model().toString();
        if (request.shuffles() > 0) {
            ShuffleResult s = ShuffleTest.run(weights, ShuffleOptions.defaults().withMethod(request.method())
                    .withShuffles(request.shuffles()).withCluster(request.options()), progress);
            return new ClusterRun(s.trained(), ShuffleSummary.of(s), model, null, request.provenance());
        }
        return new ClusterRun(SpectralClustering.cluster(weights, request.options()), null, model, null, request.provenance());
    }

    /** Clusters the graph of a Matrix Market file. */
    public static ClusterRun clusterGraph(ClusterGraphRequest request) {
        return new ClusterRun(SpectralClustering.cluster(MatrixMarket.read(request.graph(), request.selfLoops(),
                request.duplicates()), request.options()), null, null, request.graph().toString(), request.provenance());
    }

    /** Co-clusters the chosen layers of a model on the request's device (with its threads). */
    public static CoclusterRun cocluster(CoclusterRequest request) {
        List<FloatMatrix> weights = weights(request.model());
        int k = request.k();
        List<Integer> chosen = new ModularOptions(0f, k, request.layers(), 0, "cocluster").layerIndices(weights.size());
        CoClusterOptions options = CoClusterOptions.defaults().withK(k).withVariant(request.variant()).withSeed(request.seed())
                .withThreads(request.device().threads()).withBackend(request.device());
        List<CoclusterRun.Layer> layers = new ArrayList<>();
        List<LayerClusters> clusters = new ArrayList<>();
        for (int l : chosen) {
            FloatMatrix w = weights.get(l);
            CoClusterResult r = CoClustering.cocluster(w, options);
            LayerClusters lc = new LayerClusters(l, k, r.rowLabels(), r.columnLabels());
            clusters.add(lc);
            double c;
            try (Enmeshment e = new Enmeshment(w.rows(), w.cols(), k, lc.rowLabels(), lc.colLabels())) {
                c = e.forward(w);
            }
            layers.add(new CoclusterRun.Layer(l, c, sizes(lc.rowLabels(), k), sizes(lc.colLabels(), k), r.singularValues(),
                    r.seconds()));
        }
        return new CoclusterRun(request.model().toString(), k, request.variant(), layers, clusters, request.provenance());
    }

    /**
     * Cluster ablation (and the ECS search, when the request has one) of a model on the test
     * split {@code test}, with {@code ops} (opened from the request's device: the ablation's
     * forward passes and, for a model without clusters, the co-clustering run there).
     */
    public static CircuitsRun circuits(CircuitsRequest request, Dataset test, Backend ops, ProgressListener progress) {
        if (ops.device().kind() != request.device().kind()) {
            throw new IllegalArgumentException("circuits on " + request.device() + " was given the ops of " + ops.device());
        }
        Path modelFile = request.model();
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile)) {
            String clustersFrom;
            List<LayerClusters> clusters;
            if (request.clusters() != null) {
                clustersFrom = request.clusters().toString();
                clusters = readClusters(request.clusters());
            } else if (!loaded.clusters().isEmpty()) {
                clustersFrom = "model metadata (modular training)";
                clusters = loaded.clusters();
            } else {
                clustersFrom = "co-clustering of the hidden layers, k = " + request.k();
                clusters = cocluster(new CoclusterRequest(modelFile, request.k(), "hidden", CoClusterVariant.JOINT, request.seed(),
                        request.device(), null)).clusters();
            }
            AblationResult ablation = ClusterAblation.run(loaded.model(), clusters, test, ops, ClusterAblation.Options.defaults(),
                    progress);
            if (request.ecs() == null) {
                return new CircuitsRun(modelFile.toString(), clustersFrom, ablation, null, null, null, null, request.provenance());
            }
            EcsResult e = EffectiveCircuitSize.run(loaded.model(), test, request.ecs(), progress);
            double[] perLabel = new double[e.circuits().size()];
            double sum = 0;
            for (int i = 0; i < perLabel.length; i++) {
                perLabel[i] = e.circuits().get(i).ecs();
                sum += perLabel[i];
            }
            EcsResult stored = new EcsResult(e.options(), e.dataset(), e.layers(), e.weights(), e.scaleBits(), e.approximation(),
                    e.circuits().stream().map(LabelCircuit::withoutMask).toList(), e.circuitOverlap(), e.seconds());
            return new CircuitsRun(modelFile.toString(), clustersFrom, ablation, stored, perLabel, sum / perLabel.length,
                    meanOffDiagonal(e.circuitOverlap()), request.provenance());
        }
    }

    /** The clusters of a {@code cleave cocluster --out} file. */
    static List<LayerClusters> readClusters(Path file) {
        CoclusterRun co = Results.read(file, CoclusterRun.class);
        if (co == null) {
            throw new InvalidInputException(file + ": no such file (write it with cleave cocluster --out)");
        }
        if (co.clusters().isEmpty()) {
            throw new InvalidInputException(file + ": no \"clusters\" list (write it with cleave cocluster --out)");
        }
        return co.clusters();
    }

    private static List<FloatMatrix> weights(Path modelFile) {
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile)) {
            return loaded.model().weightMatrices();
        }
    }

    static int[] sizes(int[] labels, int k) {
        int[] s = new int[k];
        for (int v : labels) {
            s[v]++;
        }
        return s;
    }

    /** The mean of a square matrix's finite off-diagonal entries; NaN when there are none. */
    static double meanOffDiagonal(double[][] m) {
        double s = 0;
        int n = 0;
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m.length; j++) {
                if (i != j && Double.isFinite(m[i][j])) {
                    s += m[i][j];
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
