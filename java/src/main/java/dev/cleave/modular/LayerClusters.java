package dev.cleave.modular;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.util.InvalidInputException;
import java.util.Arrays;

/**
 * The clusters of one weight matrix of an MLP: layer {@code layer}'s weight (out x in) with
 * {@code k} clusters; cluster c is the output neurons (rows) labelled c together with the input
 * neurons (columns) labelled c. Produced by modular training's assignment (balanced partition
 * or co-clustering) and saved in the model file's metadata.
 */
public record LayerClusters(
        @JsonProperty("layer") int layer,
        @JsonProperty("k") int k,
        @JsonProperty("row_labels") int[] rowLabels,
        @JsonProperty("col_labels") int[] colLabels) {

    public LayerClusters {
        if (layer < 0) {
            throw new InvalidInputException("cluster layer index must be >= 0, got " + layer);
        }
        if (k < 1) {
            throw new InvalidInputException("layer " + layer + ": k must be >= 1, got " + k);
        }
        rowLabels = rowLabels.clone();
        colLabels = colLabels.clone();
        for (int[] labels : new int[][] {rowLabels, colLabels}) {
            for (int v : labels) {
                if (v < 0 || v >= k) {
                    throw new InvalidInputException("layer " + layer + ": cluster label " + v + " is outside [0, " + k + ")");
                }
            }
        }
    }

    public int rows() {
        return rowLabels.length;
    }

    public int cols() {
        return colLabels.length;
    }

    @Override
    public int[] rowLabels() {
        return rowLabels.clone();
    }

    @Override
    public int[] colLabels() {
        return colLabels.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerClusters c && c.layer == layer && c.k == k && Arrays.equals(c.rowLabels, rowLabels)
                && Arrays.equals(c.colLabels, colLabels);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * layer + k) + 17 * Arrays.hashCode(rowLabels) + Arrays.hashCode(colLabels);
    }

    @Override
    public String toString() {
        return "LayerClusters[layer=" + layer + ", k=" + k + ", " + rows() + " x " + cols() + "]";
    }
}
