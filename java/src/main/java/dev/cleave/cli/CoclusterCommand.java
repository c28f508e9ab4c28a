package dev.cleave.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterResult;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.CoClustering;
import dev.cleave.io.Json;
import dev.cleave.modular.Enmeshment;
import dev.cleave.modular.LayerClusters;
import dev.cleave.train.ModelFile;
import dev.cleave.train.ModularOptions;
import dev.cleave.util.FloatMatrix;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cleave cocluster MODEL --k 4}: each chosen layer's row/column co-clusters and their clusterability C. */
@Command(name = "cocluster", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Bipartite spectral co-clustering (Dhillon 2001) of each chosen layer's |W|, and C, the share of "
                + "its squared weight inside the k diagonal blocks.")
final class CoclusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors (cleave train)")
    Path model;

    @Option(names = "--k", defaultValue = "4", paramLabel = "K", description = "co-clusters per layer (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--layers", defaultValue = "hidden", paramLabel = "hidden|all|LIST", description = "layers (default: ${DEFAULT-VALUE})")
    String layers;

    @Option(names = "--variant", defaultValue = "joint", paramLabel = "V", description = "joint (Dhillon) | separate (G24 code) (default: ${DEFAULT-VALUE})")
    String variant;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON result to FILE (e.g. RUN_DIR/cocluster.json)")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        dev.cleave.cluster.Backend backend = CommonOptions.clusterBackend(common.backend, common.device(), spec.commandLine().getErr());
        common.printHeader(w, "cocluster", CommonOptions.cliName(backend), common.threads(), common.seed);
        ObjectNode result = cocluster(model, k, layers, CoClusterVariant.parse(variant), common.seed, common.threads(),
                backend);
        common.emit(spec, w, result, out, r -> {
            for (var layer : r.get("layers")) {
                w.printf("layers.%d.weight: C = %.4f, row cluster sizes %s, column cluster sizes %s%n", layer.get("layer").asInt(),
                        layer.get("c").asDouble(), layer.get("row_sizes"), layer.get("column_sizes"));
            }
        });
        return 0;
    }

    /** Co-clusters the chosen layers of a model file; the JSON the CLI prints (with "clusters" as LayerClusters). */
    static ObjectNode cocluster(Path file, int k, String layerSpec, CoClusterVariant variant, long seed, int threads) {
        return cocluster(file, k, layerSpec, variant, seed, threads, dev.cleave.cluster.Backend.NATIVE);
    }

    /** As above, on the given spectral engine. */
    static ObjectNode cocluster(Path file, int k, String layerSpec, CoClusterVariant variant, long seed, int threads,
            dev.cleave.cluster.Backend backend) {
        List<FloatMatrix> weights;
        try (ModelFile.Loaded loaded = ModelFile.load(file)) {
            weights = loaded.model().weightMatrices();
        }
        List<Integer> chosen = new ModularOptions(0f, k, layerSpec, 0, "cocluster").layerIndices(weights.size());
        CoClusterOptions options = CoClusterOptions.defaults().withK(k).withVariant(variant).withSeed(seed).withThreads(threads)
                .withBackend(backend);
        ObjectNode result = Json.mapper().createObjectNode();
        result.put("model", file.toString());
        result.put("k", k);
        result.put("variant", variant.toString());
        ArrayNode layerNodes = result.putArray("layers");
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
            ObjectNode n = layerNodes.addObject();
            n.put("layer", l);
            n.put("c", c);
            n.set("row_sizes", Json.mapper().valueToTree(sizes(lc.rowLabels(), k)));
            n.set("column_sizes", Json.mapper().valueToTree(sizes(lc.colLabels(), k)));
            n.set("singular_values", Json.mapper().valueToTree(r.singularValues()));
            n.put("seconds", r.seconds());
        }
        result.set("clusters", Json.mapper().valueToTree(clusters));
        return result;
    }

    static int[] sizes(int[] labels, int k) {
        int[] s = new int[k];
        for (int v : labels) {
            s[v]++;
        }
        return s;
    }
}
