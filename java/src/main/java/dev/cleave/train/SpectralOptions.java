package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.util.InvalidInputException;

/**
 * F21's spectral regulariser: loss = CE + (lambda / k) * (sum of eigenvalues 2..k+1 of the
 * network graph's normalized Laplacian), every minibatch, with each hidden unit rescaled before
 * the batch so its incoming weights and bias have norm sqrt(2) (compensated on the outgoing
 * weights), which stops the regulariser from cheating by rescaling ({@code rescale}, on by
 * default as in F21).
 */
public record SpectralOptions(@JsonProperty("lambda") float lambda, @JsonProperty("k") int k,
        @JsonProperty("rescale") boolean rescale) {
    public SpectralOptions {
        if (!(lambda >= 0f) || !Float.isFinite(lambda)) {
            throw new InvalidInputException("--spectral-lambda must be >= 0, got " + lambda);
        }
        if (k < 1) {
            throw new InvalidInputException("--spectral-k must be >= 1, got " + k);
        }
    }
}
