package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The spectral regulariser's refilled graph (StepLaplacian and its native kernel
 * spectral_reg_graph) against the general path it replaces (NetworkGraph.fromWeights,
 * GraphOperator.of, a fresh native op): the same degrees, scale and operator, and the same
 * eigenpairs bit for bit, over several steps of changing weights, warm-started, on 1 and 3
 * threads; a layer past the kernels' parallel threshold; zero weights (kept, as the general path
 * keeps them); the fallbacks (a sparse layer, a non-finite weight, a node of degree 0).
 */
class StepLaplacianTest {
    private static float[] weights(int[] widths, Random r) {
        int size = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            size += widths[l + 1] * widths[l];
        }
        float[] w = new float[size];
        for (int i = 0; i < size; i++) {
            double x = r.nextGaussian() * (1 + 3 * r.nextDouble());
            w[i] = (float) (x == 0 ? 0.5 : x);
        }
        return w;
    }

    private static NetworkGraph graph(int[] widths, float[] packed) {
        List<FloatMatrix> m = new ArrayList<>();
        int at = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            int size = widths[l + 1] * widths[l];
            m.add(new FloatMatrix(widths[l + 1], widths[l], java.util.Arrays.copyOfRange(packed, at, at + size)));
            at += size;
        }
        return NetworkGraph.fromWeights(m);
    }

    private static EigenOptions options(int pairs, int threads) {
        return new EigenOptions(pairs, 1e-5, 500, 0, 11, threads, Solver.ITERATIVE, Device.cpu(threads));
    }

    private static void assertSame(EigenResult want, EigenResult got, String what) {
        assertArrayEquals(want.eigenvalues(), got.eigenvalues(), 0.0, what + ": eigenvalues");
        assertArrayEquals(want.eigenvectors(), got.eigenvectors(), 0.0, what + ": eigenvectors");
        assertArrayEquals(want.residuals(), got.residuals(), 0.0, what + ": residuals");
        assertEquals(want.iterations(), got.iterations(), what + ": iterations");
        assertEquals(want.operatorApplications(), got.operatorApplications(), what + ": applications");
        assertEquals(want.status(), got.status(), what + ": status");
        assertEquals(want.method(), got.method(), what + ": method");
    }

    @Test
    void refilledStepsEqualTheGeneralPath() {
        for (int[] widths : new int[][] {{7, 5, 4, 3}, {300, 257, 17, 10}, {9, 12}}) {
            for (int threads : new int[] {1, 3}) {
                Random r = new Random(widths[0] * 31L + threads);
                float[] w = weights(widths, r);
                int pairs = Math.min(4, widths[0] + widths[1] - 1);
                EigenOptions o = options(pairs, threads);
                double[] warm = null;
                try (StepLaplacian step = StepLaplacian.open(widths, w, threads)) {
                    assertNotNull(step, "a graph without zeros keeps its shape");
                    for (int s = 0; s < 4; s++) {
                        if (s > 0) { // the next step's weights: a small change, as an optimizer step makes
                            for (int i = 0; i < w.length; i++) {
                                w[i] += (float) (0.02 * r.nextGaussian());
                                if (w[i] == 0f) {
                                    w[i] = 1e-3f;
                                }
                            }
                            assertTrue(step.refill(w));
                        }
                        NetworkGraph g = graph(widths, w);
                        EigenResult want = warm == null ? LaplacianEigensolver.smallest(g, o)
                                : LaplacianEigensolver.smallestFrom(g, o, warm, pairs);
                        EigenResult got = step.smallestFrom(o, warm, pairs);
                        String what = java.util.Arrays.toString(widths) + ", " + threads + " threads, step " + s;
                        assertSame(want, got, what);
                        warm = want.eigenvectors();
                    }
                }
            }
        }
    }

    @Test
    void refillWritesWhatTheGeneralPathBuilds() {
        int[] widths = {300, 257, 17, 10};
        Random r = new Random(5);
        float[] first = weights(widths, r);
        float[] next = weights(widths, r);
        try (StepLaplacian step = StepLaplacian.open(widths, first, 3)) {
            assertTrue(step.refill(next));
            GraphOperator want = GraphOperator.of(graph(widths, next));
            GraphOperator got = step.operator();
            assertArrayEquals(want.degree, got.degree, 0.0, "degrees");
            assertArrayEquals(want.scale, got.scale, 0.0, "scale");
            assertArrayEquals(want.order, got.order, "order");
            assertEquals(want.pieces.size(), got.pieces.size());
            for (int p = 0; p < want.pieces.size(); p++) {
                assertArrayEquals(want.pieces.get(p).dense(), got.pieces.get(p).dense(), 0f, "piece " + p);
            }
            try (NativeOperator fresh = new NativeOperator(want, 3)) {
                for (int which : new int[] {OperatorHandle.N, OperatorHandle.M}) {
                    int dim = fresh.dim(which);
                    double[] x = new double[dim * 5];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = r.nextGaussian();
                    }
                    double[] y0 = new double[x.length];
                    double[] y1 = new double[x.length];
                    fresh.apply(which, x, y0, 5);
                    step.handle().apply(which, x, y1, 5);
                    assertArrayEquals(y0, y1, 0.0, "operator " + which + " applied");
                }
            }
        }
    }

    /**
     * A few weights at exactly 0 (an optimizer step can leave one there) keep the graph's shape:
     * the refill takes them as edges of weight 0, and the eigenpairs equal the general path's bit
     * for bit, warm-started; then the same with 3 threads on a layer past the parallel threshold.
     */
    @Test
    void zeroWeightsRefillAsTheGeneralPathBuildsThem() {
        for (int[] widths : new int[][] {{6, 5, 4}, {300, 257, 17, 10}}) {
            int threads = widths[0] > 100 ? 3 : 1;
            Random r = new Random(widths[0]);
            float[] w = weights(widths, r);
            int pairs = 3;
            EigenOptions o = options(pairs, threads);
            try (StepLaplacian step = StepLaplacian.open(widths, w, threads)) {
                EigenResult first = step.smallestFrom(o, null, 0);
                float[] zero = w.clone();
                zero[7] = 0f;
                zero[zero.length - 2] = -0f;
                zero[widths[1] * widths[0] + 3] = 0f;
                assertTrue(step.refill(zero), "three zero weights");
                GraphOperator want = GraphOperator.of(graph(widths, zero));
                assertArrayEquals(want.degree, step.operator().degree, 0.0, "degrees");
                assertArrayEquals(want.scale, step.operator().scale, 0.0, "scale");
                assertEquals(want.pieces.size(), step.operator().pieces.size(), "pieces");
                assertSame(LaplacianEigensolver.smallestFrom(graph(widths, zero), o, first.eigenvectors(), pairs),
                        step.smallestFrom(o, first.eigenvectors(), pairs), java.util.Arrays.toString(widths) + " with zeros");
            }
        }
    }

    @Test
    void sparseLayersOrNonFiniteWeightsFallBack() {
        int[] widths = {6, 5, 4};
        Random r = new Random(2);
        float[] w = weights(widths, r);
        try (StepLaplacian step = StepLaplacian.open(widths, w, 1)) {
            EigenOptions o = options(3, 1);
            float[] sparse = w.clone();
            for (int i = 0; i < 30; i++) { // layer 0 (5 x 6) down to 6 nonzero weights, every node still
                sparse[i] = i % 7 == 0 || i == 29 ? sparse[i] : 0f; // with an edge: the general path stores it as CSR
            }
            assertFalse(step.refill(sparse), "a sparse layer");
            assertFalse(GraphOperator.of(graph(widths, sparse)).pieces.get(0).isDense(), "the general path's layer 0 is CSR");
            assertThrows(IllegalStateException.class, () -> step.smallestFrom(o, null, 0));
            float[] nan = w.clone();
            nan[3] = Float.NaN;
            assertFalse(step.refill(nan), "a NaN weight");
            float[] inf = w.clone();
            inf[20] = Float.NEGATIVE_INFINITY;
            assertFalse(step.refill(inf), "an infinite weight");
            float[] faint = w.clone();
            for (int out = 0; out < 5; out++) {
                faint[out * 6 + 2] = 1e-39f; // input 2's edges subnormal: negligible degree, dropped by the general path
            }
            assertFalse(step.refill(faint), "a node of negligible degree");
            assertTrue(step.refill(w), "good weights again");
            assertSame(LaplacianEigensolver.smallest(graph(widths, w), o), step.smallestFrom(o, null, 0), "after a fallback");
            assertThrows(IllegalArgumentException.class, () -> step.refill(new float[3]));
        }
        float[] dead = w.clone();
        for (int o = 0; o < 5; o++) {
            dead[o * 6 + 2] = 0f; // input 2 has no edge: degree 0, dropped by the general path
        }
        assertNull(StepLaplacian.open(widths, dead, 1));
        float[] nan = w.clone();
        nan[0] = Float.NaN;
        assertThrows(InvalidInputException.class, () -> StepLaplacian.open(widths, nan, 1));
    }
}
