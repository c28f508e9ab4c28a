package dev.cleave.circuits;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Effective circuit sizes of a model, one circuit per label, and how much the circuits overlap.
 *
 * @param options        how the search ran
 * @param dataset        the data set whose images were used
 * @param layers         the searched layers, ascending (searched last to first)
 * @param weights        number of weights in those layers (the denominator of every ECS)
 * @param scaleBits      S of the circuit arithmetic's grid 2^-S (see cleave_circuits.h)
 * @param approximation  null when the search is exact (every image of each label, every layer);
 *                       otherwise what was left out, e.g. "first 200 images per label"
 * @param circuits       one per label, in the order of the options' labels
 * @param circuitOverlap Jaccard overlap of the kept-weight masks, label x label (same order)
 * @param seconds        wall-clock time of the search
 * @param unit           what was pruned and counted: null for an MLP's weight search (left out of
 *                       its JSON), {@value NetworkCircuits#WEIGHTS} for a network's dense layers,
 *                       {@value NetworkCircuits#CHANNELS} for conv channels (then {@code weights}
 *                       and each circuit's {@code kept} count channels, and a mask bit is a channel)
 */
public record EcsResult(
        @JsonProperty("options") EffectiveCircuitSize.Options options,
        @JsonProperty("dataset") String dataset,
        @JsonProperty("layers") int[] layers,
        @JsonProperty("weights") long weights,
        @JsonProperty("scale_bits") int scaleBits,
        @JsonProperty("approximation") String approximation,
        @JsonProperty("circuits") List<LabelCircuit> circuits,
        @JsonProperty("circuit_overlap") double[][] circuitOverlap,
        @JsonProperty("seconds") double seconds,
        @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("unit") String unit) {

    public EcsResult {
        layers = layers.clone();
        circuits = List.copyOf(circuits);
        circuitOverlap = Matrices.copy(circuitOverlap);
    }

    /** An MLP's weight search (no unit). */
    public EcsResult(EffectiveCircuitSize.Options options, String dataset, int[] layers, long weights, int scaleBits,
            String approximation, List<LabelCircuit> circuits, double[][] circuitOverlap, double seconds) {
        this(options, dataset, layers, weights, scaleBits, approximation, circuits, circuitOverlap, seconds, null);
    }

    /** This result with its circuits stored without their masks. */
    public EcsResult withoutMasks() {
        return new EcsResult(options, dataset, layers, weights, scaleBits, approximation,
                circuits.stream().map(LabelCircuit::withoutMask).toList(), circuitOverlap, seconds, unit);
    }

    @Override
    public int[] layers() {
        return layers.clone();
    }

    @Override
    public double[][] circuitOverlap() {
        return Matrices.copy(circuitOverlap);
    }
}
