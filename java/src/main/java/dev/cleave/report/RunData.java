package dev.cleave.report;

import dev.cleave.modular.LayerClusters;
import dev.cleave.pipeline.CircuitsRun;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.CoclusterRun;
import dev.cleave.pipeline.Results;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the report reads from one run folder: config.json, metrics.jsonl, model.safetensors
 * (weights and modular clusters), and, when present, the result records written by
 * {@code cleave cluster --out} ({@value Results#CLUSTER_FILE}: a {@link ClusterRun}),
 * {@code cleave circuits --out} ({@value Results#CIRCUITS_FILE}: a {@link CircuitsRun}) and
 * {@code cleave cocluster --out} ({@value Results#COCLUSTER_FILE}: a {@link CoclusterRun},
 * clusters for a model trained without them), read through their record types; {@code cleave
 * demo} writes all three there.
 */
record RunData(String name, Path dir, TrainConfig config, List<EpochMetrics> metrics, List<FloatMatrix> weights,
        List<LayerClusters> clusters, ClusterRun cluster, CircuitsRun circuits, CoclusterRun cocluster) {

    static RunData load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + " is not a run folder (expected the --out folder of cleave train)");
        }
        RunDir run = RunDir.forReading(dir);
        TrainConfig config = run.readConfig();
        List<EpochMetrics> metrics = run.readMetrics(); // a last line torn by a kill is left out
        List<FloatMatrix> weights;
        List<LayerClusters> clusters;
        if (ModelFile.isNetworkFile(dir.resolve(RunDir.MODEL))) {
            weights = List.of(); // a network with convolutions: no weight heat maps (its circuits sections still show)
            clusters = List.of();
        } else {
            try (ModelFile.Loaded model = ModelFile.load(dir.resolve(RunDir.MODEL))) {
                weights = model.model().weightMatrices();
                clusters = model.clusters();
            }
        }
        CoclusterRun cocluster = Results.read(dir.resolve(Results.COCLUSTER_FILE), CoclusterRun.class);
        if (clusters.isEmpty() && cocluster != null) {
            clusters = cocluster.clusters();
        }
        return new RunData(dir.getFileName().toString(), dir, config, List.copyOf(metrics), weights, clusters,
                Results.read(dir.resolve(Results.CLUSTER_FILE), ClusterRun.class),
                Results.read(dir.resolve(Results.CIRCUITS_FILE), CircuitsRun.class), cocluster);
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
