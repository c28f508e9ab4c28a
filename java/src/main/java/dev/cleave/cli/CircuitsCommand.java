package dev.cleave.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.circuits.AblationResult;
import dev.cleave.circuits.ClusterAblation;
import dev.cleave.circuits.EcsResult;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.circuits.LabelCircuit;
import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.data.Dataset;
import dev.cleave.io.Json;
import dev.cleave.modular.LayerClusters;
import dev.cleave.modular.LayerSelection;
import dev.cleave.nn.Backend;
import dev.cleave.train.ModelFile;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cleave circuits MODEL}: do the modules mean something? Cluster ablation (cluster x label
 * accuracy drops, specialisation), effective circuit size per label, and the overlaps.
 */
@Command(name = "circuits", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Cluster ablation and effective circuit size per label (G24/G25).")
final class CircuitsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors (cleave train)")
    Path model;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME", description = "data set (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for the data set's files")
    Path dataDir;

    @Option(names = "--no-install", description = "never install a missing data set")
    boolean noInstall;

    @Option(names = "--clusters", paramLabel = "FILE", description = "clusters from a cleave cocluster --out FILE (default: the "
            + "model's own modular clusters, else co-cluster the hidden layers with --k)")
    Path clustersFile;

    @Option(names = "--k", defaultValue = "4", paramLabel = "K", description = "co-clusters when the model has none (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--layers", split = ",", paramLabel = "NAME", description = "the model's layers by weight or module name, "
            + "first layer first (default: found from the tensor names)")
    List<String> chain;

    @Option(names = "--images-per-label", defaultValue = "0", paramLabel = "N",
            description = "ECS on the first N test images of each label (0 = all: exact)")
    int imagesPerLabel;

    @Option(names = "--ecs-layers", split = ",", paramLabel = "L", description = "layers the ECS search covers (default: all)")
    int[] ecsLayers;

    @Option(names = "--method", defaultValue = "fast", paramLabel = "fast|naive", description = "ECS search (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--no-ecs", description = "only the cluster ablation")
    boolean noEcs;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON result to FILE (e.g. RUN_DIR/circuits.json)")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (k < 1) {
            throw new InvalidInputException("--k must be >= 1 (co-clusters per layer), got " + k);
        }
        CommonOptions.checkOut(out);
        try (Backend backend = common.createBackend(common.backend, common.threads(), err)) {
            common.printHeader(w, "circuits", backend.name(), backend.threads(), common.seed);
            Dataset test = DatasetInstaller.load(dataset, dataDir, !noInstall, msg -> {
                err.println(msg);
                err.flush();
            }).test();
            ObjectNode result;
            try (Progress progress = Progress.start(common.json, err)) {
                EffectiveCircuitSize.Options ecs = noEcs ? null
                        : new EffectiveCircuitSize.Options(null, imagesPerLabel, ecsLayers, method, common.threads());
                result = circuits(model, chain == null ? List.of() : chain, clustersFile, k, test, backend, ecs, common.seed,
                        progress);
            }
            common.emit(spec, w, result, out, r -> printText(w, r));
        }
        return 0;
    }

    /** The clusters to ablate: from a cocluster file, the model's metadata, or co-clustering now. */
    static List<LayerClusters> clustersFor(Path modelFile, ModelFile.Loaded loaded, Path clustersFile, int k, long seed) {
        if (clustersFile != null) {
            try {
                JsonNode node = Json.mapper().readTree(Files.readString(clustersFile));
                if (!node.has("clusters")) {
                    throw new InvalidInputException(clustersFile + ": no \"clusters\" list (write it with cleave cocluster --out)");
                }
                return List.of(Json.mapper().convertValue(node.get("clusters"), LayerClusters[].class));
            } catch (IOException e) {
                throw new InvalidInputException(clustersFile + ": cannot read (" + e.getMessage() + ")", e);
            }
        }
        if (!loaded.clusters().isEmpty()) {
            return loaded.clusters();
        }
        int layers = loaded.model().weightMatrices().size();
        if (layers < 3) {
            throw new InvalidInputException(modelFile + " has " + layers + " weight layer" + (layers == 1 ? "" : "s")
                    + " and no hidden-to-hidden weights to co-cluster: co-cluster it with 'cleave cocluster " + modelFile
                    + " --layers all --out FILE' and give --clusters FILE");
        }
        List<FloatMatrix> weights = loaded.model().weightMatrices();
        List<Integer> hidden = LayerSelection.indices("hidden", layers, "--layers");
        LayerSelection.requireClustersFit(hidden, weights, k, "--k");
        ObjectNode co = Json.mapper().createObjectNode();
        CoclusterCommand.coclusterLayers(co, modelFile, weights, loaded.weightNames(), hidden, k,
                CoClusterOptions.defaults().withK(k).withVariant(CoClusterVariant.JOINT).withSeed(seed).withThreads(0));
        return List.of(Json.mapper().convertValue(co.get("clusters"), LayerClusters[].class));
    }

    /** As below, with the layers found from the tensor names. */
    static ObjectNode circuits(Path modelFile, Path clustersFile, int k, Dataset test, Backend backend,
            EffectiveCircuitSize.Options ecs, long seed, ProgressListener progress) {
        return circuits(modelFile, List.of(), clustersFile, k, test, backend, ecs, seed, progress);
    }

    /**
     * Ablation (and ECS unless {@code ecs} is null) of a model file ({@code chain}: its layers by
     * name, empty to find them); the JSON the CLI prints.
     */
    static ObjectNode circuits(Path modelFile, List<String> chain, Path clustersFile, int k, Dataset test, Backend backend,
            EffectiveCircuitSize.Options ecs, long seed, ProgressListener progress) {
        ObjectNode result = Json.mapper().createObjectNode();
        result.put("model", modelFile.toString());
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile, chain)) {
            ClusterCommand.putLayers(result, loaded.layers(), loaded.assumption());
            List<LayerClusters> clusters = clustersFor(modelFile, loaded, clustersFile, k, seed);
            result.put("clusters_from", clustersFile != null ? clustersFile.toString()
                    : !loaded.clusters().isEmpty() ? "model metadata (modular training)" : "co-clustering of the hidden layers, k = " + k);
            AblationResult ablation = ClusterAblation.run(loaded.model(), clusters, test, backend,
                    ClusterAblation.Options.defaults(), progress);
            result.set("ablation", Json.mapper().valueToTree(ablation));
            if (ecs != null) {
                EcsResult e = EffectiveCircuitSize.run(loaded.model(), test, ecs, progress);
                ObjectNode node = Json.mapper().valueToTree(e);
                for (JsonNode c : node.get("circuits")) {
                    ((ObjectNode) c).remove("mask"); // 50 KB of base64 per label; the overlaps are kept
                }
                result.set("ecs_result", node);
                ArrayNode perLabel = result.putArray("ecs");
                double sum = 0;
                for (LabelCircuit c : e.circuits()) {
                    perLabel.add(c.ecs());
                    sum += c.ecs();
                }
                result.put("mean_ecs", sum / e.circuits().size());
                result.put("mean_circuit_overlap", meanOffDiagonal(e.circuitOverlap()));
            }
        }
        return result;
    }

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

    private static void printText(PrintWriter w, ObjectNode r) {
        ClusterCommand.printLayers(w, r);
        JsonNode a = r.get("ablation");
        w.println("clusters: " + r.get("clusters_from").asText() + "; layers " + a.get("layers") + ", k = " + a.get("k"));
        w.println("accuracy drop when a cluster is switched off (rows: clusters, columns: labels 0..):");
        for (JsonNode row : a.get("off_drop")) {
            StringBuilder sb = new StringBuilder("  ");
            for (JsonNode v : row) {
                sb.append(String.format("%7.3f", v.asDouble()));
            }
            w.println(sb);
        }
        w.printf("specialisation %.3f; most-needed cluster per label %s%n", a.get("specialisation").asDouble(),
                a.get("most_needed_cluster"));
        if (r.has("ecs")) {
            JsonNode e = r.get("ecs_result");
            StringBuilder sb = new StringBuilder();
            for (JsonNode v : r.get("ecs")) {
                sb.append(String.format(" %.4f", v.asDouble()));
            }
            w.printf("effective circuit size per label:%s (mean %.4f; %s; %.1f s)%n", sb, r.get("mean_ecs").asDouble(),
                    e.get("approximation").isNull() ? "exact" : e.get("approximation").asText(), e.get("seconds").asDouble());
            w.printf("mean Jaccard overlap between labels' circuits %.3f%n", r.get("mean_circuit_overlap").asDouble());
        }
    }
}
