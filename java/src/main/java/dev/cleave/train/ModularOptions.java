package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.modular.LayerSelection;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import org.eclipse.collections.api.list.primitive.ImmutableIntList;

/**
 * Modular training with the enmeshment loss (G24): after {@code warmupEpochs} of
 * plain training, each chosen layer's weight gets k row and column clusters (fixed from then
 * on), and the loss becomes CE - lambda * mean over those layers of C(W).
 *
 * @param lambda       weight of the clusterability term (G24: 20)
 * @param k            clusters per layer (G24: 4)
 * @param layers       "hidden" (hidden-to-hidden weights, the default), "all", or a comma list of layer indices
 * @param warmupEpochs plain epochs before clusters are assigned (G24: 5)
 * @param assign       "balanced", "cocluster" (Dhillon, one k-means over rows and columns) or "cocluster-compat"
 */
public record ModularOptions(
        @JsonProperty("lambda") float lambda,
        @JsonProperty("k") int k,
        @JsonProperty("layers") String layers,
        @JsonProperty("warmup_epochs") int warmupEpochs,
        @JsonProperty("assign") String assign) {

    public static final float DEFAULT_LAMBDA = 20f;
    public static final int DEFAULT_K = 4;
    public static final int DEFAULT_WARMUP = 5;
    public static final List<String> ASSIGN_METHODS = List.of("balanced", "cocluster", "cocluster-compat");

    public ModularOptions {
        if (!(lambda >= 0f) || !Float.isFinite(lambda)) {
            throw new InvalidInputException("--modular-lambda must be >= 0, got " + lambda);
        }
        if (k < 1) {
            throw new InvalidInputException("--modular-k must be >= 1, got " + k);
        }
        if (warmupEpochs < 0) {
            throw new InvalidInputException("--warmup-epochs must be >= 0, got " + warmupEpochs);
        }
        if (!ASSIGN_METHODS.contains(assign)) {
            throw new InvalidInputException("--assign must be one of " + String.join(", ", ASSIGN_METHODS) + ", got " + assign);
        }
        layers = layers == null ? "hidden" : layers.trim();
    }

    /** The layer indices this selects in a network of {@code layerCount} weight matrices. */
    public ImmutableIntList layerIndices(int layerCount) {
        return LayerSelection.indices(layers, layerCount, "--modular-layers");
    }
}
