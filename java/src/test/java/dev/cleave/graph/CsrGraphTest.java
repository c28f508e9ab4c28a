package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import org.junit.jupiter.api.Test;

/** CSR graph validation, accessors and structure queries. */
class CsrGraphTest {
    // Triangle 0-1-2 plus edge 2-3, node 4 isolated.
    static CsrGraph small() {
        return CsrGraph.fromEdges(5, new int[] {0, 1, 2, 3}, new int[] {1, 2, 0, 2}, new float[] {1f, 2f, 3f, 4f});
    }

    @Test
    void edgeListBuildsSortedSymmetricRowsWithDegrees() {
        CsrGraph g = small();
        assertEquals(5, g.nodes());
        assertEquals(4, g.edges());
        assertArrayEquals(new long[] {0, 2, 4, 7, 8, 8}, g.offsets());
        assertArrayEquals(new int[] {1, 2, 0, 2, 0, 1, 3, 2}, g.columns());
        assertArrayEquals(new float[] {1, 3, 1, 2, 3, 2, 4, 4}, g.weights());
        assertArrayEquals(new double[] {4, 3, 9, 4, 0}, g.degrees());
        assertEquals(20.0, g.volume());
        assertArrayEquals(new int[] {4}, g.isolatedNodes());
    }

    @Test
    void csrArraysAreValidatedAndNeverMutated() {
        long[] off = {0, 2, 3, 4};
        int[] col = {2, 1, 0, 0}; // row 0 unsorted on purpose
        float[] w = {5f, 1f, 1f, 5f};
        CsrGraph g = CsrGraph.of(3, off, col, w);
        assertArrayEquals(new int[] {2, 1, 0, 0}, col, "input not modified");
        assertArrayEquals(new int[] {1, 2, 0, 0}, g.columns());
        InvalidInputException asym = assertThrows(InvalidInputException.class,
                () -> CsrGraph.of(3, off, col, new float[] {5f, 1f, 2f, 5f}));
        assertTrue(asym.getMessage().contains("not symmetric"), asym.getMessage());
        InvalidInputException missing = assertThrows(InvalidInputException.class,
                () -> CsrGraph.of(2, new long[] {0, 1, 1}, new int[] {1}, new float[] {1f}));
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
        InvalidInputException range = assertThrows(InvalidInputException.class,
                () -> CsrGraph.of(2, new long[] {0, 1, 2}, new int[] {1, 7}, new float[] {1f, 1f}));
        assertTrue(range.getMessage().contains("outside [0, 2)"), range.getMessage());
        InvalidInputException neg = assertThrows(InvalidInputException.class,
                () -> CsrGraph.of(2, new long[] {0, 1, 2}, new int[] {1, 0}, new float[] {-1f, -1f}));
        assertTrue(neg.getMessage().contains(">= 0"), neg.getMessage());
        InvalidInputException nan = assertThrows(InvalidInputException.class,
                () -> CsrGraph.of(2, new long[] {0, 1, 2}, new int[] {1, 0}, new float[] {Float.NaN, 1f}));
        assertTrue(nan.getMessage().contains("NaN"), nan.getMessage());
        InvalidInputException dup = assertThrows(InvalidInputException.class,
                () -> CsrGraph.of(2, new long[] {0, 2, 4}, new int[] {1, 1, 0, 0}, new float[] {1f, 1f, 1f, 1f}));
        assertTrue(dup.getMessage().contains("appears twice"), dup.getMessage());
        assertThrows(InvalidInputException.class, () -> CsrGraph.of(2, new long[] {0, 1}, new int[] {1}, new float[] {1f}));
        assertThrows(InvalidInputException.class, () -> CsrGraph.of(2, new long[] {0, 2, 1}, new int[] {1}, new float[] {1f}));
    }

    @Test
    void selfLoopsAreRejectedOrDroppedByPolicyAndZerosAreNotEdges() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CsrGraph.fromEdges(2, new int[] {0, 1}, new int[] {1, 1}, new float[] {1f, 2f}));
        assertTrue(e.getMessage().contains("self loop at node 1") && e.getMessage().contains("DROP"), e.getMessage());
        CsrGraph g = CsrGraph.fromEdges(3, new int[] {0, 1, 1}, new int[] {1, 1, 2}, new float[] {1f, 2f, 0f}, SelfLoops.DROP);
        assertEquals(1, g.edges());
        assertArrayEquals(new int[] {2}, g.isolatedNodes());
        InvalidInputException twice = assertThrows(InvalidInputException.class,
                () -> CsrGraph.fromEdges(2, new int[] {0, 1}, new int[] {1, 0}, new float[] {1f, 1f}));
        assertTrue(twice.getMessage().contains("edge 0 and edge 1"), twice.getMessage());
    }

    @Test
    void componentsBipartitionAndSubgraphs() {
        CsrGraph g = small();
        Components c = g.components();
        assertEquals(2, c.count());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1}, c.labels());
        assertArrayEquals(new int[] {4, 1}, c.sizes());
        assertFalse(g.bipartition().isPresent(), "a triangle is an odd cycle");
        CsrGraph path = CsrGraph.fromEdges(4, new int[] {0, 1, 2}, new int[] {1, 2, 3}, new float[] {1, 1, 1});
        assertArrayEquals(new boolean[] {false, true, false, true}, path.bipartition().orElseThrow());
        CsrGraph sub = g.withoutIsolatedNodes();
        assertEquals(4, sub.nodes());
        assertEquals(4, sub.edges());
        CsrGraph tri = g.inducedSubgraph(new int[] {0, 1, 2});
        assertEquals(3, tri.edges());
        assertArrayEquals(new double[] {4, 3, 5}, tri.degrees());
        assertThrows(InvalidInputException.class, () -> g.inducedSubgraph(new int[] {2, 1}));
    }

    @Test
    void cutWeightsCountEdgesLeavingEachCluster() {
        CsrGraph g = small();
        // clusters {0, 1} and {2, 3}; node 4 unassigned. Leaving {0,1}: 0-2 (3) + 1-2 (2) = 5.
        assertArrayEquals(new double[] {5, 5}, g.cutWeights(new int[] {0, 0, 1, 1, -1}, 2));
        assertThrows(InvalidInputException.class, () -> g.cutWeights(new int[] {0, -1, 1, 1, -1}, 2));
    }
}
