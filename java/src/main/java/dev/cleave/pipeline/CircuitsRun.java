package dev.cleave.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.cleave.circuits.AblationResult;
import dev.cleave.circuits.EcsResult;

/**
 * Cluster ablation and effective circuit sizes of a model as the pipeline returns them and
 * {@code circuits.json} holds them. JSON: {@code model, model_layers, assumption, clusters_from,
 * ablation}, then, when the
 * ECS search ran, {@code ecs_result} (its circuits without their kept-weight masks), {@code ecs}
 * (per label), {@code mean_ecs} and {@code mean_circuit_overlap}; {@code command} (derived from
 * the provenance) and {@code provenance}. Equal runs are the ones that write the same JSON.
 *
 * @param model              the model file
 * @param modelLayers        which tensors made the model ("layers: fc1.weight 256x784, ...")
 * @param assumption         what was assumed about a file Cleave did not write; null when nothing was
 * @param clustersFrom       where the ablated clusters came from (a file, the model's metadata,
 *                           or co-clustering now)
 * @param ablation           the cluster ablation
 * @param ecsResult          the effective circuit sizes, masks left out; null without ECS
 * @param ecs                each label's effective circuit size; null without ECS
 * @param meanEcs            their mean; null without ECS
 * @param meanCircuitOverlap mean Jaccard overlap between different labels' circuits (NaN when
 *                           no pair has one); null without ECS
 * @param provenance         how it was produced; null in a file written before Cleave recorded it
 * @param arch               a network's layer list and input shape; null for an MLP (left out of its JSON)
 * @param channelEcsResult   the effective circuits over conv channels (masks left out); null
 *                           unless asked for
 * @param channelEcs         each label's channel circuit size; null unless asked for
 * @param meanChannelEcs     their mean; null unless asked for
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"model", "arch", "model_layers", "assumption", "clusters_from", "ablation", "ecs_result", "ecs", "mean_ecs",
        "mean_circuit_overlap", "channel_ecs_result", "channel_ecs", "mean_channel_ecs", "command", "provenance"})
@JsonIgnoreProperties(value = "command", allowGetters = true)
public record CircuitsRun(
        @JsonProperty("model") String model,
        @JsonProperty("model_layers") String modelLayers,
        @JsonProperty("assumption") String assumption,
        @JsonProperty("clusters_from") String clustersFrom,
        @JsonProperty("ablation") AblationResult ablation,
        @JsonProperty("ecs_result") EcsResult ecsResult,
        @JsonProperty("ecs") double[] ecs,
        @JsonProperty("mean_ecs") Double meanEcs,
        @JsonProperty("mean_circuit_overlap") Double meanCircuitOverlap,
        @JsonProperty("provenance") Provenance provenance,
        @JsonProperty("arch") String arch,
        @JsonProperty("channel_ecs_result") EcsResult channelEcsResult,
        @JsonProperty("channel_ecs") double[] channelEcs,
        @JsonProperty("mean_channel_ecs") Double meanChannelEcs) {

    public CircuitsRun {
        ecs = ecs == null ? null : ecs.clone();
        channelEcs = channelEcs == null ? null : channelEcs.clone();
    }

    /** An MLP's circuits. */
    public CircuitsRun(String model, String modelLayers, String assumption, String clustersFrom, AblationResult ablation,
            EcsResult ecsResult, double[] ecs, Double meanEcs, Double meanCircuitOverlap, Provenance provenance) {
        this(model, modelLayers, assumption, clustersFrom, ablation, ecsResult, ecs, meanEcs, meanCircuitOverlap, provenance, null,
                null, null, null);
    }

    @Override
    public double[] channelEcs() {
        return channelEcs == null ? null : channelEcs.clone();
    }

    @Override
    public double[] ecs() {
        return ecs == null ? null : ecs.clone();
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
