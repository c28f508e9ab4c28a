package dev.cleave.circuits;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.io.Json;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.ProgressListener;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ClusterAblationTest {
    private static final int[] BLOCKS = {0, 0, 1, 1};

    /**
     * 4-4-4-4 network that copies its input to the logits (W0 = W1 = I, W2 = 5 I). Layer 1 has two
     * clusters, units {0, 1} and {2, 3}. An image of label y is e_y + 0.5 e_partner(y), the partner
     * in the other cluster, so label y is right exactly when y's own cluster is intact: cluster 0
     * carries labels 0 and 1, cluster 1 labels 2 and 3.
     */
    static Mlp blockNetwork() {
        FloatMatrix identity = diagonal(1f);
        return Mlp.fromMatrices(List.of(identity, identity, diagonal(5f)), List.of(new float[4], new float[4], new float[4]));
    }

    static Dataset blockImages() {
        int[] partner = {2, 3, 0, 1};
        int perLabel = 3;
        float[] images = new float[4 * perLabel * 4];
        int[] labels = new int[4 * perLabel];
        for (int n = 0; n < labels.length; n++) {
            int y = n % 4;
            labels[n] = y;
            images[n * 4 + y] = 1f;
            images[n * 4 + partner[y]] = 0.5f;
        }
        return new Dataset("blocks", 1, 4, 4, images, labels);
    }

    private static FloatMatrix diagonal(float v) {
        float[] d = new float[16];
        for (int i = 0; i < 4; i++) {
            d[i * 5] = v;
        }
        return new FloatMatrix(4, 4, d);
    }

    private static LayerClusters blocks(int layer) {
        return new LayerClusters(layer, 2, BLOCKS, BLOCKS);
    }

    @Test
    void ablatingABlockNetworkChangesExactlyTheLabelsItsClustersCarry() {
        try (Mlp model = blockNetwork(); CpuBackend backend = new CpuBackend(1)) {
            List<FloatMatrix> before = model.weightMatrices();
            AblationResult r = ClusterAblation.run(model, List.of(blocks(1)), blockImages(), backend,
                    ClusterAblation.Options.defaults(), ProgressListener.NONE);
            assertArrayEquals(new double[] {1, 1, 1, 1}, r.intactAccuracy());
            assertArrayEquals(new double[] {0, 0, 1, 1}, r.offAccuracy()[0]);
            assertArrayEquals(new double[] {1, 1, 0, 0}, r.offAccuracy()[1]);
            assertArrayEquals(new double[] {1, 1, 0, 0}, r.onAccuracy()[0]);
            assertArrayEquals(new double[] {0, 0, 1, 1}, r.onAccuracy()[1]);
            assertArrayEquals(new double[] {1, 1, 0, 0}, r.offDrop()[0]);
            assertArrayEquals(new double[] {0, 0, 1, 1}, r.onDrop()[0]);
            assertArrayEquals(new int[] {0, 0, 1, 1}, r.mostNeededCluster());
            assertEquals(1.0, r.specialisation(), 1e-12);
            assertArrayEquals(new int[][] {{0}, {0}, {1}, {1}}, r.importantClusters());
            assertEquals(1.0, r.importantOverlap()[0][1]);
            assertEquals(0.0, r.importantOverlap()[0][2]);
            assertArrayEquals(new int[] {3, 3, 3, 3}, r.labelCounts());
            assertEquals(before, model.weightMatrices(), "the caller's model must not change");
        }
    }

    @Test
    void offZeroesRowsAndColumnsInEveryClusteredLayer() {
        // Clustering layers 0 and 1 (not just 1) must give the same answer: zeroing cluster c's
        // rows of W0 and its columns of W1 removes the same paths.
        try (Mlp model = blockNetwork(); CpuBackend backend = new CpuBackend(1)) {
            AblationResult r = ClusterAblation.run(model, List.of(blocks(1), blocks(0)), blockImages(), backend,
                    ClusterAblation.Options.defaults(), ProgressListener.NONE);
            assertArrayEquals(new int[] {0, 1}, r.layers());
            assertArrayEquals(new double[] {1, 1, 0, 0}, r.offDrop()[0]);
            assertArrayEquals(new double[] {0, 0, 1, 1}, r.offDrop()[1]);
        }
    }

    @Test
    void specialisationIsZeroWithoutSpecialisationAndOneWithPerfectSpecialisation() {
        // Perfect: each label group needs its own cluster, groups of unequal size (3 + 1 labels).
        assertEquals(1.0, ClusterAblation.specialisation(new double[][] {{0.8, 0.5, 0.9, 0}, {0, 0, 0, 0.7}}), 1e-12);
        // None: every label needs every cluster equally.
        assertEquals(0.0, ClusterAblation.specialisation(new double[][] {{0.3, 0.3, 0.3}, {0.3, 0.3, 0.3}}), 1e-12);
        // None: the same profile over clusters for every label (independent rows and columns).
        assertEquals(0.0, ClusterAblation.specialisation(new double[][] {{0.2, 0.4, 0.1}, {0.4, 0.8, 0.2}}), 1e-12);
        // None: one cluster carries every label.
        assertEquals(0.0, ClusterAblation.specialisation(new double[][] {{0.5, 0.6}, {0, 0}}), 1e-12);
        // Nothing drops: 0; negative drops and NaN (a label without images) are ignored.
        assertEquals(0.0, ClusterAblation.specialisation(new double[][] {{0, -0.1}, {0, 0}}), 1e-12);
        assertEquals(1.0, ClusterAblation.specialisation(new double[][] {{0.5, 0, Double.NaN}, {-0.2, 0.4, Double.NaN}}), 1e-12);
        // In between: partly specialised.
        double partial = ClusterAblation.specialisation(new double[][] {{0.6, 0.2}, {0.2, 0.6}});
        assertTrue(partial > 0.05 && partial < 0.95, "partial specialisation gave " + partial);
    }

    @Test
    void badClustersFailWithClearMessages() {
        try (Mlp model = blockNetwork(); CpuBackend backend = new CpuBackend(1)) {
            Dataset data = blockImages();
            ClusterAblation.Options o = ClusterAblation.Options.defaults();
            assertInvalid(() -> ClusterAblation.run(model, List.of(), data, backend, o, ProgressListener.NONE),
                    "at least one clustered layer");
            assertInvalid(() -> ClusterAblation.run(model, List.of(new LayerClusters(1, 2, new int[] {0, 0, 1}, BLOCKS)),
                    data, backend, o, ProgressListener.NONE), "layer 1", "3 rows x 4 columns", "4 x 4");
            assertInvalid(() -> ClusterAblation.run(model, List.of(blocks(1), new LayerClusters(2, 3, BLOCKS, BLOCKS)), data,
                    backend, o, ProgressListener.NONE), "same k", "k = 2", "layer 2 has k = 3");
            assertInvalid(() -> ClusterAblation.run(model, List.of(blocks(3)), data, backend, o, ProgressListener.NONE),
                    "layer 3", "0..2");
            assertInvalid(() -> ClusterAblation.run(model, List.of(blocks(1), blocks(1)), data, backend, o,
                    ProgressListener.NONE), "twice", "layer 1");
            assertInvalid(() -> new ClusterAblation.Options(1.5), "importance threshold", "[0, 1)");
        }
    }

    @Test
    void resultRoundTripsThroughJson() {
        try (Mlp model = blockNetwork(); CpuBackend backend = new CpuBackend(1)) {
            Dataset all = blockImages();
            Dataset noLabel3 = all.subset(IntStream.range(0, all.count()).filter(n -> all.labels()[n] != 3).toArray());
            AblationResult r = ClusterAblation.run(model, List.of(blocks(1)), noLabel3, backend,
                    ClusterAblation.Options.defaults(), ProgressListener.NONE);
            assertTrue(Double.isNaN(r.intactAccuracy()[3]) && Double.isNaN(r.offDrop()[1][3]), "label 3 has no images");
            assertTrue(Double.isNaN(r.importantOverlap()[3][3]), "no important clusters: overlap undefined");
            assertEquals(1.0, r.specialisation(), 1e-12);
            String json = Json.write(r);
            AblationResult back = Json.read(json, AblationResult.class);
            assertEquals(json, Json.write(back));
            assertTrue(json.contains("\"off_drop\"") && json.contains("\"specialisation\""), json);
            assertArrayEquals(r.offDrop()[1], back.offDrop()[1]);
        }
    }
}
