package dev.cleave.modular;

import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterResult;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.CoClustering;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.SliceNorm;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;

/**
 * Cluster assignments of a conv layer for the enmeshment loss on its kernel slices: clusters of
 * output channels (rows) paired with clusters of input channels (columns), found on the
 * layer's out x in channel-norm matrix ({@link CnnUnitGraph#channelNorms}) by co-clustering, or
 * by the balanced partition; {@link #op} turns them into the {@link Enmeshment} op on the
 * (out, in, kh, kw) kernel.
 */
public final class ChannelClusters {
    private ChannelClusters() {}

    /**
     * Co-clusters the channels of a conv layer (Dhillon's joint embedding, or with {@code compat}
     * the G24 code's two separate k-means) on its channel-norm matrix under {@code norm}.
     *
     * @param layer the index stored in the result (the layer's position in the model)
     */
    public static LayerClusters cocluster(int layer, CnnLayer conv, SliceNorm norm, int k, boolean compat, long seed,
            Device engine) {
        if (conv == null || conv.kind() != CnnLayer.Kind.CONV) {
            throw new InvalidInputException("channel clusters need a conv layer, got " + conv);
        }
        CoClusterOptions options = CoClusterOptions.defaults().withK(k).withSeed(seed)
                .withVariant(compat ? CoClusterVariant.SEPARATE : CoClusterVariant.JOINT).withBackend(engine);
        CoClusterResult r = CoClustering.cocluster(CnnUnitGraph.channelNorms(conv, norm), options);
        return new LayerClusters(layer, k, r.rowLabels(), r.columnLabels());
    }

    /** Balanced contiguous clusters of a conv layer's out and in channels (every channel covered). */
    public static LayerClusters balanced(int layer, int outChannels, int inChannels, int k) {
        return new LayerClusters(layer, k, BalancedPartition.labels(outChannels, k), BalancedPartition.labels(inChannels, k));
    }

    /** The enmeshment op of these channel clusters on a kernel with slices of kh * kw = {@code slice}. */
    public static Enmeshment op(LayerClusters clusters, int slice) {
        return new Enmeshment(clusters.rows(), clusters.cols(), slice, clusters.k(), clusters.rowLabels(),
                clusters.colLabels());
    }
}
