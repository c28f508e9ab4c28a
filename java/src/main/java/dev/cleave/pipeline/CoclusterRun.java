package dev.cleave.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.graph.SliceNorm;
import dev.cleave.modular.LayerClusters;
import java.util.List;

/**
 * Co-clusters of a model's chosen layers as the pipeline returns them and
 * {@code cocluster.json} holds them. JSON: {@code model, model_layers, assumption, k, variant,
 * slice_norm} (a CNN){@code , layers, clusters},
 * {@code command} (derived from the provenance) and {@code provenance}. Equal runs are the ones
 * that write the same JSON.
 *
 * @param model      the model file
 * @param modelLayers which tensors made the model ("layers: fc1.weight 256x784, ...")
 * @param assumption what was assumed about a file Cleave did not write; null when nothing was
 * @param k          co-clusters per layer
 * @param variant    joint or separate
 * @param sliceNorm  for a CNN, the norm of the kernel slices (and dense blocks) its conv layers'
 *                   channel-norm matrices were built with; null for an MLP
 * @param layers     per layer: C and the cluster sizes
 * @param clusters   per layer: the row and column labels (what {@code cleave circuits --clusters}
 *                   and the report read)
 * @param provenance how it was produced; null in a file written before Cleave recorded it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"model", "model_layers", "assumption", "k", "variant", "slice_norm", "layers", "clusters", "command",
        "provenance"})
@JsonIgnoreProperties(value = "command", allowGetters = true)
public record CoclusterRun(
        @JsonProperty("model") String model,
        @JsonProperty("model_layers") String modelLayers,
        @JsonProperty("assumption") String assumption,
        @JsonProperty("k") int k,
        @JsonProperty("variant") CoClusterVariant variant,
        @JsonProperty("slice_norm") SliceNorm sliceNorm,
        @JsonProperty("layers") List<Layer> layers,
        @JsonProperty("clusters") List<LayerClusters> clusters,
        @JsonProperty("provenance") Provenance provenance) {

    public CoclusterRun {
        layers = layers == null ? List.of() : List.copyOf(layers);
        clusters = clusters == null ? List.of() : List.copyOf(clusters);
    }

    /**
     * One co-clustered layer.
     *
     * @param layer          the weight matrix's index in the model's chain (a CNN's: its weighted layers, convs first)
     * @param name           the weight's tensor name (layers.N.weight, fc2.weight, ...)
     * @param c              clusterability: the share of the squared weight inside the k diagonal blocks
     *                       (of a conv kernel: of its squared kernel mass, slices K[j, i, :, :] whole;
     *                       batchnorms not folded, as the enmeshment loss sees the weights)
     * @param rowSizes       rows per co-cluster
     * @param columnSizes    columns per co-cluster
     * @param singularValues the singular values of the scaled |W| the embedding used
     * @param seconds        wall time
     */
    public record Layer(
            @JsonProperty("layer") int layer,
            @JsonProperty("name") String name,
            @JsonProperty("c") double c,
            @JsonProperty("row_sizes") int[] rowSizes,
            @JsonProperty("column_sizes") int[] columnSizes,
            @JsonProperty("singular_values") double[] singularValues,
            @JsonProperty("seconds") double seconds) {
        public Layer {
            rowSizes = rowSizes.clone();
            columnSizes = columnSizes.clone();
            singularValues = singularValues.clone();
        }

        @Override
        public int[] rowSizes() {
            return rowSizes.clone();
        }

        @Override
        public int[] columnSizes() {
            return columnSizes.clone();
        }

        @Override
        public double[] singularValues() {
            return singularValues.clone();
        }

        @Override
        public boolean equals(Object o) {
            return Results.sameJson(this, o);
        }

        @Override
        public int hashCode() {
            return Results.jsonHash(this);
        }
    }

    /** The command that reproduces it (JSON "command"); null when the provenance is unknown. */
    @JsonProperty("command")
    public String command() {
        return provenance == null ? null : provenance.commandLine();
    }

    @Override
    public boolean equals(Object o) {
        return Results.sameJson(this, o);
    }

    @Override
    public int hashCode() {
        return Results.jsonHash(this);
    }
}
