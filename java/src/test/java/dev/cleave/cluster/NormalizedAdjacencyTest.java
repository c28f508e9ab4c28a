package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The operator itself: native kernels (AVX-512 or AVX2 tiles, CSR rows) against the Java
 * reference and against N computed by hand from the CSR form, for every block width 1..21 (all
 * kernel tails), dense and sparse (pruned) layers, and N and its bipartite half M.
 */
class NormalizedAdjacencyTest {
    /** |got - ref| <= tol (1 + |ref|) everywhere: {@link dev.cleave.Tolerance} with abs = rel = tol. */
    static void assertClose(double[] ref, double[] got, double tol, String what) {
        dev.cleave.Tolerance.assertClose(what, ref, got, tol, tol);
    }

    static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextDouble() - 0.5;
        }
        return x;
    }

    /** N x from the CSR form, one vector at a time: the definition, written out. */
    static double[] byHand(CsrGraph g, double[] x, int cols) {
        double[] d = g.degrees();
        double[] y = new double[x.length];
        for (int i = 0; i < g.nodes(); i++) {
            for (long e = g.rowStart(i); e < g.rowEnd(i); e++) {
                int j = g.column(e);
                double w = g.weight(e) / Math.sqrt(d[i] * d[j]);
                for (int c = 0; c < cols; c++) {
                    y[i * cols + c] += w * x[j * cols + c];
                }
            }
        }
        return y;
    }

    @Test
    void nativeKernelsMatchTheReferenceAndTheDefinitionForEveryWidth() {
        List<FloatMatrix> ws = TestGraphs.glorot(new int[] {37, 29, 45, 11}, 2);
        float[] pruned = ws.get(1).data().clone(); // layer 1 at 10% density: stored as CSR blocks
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < pruned.length; i++) {
            if (r.nextDouble() < 0.9) {
                pruned[i] = 0f;
            }
        }
        NetworkGraph net = NetworkGraph.fromWeights(List.of(ws.get(0), new FloatMatrix(45, 29, pruned), ws.get(2)));
        CsrGraph odd = TestGraphs.random(90, 0.1, 4).withoutIsolatedNodes();
        for (Object graph : List.of(net, odd)) {
            CsrGraph csr = graph instanceof NetworkGraph n ? n.toCsr() : (CsrGraph) graph;
            try (NormalizedAdjacency nat = graph instanceof NetworkGraph n ? NormalizedAdjacency.of(n, Device.cpu(), 2)
                    : NormalizedAdjacency.of(csr, Device.cpu(), 2);
                    NormalizedAdjacency ref = graph instanceof NetworkGraph n ? NormalizedAdjacency.of(n, Device.java(), 1)
                            : NormalizedAdjacency.of(csr, Device.java(), 1)) {
                for (int cols = 1; cols <= 21; cols++) {
                    double[] x = random(nat.size() * cols, cols);
                    double[] a = new double[x.length];
                    double[] b = new double[x.length];
                    nat.apply(x, a, cols);
                    ref.apply(x, b, cols);
                    assertClose(b, a, 1e-13, "native vs reference, " + cols + " vectors");
                    assertClose(byHand(csr, x, cols), a, 1e-13, "native vs definition, " + cols + " vectors");
                    if (nat.halfSize() > 0) {
                        double[] xh = random(nat.halfSize() * cols, 100 + cols);
                        double[] ah = new double[xh.length];
                        double[] bh = new double[xh.length];
                        nat.applyHalf(xh, ah, cols);
                        ref.applyHalf(xh, bh, cols);
                        assertClose(bh, ah, 1e-13, "half operator, " + cols + " vectors");
                    }
                }
                assertEquals(ref.flops(), nat.flops(), 0.0);
            }
        }
        try (NormalizedAdjacency n = NormalizedAdjacency.of(odd, Device.cpu(), 1)) {
            assertEquals(0, n.halfSize(), "a graph with odd cycles has no half operator");
            assertThrows(InvalidInputException.class, () -> n.applyHalf(new double[0], new double[0], 1));
        }
    }
}
