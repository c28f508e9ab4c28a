package dev.cleave.train;

import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterResult;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.CoClustering;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;

/** Cluster assignment of one weight matrix by bipartite spectral co-clustering (Dhillon 2001; see {@link dev.cleave.cluster.CoClustering}). */
public final class Assignments {
    private Assignments() {}

    /**
     * Co-clusters {@code w} (out x in) into k row/column clusters: Dhillon's joint embedding
     * (default) or, with {@code compat}, the G24 code's two separate k-means.
     */
    public static LayerClusters cocluster(int layer, FloatMatrix w, int k, boolean compat, long seed,
            Device engine) {
        CoClusterOptions options = CoClusterOptions.defaults().withK(k).withSeed(seed)
                .withVariant(compat ? CoClusterVariant.SEPARATE : CoClusterVariant.JOINT).withBackend(engine);
        CoClusterResult r = CoClustering.cocluster(w, options);
        return new LayerClusters(layer, k, r.rowLabels(), r.columnLabels());
    }
}
