package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The F21 network graph: nodes, |w| edges, removed zero-degree neurons, CSR equivalence. */
class NetworkGraphTest {
    // 3 inputs -> 2 hidden -> 2 outputs. Input 1 has only zero weights; hidden 1 has no incoming
    // and no outgoing weight (fully pruned).
    static List<FloatMatrix> net() {
        FloatMatrix w0 = new FloatMatrix(2, 3, new float[] {1f, 0f, -2f, 0f, 0f, 0f});
        FloatMatrix w1 = new FloatMatrix(2, 2, new float[] {0.5f, 0f, -1.5f, 0f});
        return List.of(w0, w1);
    }

    @Test
    void nodesEdgesDegreesAndRemovedNeurons() {
        List<FloatMatrix> ws = net();
        float[] before = ws.get(0).data().clone();
        NetworkGraph g = NetworkGraph.fromWeights(ws);
        assertArrayEquals(before, ws.get(0).data(), "weights not modified");
        assertEquals(3, g.layers());
        assertArrayEquals(new int[] {3, 2, 2}, g.layerSizes());
        assertEquals(7, g.totalNodes());
        assertEquals(4, g.edges());
        assertEquals(List.of(new RemovedNode(1, 0, 1), new RemovedNode(4, 1, 1)), g.removedNodes());
        assertEquals(5, g.nodes());
        assertArrayEquals(new int[] {0, 2, 3, 5, 6}, g.keptNodes());
        // kept: in0 (1), in2 (2), h0 (1 + 2 + 0.5 + 1.5), out0 (0.5), out1 (1.5)
        assertArrayEquals(new double[] {1, 2, 5, 0.5, 1.5}, g.degrees());
        assertArrayEquals(new int[] {2, 1, 2}, g.keptLayerSizes());
        assertEquals(new FloatMatrix(1, 2, new float[] {1f, 2f}), g.absBlock(0));
        assertEquals(1, g.components().count());
    }

    @Test
    void neuronsOfNegligibleDegreeAreRemovedLikeZeroDegreeOnes() {
        // net() with hidden 1 given subnormal weights (a dead unit under a weight penalty) and input 1 a weight to it
        float tiny = 1e-39f;
        FloatMatrix w0 = new FloatMatrix(2, 3, new float[] {1f, 0f, -2f, tiny, -tiny, tiny});
        FloatMatrix w1 = new FloatMatrix(2, 2, new float[] {0.5f, tiny, -1.5f, -tiny});
        NetworkGraph g = NetworkGraph.fromWeights(List.of(w0, w1));
        NetworkGraph exact = NetworkGraph.fromWeights(net());
        assertEquals(exact.removedNodes(), g.removedNodes());
        assertArrayEquals(exact.keptNodes(), g.keptNodes());
        assertArrayEquals(exact.degrees(), g.degrees(), "degrees count only edges between kept nodes");
        assertEquals(exact.edges(), g.edges());
        assertEquals(exact.absBlock(0), g.absBlock(0));
        assertEquals(exact.absBlock(1), g.absBlock(1));
        // just above the threshold a node stays
        float small = (float) (10 * NetworkGraph.NEGLIGIBLE_DEGREE * 5);
        NetworkGraph kept = NetworkGraph.fromWeights(List.of(new FloatMatrix(2, 3, new float[] {1f, small, -2f, 0f, 0f, 0f}),
                net().get(1)));
        assertEquals(List.of(new RemovedNode(4, 1, 1)), kept.removedNodes());
        // a node kept only by faint edges loses them with its faint neighbours, and goes too
        float faint = 3e-12f; // below 1e-12 of the largest degree (3.5), twice it is above
        NetworkGraph island = NetworkGraph.fromWeights(List.of(new FloatMatrix(2, 3, new float[] {1f, 0f, -2f, 0f, faint, 0f}),
                new FloatMatrix(2, 2, new float[] {0.5f, 0f, 0f, faint})));
        assertEquals(List.of(new RemovedNode(1, 0, 1), new RemovedNode(4, 1, 1), new RemovedNode(6, 2, 1)), island.removedNodes());
        assertArrayEquals(new double[] {1, 2, 3.5, 0.5}, island.degrees());
        assertEquals(3, island.edges());
    }

    @Test
    void csrFormIsTheSameGraph() {
        NetworkGraph g = NetworkGraph.fromWeights(net());
        CsrGraph c = g.toCsr();
        assertEquals(5, c.nodes());
        assertEquals(4, c.edges());
        assertArrayEquals(g.degrees(), c.degrees());
        assertArrayEquals(new int[] {2, 2, 0, 1, 3, 4, 2, 2}, c.columns());
        // cut weights agree between the layered and the CSR form
        int[] labels = {0, 1, 1, 0, 1};
        assertArrayEquals(c.cutWeights(labels, 2), g.cutWeights(labels, 2));
    }

    @Test
    void badNetworksAreRejectedClearly() {
        String chain = assertThrows(InvalidInputException.class, () -> NetworkGraph.fromWeights(List.of(
                FloatMatrix.zeros(4, 3), new FloatMatrix(2, 5, new float[10])))).getMessage();
        assertTrue(chain.contains("must chain"), chain);
        FloatMatrix nan = new FloatMatrix(2, 2, new float[] {1f, 2f, Float.NaN, 1f});
        String n = assertThrows(InvalidInputException.class, () -> NetworkGraph.fromWeights(List.of(nan))).getMessage();
        assertTrue(n.contains("weight 0 entry [1][0] is NaN"), n);
        String zero = assertThrows(InvalidInputException.class,
                () -> NetworkGraph.fromWeights(List.of(FloatMatrix.zeros(3, 3)))).getMessage();
        assertTrue(zero.contains("every weight of the network is zero"), zero);
        assertThrows(InvalidInputException.class, () -> NetworkGraph.fromWeights(List.of()));
    }

    @Test
    void disconnectedLayersGiveSeveralComponents() {
        // w1 all zero: inputs+hidden form one part, outputs have no edges at all (removed).
        FloatMatrix w0 = new FloatMatrix(2, 2, new float[] {1f, 0f, 0f, 1f});
        NetworkGraph g = NetworkGraph.fromWeights(List.of(w0, FloatMatrix.zeros(3, 2)));
        assertEquals(3, g.removedNodes().size());
        Components c = g.components();
        assertEquals(2, c.count()); // {in0, h0} and {in1, h1}
        assertArrayEquals(new int[] {0, 1, 0, 1}, c.labels());
    }
}
