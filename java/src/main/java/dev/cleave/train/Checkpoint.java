package dev.cleave.train;

import dev.cleave.modular.LayerClusters;
import java.util.List;

/**
 * Everything needed to continue training exactly where it stopped: finished epochs, Adam's step
 * count, the global step (which drives dropout), copies of the parameters and Adam's moments
 * in parameter order w0, b0, w1, b1, ... (weights row-major, out x in), the pruning masks (one
 * per weight, empty outside the pruning phase) and the modular clusters (empty before
 * assignment).
 */
public record Checkpoint(int epochsDone, long adamSteps, long globalStep, List<float[]> parameters,
        List<float[]> firstMoments, List<float[]> secondMoments, List<float[]> pruneMasks, List<LayerClusters> clusters) {
    public Checkpoint {
        parameters = List.copyOf(parameters);
        firstMoments = List.copyOf(firstMoments);
        secondMoments = List.copyOf(secondMoments);
        pruneMasks = List.copyOf(pruneMasks);
        clusters = List.copyOf(clusters);
        if (parameters.size() != firstMoments.size() || parameters.size() != secondMoments.size()) {
            throw new IllegalArgumentException("checkpoint: " + parameters.size() + " parameters but "
                    + firstMoments.size() + " and " + secondMoments.size() + " moments");
        }
        if (!pruneMasks.isEmpty() && pruneMasks.size() * 2 != parameters.size()) {
            throw new IllegalArgumentException("checkpoint: " + pruneMasks.size() + " pruning masks for "
                    + parameters.size() / 2 + " layers");
        }
    }
}
