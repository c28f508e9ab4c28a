package dev.cleave.train;

import dev.cleave.modular.LayerClusters;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;

/** Cluster assignment by co-clustering a weight matrix (filled in when the clustering engine lands). */
final class Assignments {
    private Assignments() {}

    static LayerClusters cocluster(int layer, FloatMatrix w, int k, boolean compat, long seed) {
        throw new InvalidInputException("--assign cocluster needs the co-clustering engine, which this build lacks: use --assign balanced");
    }
}
