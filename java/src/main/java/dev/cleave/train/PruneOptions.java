package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.util.InvalidInputException;

/**
 * F21's magnitude pruning as fine-tuning: after the normal epochs, {@code epochs} more with a
 * fresh Adam while each layer's weight sparsity rises on the cubic schedule
 * s(t) = to + (from - to)(1 - t/T)^3 over the T steps of the phase, the masks refreshed every
 * {@code every} steps and once more at the end (so the final sparsity is exactly {@code to}).
 */
public record PruneOptions(
        @JsonProperty("epochs") int epochs,
        @JsonProperty("from") float from,
        @JsonProperty("to") float to,
        @JsonProperty("every") int every) {

    public PruneOptions {
        if (epochs < 1) {
            throw new InvalidInputException("--prune-epochs must be >= 1, got " + epochs);
        }
        if (!(from >= 0f && from <= to && to < 1f)) {
            throw new InvalidInputException("pruning needs 0 <= from <= to < 1, got from " + from + ", to " + to);
        }
        if (every < 1) {
            throw new InvalidInputException("the pruning mask refresh interval must be >= 1 step, got " + every);
        }
    }

    /** F21's schedule: 50% to 90% over {@code epochs}, masks refreshed every 10 steps. */
    public static PruneOptions f21(int epochs) {
        return new PruneOptions(epochs, 0.5f, 0.9f, 10);
    }

    /** Sparsity after step t of T. */
    public float sparsity(long t, long total) {
        double u = 1.0 - Math.min(1.0, (double) t / total);
        return (float) (to + (from - to) * u * u * u);
    }
}
