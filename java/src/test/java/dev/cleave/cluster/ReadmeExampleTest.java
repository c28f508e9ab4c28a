package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cleave.graph.CsrGraph;
import org.junit.jupiter.api.Test;

/** The README's "Using the clustering engine from Java" example, kept honest. */
class ReadmeExampleTest {
    @Test
    void readmeExampleClustersTwoTriangles() {
        CsrGraph g = CsrGraph.fromEdges(6,
                new int[] {0, 0, 1, 3, 3, 4, 2},
                new int[] {1, 2, 2, 4, 5, 5, 3},
                new float[] {1, 1, 1, 1, 1, 1, 0.01f});
        ClusterResult r = SpectralClustering.cluster(g, ClusterOptions.defaults().withK(2).withSeed(42));
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, r.labels());
        // cut 0.01 each way; volumes 6.01 and 6.01
        assertEquals(2 * 0.01 / 6.01, r.ncut(), 1e-6);
        assertEquals(0.0, r.eigenvalues()[0], 1e-8);
        assertEquals(2, r.eigenvalues().length);
    }
}
