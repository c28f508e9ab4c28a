package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.util.InvalidInputException;

/**
 * Options of the {@link ShuffleTest}. Immutable, validated, round-trips to JSON.
 *
 * @param method   null model (default {@link ShuffleMethod#LAYER})
 * @param shuffles shuffled networks, >= 1 (default 50; the p-value is at least 1/(n+1))
 * @param cluster  how the trained network and every shuffle are clustered (same k); its seed
 *                 drives the whole test (shuffle i draws from stream "shuffle/i"), its threads
 *                 is how many shuffles run at once
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ShuffleOptions(ShuffleMethod method, int shuffles, ClusterOptions cluster) {
    public static final int DEFAULT_SHUFFLES = 50;

    public ShuffleOptions {
        if (method == null) {
            throw new InvalidInputException("shuffle method must be layer or layer_nonzero, got null");
        }
        if (shuffles < 1 || shuffles > 100_000) {
            throw new InvalidInputException("shuffles must be in [1, 100000], got " + shuffles);
        }
        if (cluster == null) {
            throw new InvalidInputException("cluster options must not be null");
        }
    }

    /** layer, 50 shuffles, default clustering (k = 12, seed 0). */
    public static ShuffleOptions defaults() {
        return new ShuffleOptions(ShuffleMethod.LAYER, DEFAULT_SHUFFLES, ClusterOptions.defaults());
    }

    public ShuffleOptions withMethod(ShuffleMethod method) {
        return new ShuffleOptions(method, shuffles, cluster);
    }

    public ShuffleOptions withShuffles(int shuffles) {
        return new ShuffleOptions(method, shuffles, cluster);
    }

    public ShuffleOptions withCluster(ClusterOptions cluster) {
        return new ShuffleOptions(method, shuffles, cluster);
    }
}
