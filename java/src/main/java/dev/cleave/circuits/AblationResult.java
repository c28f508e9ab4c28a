package dev.cleave.circuits;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What cluster ablation found: per-label test accuracy of the intact model and with each
 * cluster switched off (OFF) or kept alone (ON), the drops, and how specialised the clusters
 * are. Matrices are cluster x label; a label with no test images has NaN accuracies and drops.
 *
 * @param dataset             the data set evaluated on
 * @param layers              the clustered layers, ascending
 * @param k                   clusters per layer
 * @param labelCounts         test images per label
 * @param intactAccuracy      per-label accuracy of the unablated model
 * @param offAccuracy         [c][y]: accuracy on label y with cluster c's rows and columns zeroed
 * @param onAccuracy          [c][y]: accuracy on label y with every other cluster zeroed
 * @param offDrop             intact - OFF accuracy (positive: label y needs cluster c)
 * @param onDrop              intact - ON accuracy (small: cluster c alone serves label y)
 * @param mostNeededCluster   per label, the cluster whose OFF ablation drops it most; -1 when none
 *                            drops it
 * @param specialisation      {@link ClusterAblation#specialisation(double[][])} of offDrop, in [0, 1]
 * @param importanceThreshold a cluster is important for a label when its OFF drop exceeds this
 * @param importantClusters   per label, its important clusters, ascending
 * @param importantOverlap    Jaccard overlap of the important-cluster sets, label x label (NaN
 *                            where both sets are empty)
 */
public record AblationResult(
        @JsonProperty("dataset") String dataset,
        @JsonProperty("layers") int[] layers,
        @JsonProperty("k") int k,
        @JsonProperty("label_counts") int[] labelCounts,
        @JsonProperty("intact_accuracy") double[] intactAccuracy,
        @JsonProperty("off_accuracy") double[][] offAccuracy,
        @JsonProperty("on_accuracy") double[][] onAccuracy,
        @JsonProperty("off_drop") double[][] offDrop,
        @JsonProperty("on_drop") double[][] onDrop,
        @JsonProperty("most_needed_cluster") int[] mostNeededCluster,
        @JsonProperty("specialisation") double specialisation,
        @JsonProperty("importance_threshold") double importanceThreshold,
        @JsonProperty("important_clusters") int[][] importantClusters,
        @JsonProperty("important_overlap") double[][] importantOverlap) {

    public AblationResult {
        layers = layers.clone();
        labelCounts = labelCounts.clone();
        intactAccuracy = intactAccuracy.clone();
        offAccuracy = Matrices.copy(offAccuracy);
        onAccuracy = Matrices.copy(onAccuracy);
        offDrop = Matrices.copy(offDrop);
        onDrop = Matrices.copy(onDrop);
        mostNeededCluster = mostNeededCluster.clone();
        importantClusters = Matrices.copy(importantClusters);
        importantOverlap = Matrices.copy(importantOverlap);
    }

    @Override
    public int[] layers() {
        return layers.clone();
    }

    @Override
    public int[] labelCounts() {
        return labelCounts.clone();
    }

    @Override
    public double[] intactAccuracy() {
        return intactAccuracy.clone();
    }

    @Override
    public double[][] offAccuracy() {
        return Matrices.copy(offAccuracy);
    }

    @Override
    public double[][] onAccuracy() {
        return Matrices.copy(onAccuracy);
    }

    @Override
    public double[][] offDrop() {
        return Matrices.copy(offDrop);
    }

    @Override
    public double[][] onDrop() {
        return Matrices.copy(onDrop);
    }

    @Override
    public int[] mostNeededCluster() {
        return mostNeededCluster.clone();
    }

    @Override
    public int[][] importantClusters() {
        return Matrices.copy(importantClusters);
    }

    @Override
    public double[][] importantOverlap() {
        return Matrices.copy(importantOverlap);
    }
}
