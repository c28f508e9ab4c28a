package dev.cleave.train;

import dev.cleave.modular.LayerClusters;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to continue training exactly where it stopped: finished epochs, Adam's step
 * count, the global step (which drives dropout), copies of the trainable parameters and Adam's
 * moments under their state_dict names ({@code layers.N.weight}, {@code layers.N.bias}; weights
 * row-major), batchnorm's running statistics ({@code buffers}: {@code layers.N.running_mean},
 * {@code layers.N.running_var}), the pruning masks by weight name (empty outside the pruning
 * phase) and the modular clusters (empty before assignment).
 */
public record Checkpoint(int epochsDone, long adamSteps, long globalStep, List<String> names, List<float[]> parameters,
        List<float[]> firstMoments, List<float[]> secondMoments, Map<String, float[]> buffers,
        Map<String, float[]> pruneMasks, List<LayerClusters> clusters) {
    public Checkpoint {
        names = List.copyOf(names);
        parameters = List.copyOf(parameters);
        firstMoments = List.copyOf(firstMoments);
        secondMoments = List.copyOf(secondMoments);
        buffers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(buffers));
        pruneMasks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(pruneMasks));
        clusters = List.copyOf(clusters);
        if (parameters.size() != names.size() || parameters.size() != firstMoments.size()
                || parameters.size() != secondMoments.size()) {
            throw new IllegalArgumentException("checkpoint: " + names.size() + " names and " + parameters.size()
                    + " parameters but " + firstMoments.size() + " and " + secondMoments.size() + " moments");
        }
        for (String m : pruneMasks.keySet()) {
            if (!names.contains(m)) {
                throw new IllegalArgumentException("checkpoint: a pruning mask for " + m + ", which is not a parameter");
            }
        }
    }
}
