package dev.cleave.report;

import dev.cleave.modular.LayerClusters;
import dev.cleave.graph.SliceNorm;
import dev.cleave.pipeline.CircuitsRun;
import dev.cleave.pipeline.CnnModel;
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
import java.util.ArrayList;
import java.util.List;

/**
 * What the report reads from one run folder: config.json, metrics.jsonl, model.safetensors
 * (weights and modular clusters), and, when present, the result records written by
 * {@code cleave cluster --out} ({@value Results#CLUSTER_FILE}: a {@link ClusterRun}),
 * {@code cleave circuits --out} ({@value Results#CIRCUITS_FILE}: a {@link CircuitsRun}) and
 * {@code cleave cocluster --out} ({@value Results#COCLUSTER_FILE}: a {@link CoclusterRun},
 * clusters for a model trained without them), read through their record types; {@code cleave
 * demo} writes all three there. For a CNN ({@code cnn} not null) the weights are its layers'
 * unit matrices (channel norms, see {@link CnnModel#unitMatrix}).
 */
record RunData(String name, Path dir, TrainConfig config, List<EpochMetrics> metrics, List<FloatMatrix> weights,
        List<LayerClusters> clusters, ClusterRun cluster, CircuitsRun circuits, CoclusterRun cocluster, CnnModel cnn) {

    static RunData load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + " is not a run folder (expected the --out folder of cleave train)");
        }
        RunDir run = RunDir.forReading(dir);
        TrainConfig config = run.readConfig();
        List<EpochMetrics> metrics = run.readMetrics(); // a last line torn by a kill is left out
        List<FloatMatrix> weights;
        List<LayerClusters> clusters;
        CoclusterRun cocluster = Results.read(dir.resolve(Results.COCLUSTER_FILE), CoclusterRun.class);
        CnnModel cnn = CnnModel.readIfCnn(dir.resolve(RunDir.MODEL), List.of());
        if (cnn != null) {
            // a CNN's layers are shown as the matrices co-clustering reads: channel norms under the co-clusters' norm
            SliceNorm norm = cocluster != null && cocluster.sliceNorm() != null ? cocluster.sliceNorm() : SliceNorm.L1;
            weights = new ArrayList<>();
            for (int l = 0; l < cnn.layers().size(); l++) {
                weights.add(cnn.unitMatrix(l, norm));
            }
            clusters = fitting(cnn, RunDir.clustersOf(cnn.metadata()), weights);
            if (clusters.isEmpty() && cocluster != null) {
                clusters = fitting(cnn, cocluster.clusters(), weights);
            }
        } else {
            try (ModelFile.Loaded model = ModelFile.load(dir.resolve(RunDir.MODEL))) {
                weights = model.model().weightMatrices();
                clusters = model.clusters();
            }
            if (clusters.isEmpty() && cocluster != null) {
                clusters = cocluster.clusters();
            }
        }
        return new RunData(dir.getFileName().toString(), dir, config, List.copyOf(metrics), weights, clusters,
                Results.read(dir.resolve(Results.CLUSTER_FILE), ClusterRun.class),
                Results.read(dir.resolve(Results.CIRCUITS_FILE), CircuitsRun.class), cocluster, cnn);
    }

    /**
     * A CNN's clusters (layer = the index clusters record, {@link CnnModel#indices}) renumbered by
     * chain position, the positions of {@code matrices}; clusters whose labels do not fit the
     * matrix shown (a dense layer clustered on its plain |W| rather than on channel blocks) are
     * left out, as they cannot be drawn on it.
     */
    private static List<LayerClusters> fitting(CnnModel cnn, List<LayerClusters> clusters, List<FloatMatrix> matrices) {
        List<LayerClusters> out = new ArrayList<>();
        for (LayerClusters c : clusters) {
            int at = cnn.position(c.layer());
            if (at >= 0 && matrices.get(at).rows() == c.rows() && matrices.get(at).cols() == c.cols()) {
                out.add(new LayerClusters(at, c.k(), c.rowLabels(), c.colLabels()));
            }
        }
        return out;
    }

    /** The heading of weighted layer {@code layer}: its tensor name for a CNN, layers.N.weight for an MLP. */
    String layerName(int layer) {
        return cnn != null && layer < cnn.weightNames().size() ? cnn.weightNames().get(layer) : "layers." + layer + ".weight";
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
