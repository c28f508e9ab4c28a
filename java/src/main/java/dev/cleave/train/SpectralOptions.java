package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.util.InvalidInputException;
import java.util.Locale;

/**
 * F21's spectral regulariser: loss = CE + (lambda / k) * (sum of eigenvalues 2..k+1 of the
 * network graph's normalized Laplacian), every minibatch, kept from cheating by rescaling as
 * {@link Rescale} says.
 */
public record SpectralOptions(@JsonProperty("lambda") float lambda, @JsonProperty("k") int k,
        @JsonProperty("rescale") Rescale rescale) {

    /**
     * How the regulariser is kept from lowering its value by rescaling hidden units (which, ReLU
     * being positively homogeneous, leaves the network's function unchanged).
     */
    public enum Rescale {
        /**
         * Default. The regulariser is evaluated on the network's canonical form (F21's rescaling:
         * each hidden unit's incoming weights and bias brought to norm sqrt(2), compensated on its
         * outgoing weights; and the logit rows scaled to norm sqrt(2)), and its gradient is taken
         * through that form, so it has no component along any rescaling and cannot cheat by one.
         * The network itself is not rescaled, so training otherwise runs as without the
         * regulariser.
         */
        @JsonProperty("canonical") CANONICAL,
        /**
         * F21's code: the network itself is rescaled (compensated) before every batch, and the
         * regulariser's raw gradient used. With Adam this diverges on the F21 MLP: each step's
         * change of a unit's incoming norm moves, multiplied, into its outgoing weights, layer
         * after layer into the logit layer, whose norm grows by orders of magnitude per epoch.
         */
        @JsonProperty("compensate") COMPENSATE,
        /** No rescaling: the regulariser may then lower eigenvalues by rescaling alone. */
        @JsonProperty("none") NONE;

        /** Parses canonical, compensate or none (any case), with an error naming the valid values. */
        public static Rescale parse(String s) {
            for (Rescale r : values()) {
                if (r.toString().equals(s.toLowerCase(Locale.ROOT))) {
                    return r;
                }
            }
            throw new InvalidInputException("--spectral-rescale must be one of canonical, compensate, none; got '" + s + "'");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SpectralOptions {
        if (!(lambda >= 0f) || !Float.isFinite(lambda)) {
            throw new InvalidInputException("--spectral-lambda must be >= 0, got " + lambda);
        }
        if (k < 1) {
            throw new InvalidInputException("--spectral-k must be >= 1, got " + k);
        }
        if (rescale == null) {
            throw new InvalidInputException("--spectral-rescale must be one of canonical, compensate, none");
        }
    }
}
