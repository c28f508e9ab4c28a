package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * The null model of the shuffle test (Filan et al. 2021): how each weight matrix is shuffled.
 * {@link #LAYER} (default): permute all entries of each matrix, zeros included.
 * {@link #LAYER_NONZERO}: permute the non-zero values among the non-zero positions, keeping the
 * sparsity pattern (the fair null for pruned networks).
 */
public enum ShuffleMethod {
    @JsonProperty("layer") LAYER,
    @JsonProperty("layer_nonzero") LAYER_NONZERO;

    /** Parses "layer" or "layer_nonzero" (also "layer-nonzero"; any case). */
    public static ShuffleMethod parse(String s) {
        return Enums.parse(ShuffleMethod.class, s, "shuffle method");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
