package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.SpectralClustering;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An rbf affinity as scipy.io.mmwrite writes it (diagonal included) clusters with the default reading. */
class ScipyAffinityTest {
    @Test
    void rbfAffinityOfTwoBlobsWrittenLikeMmwriteRecoversTheBlobs(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("rbf.mtx");
        int n = 160;
        int[] blob = ScipyStyleFiles.rbfTwoBlobs(f, n, 0.5, 11);
        CsrGraph g = MatrixMarket.read(f);
        assertEquals(n, g.nodes());
        assertEquals((long) n * (n - 1) / 2, g.edges(), "every pair an edge, the diagonal dropped");
        ClusterResult r = SpectralClustering.cluster(g, ClusterOptions.defaults().withK(2).withSeed(3));
        assertArrayEquals(blob, r.labels(), "the clusters are the blobs");
        assertEquals(0, r.isolatedNodesDropped());
        assertEquals(1, r.components());
        assertTrue(r.eigenvalues()[0] < 1e-6 && r.eigenvalues()[1] < 0.05, java.util.Arrays.toString(r.eigenvalues()));
    }
}
