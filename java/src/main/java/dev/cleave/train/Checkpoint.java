package dev.cleave.train;

import java.util.List;

/**
 * Everything needed to continue training exactly where it stopped: finished epochs, Adam's step
 * count, and copies of the parameters and Adam's moments, all in parameter order w0, b0, w1,
 * b1, ... (weights row-major, out x in).
 */
public record Checkpoint(int epochsDone, long adamSteps, List<float[]> parameters, List<float[]> firstMoments,
        List<float[]> secondMoments) {
    public Checkpoint {
        parameters = List.copyOf(parameters);
        firstMoments = List.copyOf(firstMoments);
        secondMoments = List.copyOf(secondMoments);
        if (parameters.size() != firstMoments.size() || parameters.size() != secondMoments.size()) {
            throw new IllegalArgumentException("checkpoint: " + parameters.size() + " parameters but "
                    + firstMoments.size() + " and " + secondMoments.size() + " moments");
        }
    }
}
