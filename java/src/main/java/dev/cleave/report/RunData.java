package dev.cleave.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.io.Json;
import dev.cleave.modular.LayerClusters;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the report reads from one run folder: config.json, metrics.jsonl, model.safetensors
 * (weights and modular clusters), and, when present, the JSON results written into the folder by
 * {@code cleave cluster --out RUN/}{@value #CLUSTER_FILE}, {@code cleave circuits --out
 * RUN/}{@value #CIRCUITS_FILE} and {@code cleave cocluster --out RUN/}{@value #COCLUSTER_FILE}
 * (clusters for a model trained without them); {@code cleave demo} writes all three there.
 */
record RunData(String name, Path dir, TrainConfig config, List<EpochMetrics> metrics, List<FloatMatrix> weights,
        List<LayerClusters> clusters, JsonNode cluster, JsonNode circuits, JsonNode cocluster) {

    static final String CLUSTER_FILE = "cluster.json";
    static final String CIRCUITS_FILE = "circuits.json";
    static final String COCLUSTER_FILE = "cocluster.json";

    static RunData load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + " is not a run folder (expected the --out folder of cleave train)");
        }
        RunDir run = RunDir.forReading(dir);
        TrainConfig config = run.readConfig();
        List<EpochMetrics> metrics = run.readMetrics(); // a last line torn by a kill is left out
        List<FloatMatrix> weights;
        List<LayerClusters> clusters;
        try (ModelFile.Loaded model = ModelFile.load(dir.resolve(RunDir.MODEL))) {
            weights = model.model().weightMatrices();
            clusters = model.clusters();
        }
        JsonNode cocluster = readJson(dir.resolve(COCLUSTER_FILE));
        if (clusters.isEmpty() && cocluster != null && cocluster.has("clusters")) {
            clusters = List.of(Json.mapper().convertValue(cocluster.get("clusters"), LayerClusters[].class));
        }
        return new RunData(dir.getFileName().toString(), dir, config, List.copyOf(metrics), weights, clusters,
                readJson(dir.resolve(CLUSTER_FILE)), readJson(dir.resolve(CIRCUITS_FILE)), cocluster);
    }

    private static JsonNode readJson(Path file) {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            return Json.mapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    EpochMetrics last() {
        return metrics.isEmpty() ? null : metrics.get(metrics.size() - 1);
    }

    LayerClusters clustersOf(int layer) {
        for (LayerClusters c : clusters) {
            if (c.layer() == layer) {
                return c;
            }
        }
        return null;
    }
}
