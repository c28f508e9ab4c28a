package dev.cleave.pipeline;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.io.Json;
import java.util.List;
import java.util.Objects;

/**
 * A spectral clustering as the pipeline returns it and {@code cluster.json} holds it: the
 * clustering, the shuffle test when one ran, what was clustered, and how.
 *
 * <p>JSON: the {@link ClusterResult}'s fields at the top level, then {@code "shuffle"} (when
 * the test ran), {@code "model"} or {@code "graph"}, {@code "model_layers"} and
 * {@code "assumption"} (a model), {@code "smallest_eigenvalues"} (when asked for),
 * {@code "cnn_graph"} and {@code "unit_layers"} (a CNN), {@code "command"} (derived from the
 * provenance: {@link Provenance#commandLine()}) and {@code "provenance"}. Equal runs are the
 * ones that write the same JSON (the results hold arrays, which records compare by identity).
 *
 * @param result     the clustering (of the trained network when the shuffle test ran)
 * @param shuffle    the shuffle test; null when none ran
 * @param model      the model file clustered; null for a graph
 * @param graph      the Matrix Market file clustered; null for a model
 * @param modelLayers which tensors made the model ("layers: fc1.weight 256x784, ..."); null for a graph
 * @param assumption what was assumed about a file Cleave did not write; null when nothing was
 * @param smallestEigenvalues the normalized Laplacian's smallest eigenvalues when more were asked
 *                   for than the clustering's k ({@code --eigenvalues}); null otherwise
 * @param cnnGraph   for a CNN, how its unit graph was built; null for an MLP or a graph
 * @param unitLayers for a CNN, the unit graph's layers in node order (the labels and
 *                   {@code removed_nodes} index them: a node's layer is its position here); empty otherwise
 * @param provenance how it was produced; null in a file written before Cleave recorded it
 */
public record ClusterRun(ClusterResult result, ShuffleSummary shuffle, String model, String graph, String modelLayers,
        String assumption, double[] smallestEigenvalues, CnnGraphOptions cnnGraph, List<UnitLayer> unitLayers,
        Provenance provenance) {
    public ClusterRun {
        Objects.requireNonNull(result, "result");
        smallestEigenvalues = smallestEigenvalues == null ? null : smallestEigenvalues.clone();
        unitLayers = unitLayers == null ? List.of() : List.copyOf(unitLayers);
    }

    /** A run of an MLP or a graph (no CNN unit graph). */
    public ClusterRun(ClusterResult result, ShuffleSummary shuffle, String model, String graph, String modelLayers,
            String assumption, double[] smallestEigenvalues, Provenance provenance) {
        this(result, shuffle, model, graph, modelLayers, assumption, smallestEigenvalues, null, List.of(), provenance);
    }

    /**
     * One layer of a CNN's unit graph.
     *
     * @param name   "input" (the input channels), else the kind and position of the weighted layer
     *               whose outputs these units are ("conv 0", "linear 3")
     * @param weight that layer's weight tensor ("layers.0.weight"); null for the input
     * @param units  units in the layer, removed ones included
     */
    public record UnitLayer(@JsonProperty("name") String name, @JsonProperty("weight") String weight,
            @JsonProperty("units") int units) {}

    /** A removed unit of a CNN's unit graph in words: "conv 1 channel 2", "linear 3 neuron 7". */
    public String describe(dev.cleave.graph.RemovedNode node) {
        UnitLayer u = unitLayers.get(node.layer());
        return u.name() + (u.name().startsWith("linear") ? " neuron " : " channel ") + node.index();
    }

    /** Whether this is a CNN's unit graph. */
    public boolean cnn() {
        return cnnGraph != null;
    }

    @Override
    public double[] smallestEigenvalues() {
        return smallestEigenvalues == null ? null : smallestEigenvalues.clone();
    }

    /** The command that reproduces it; null when the provenance is unknown. */
    public String command() {
        return provenance == null ? null : provenance.commandLine();
    }

    @JsonValue
    ObjectNode json() {
        ObjectNode n = Json.mapper().valueToTree(result);
        if (shuffle != null) {
            n.set("shuffle", Json.mapper().valueToTree(shuffle));
        }
        if (model != null) {
            n.put("model", model);
        }
        if (graph != null) {
            n.put("graph", graph);
        }
        if (modelLayers != null) {
            n.put("model_layers", modelLayers);
        }
        if (assumption != null) {
            n.put("assumption", assumption);
        }
        if (smallestEigenvalues != null) {
            n.set("smallest_eigenvalues", Json.mapper().valueToTree(smallestEigenvalues));
        }
        if (cnnGraph != null) {
            n.set("cnn_graph", Json.mapper().valueToTree(cnnGraph));
            n.set("unit_layers", Json.mapper().valueToTree(unitLayers));
        }
        if (provenance != null) {
            n.put("command", provenance.commandLine());
            n.set("provenance", Json.mapper().valueToTree(provenance));
        }
        return n;
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static ClusterRun fromJson(ObjectNode n) {
        ClusterResult result = Json.mapper().convertValue(n, ClusterResult.class);
        JsonNode shuffle = n.get("shuffle");
        JsonNode provenance = n.get("provenance");
        JsonNode smallest = n.get("smallest_eigenvalues");
        JsonNode cnn = n.get("cnn_graph");
        JsonNode units = n.get("unit_layers");
        return new ClusterRun(result, shuffle == null || shuffle.isNull() ? null : Json.mapper().convertValue(shuffle,
                ShuffleSummary.class), text(n, "model"), text(n, "graph"), text(n, "model_layers"), text(n, "assumption"),
                smallest == null || smallest.isNull() ? null : Json.mapper().convertValue(smallest, double[].class),
                cnn == null || cnn.isNull() ? null : Json.mapper().convertValue(cnn, CnnGraphOptions.class),
                units == null || units.isNull() ? List.of() : List.of(Json.mapper().convertValue(units, UnitLayer[].class)),
                provenance == null || provenance.isNull() ? null : Json.mapper().convertValue(provenance, Provenance.class));
    }

    private static String text(ObjectNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
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
