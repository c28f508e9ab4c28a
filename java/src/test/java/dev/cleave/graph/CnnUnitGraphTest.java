package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.CnnGraphOptions.Edges;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The unit graph of a CNN against hand-computed small networks, and F21's graph against a direct implementation. */
class CnnUnitGraphTest {
    static final float S5 = (float) Math.sqrt(5), SH = (float) Math.sqrt(0.5);

    // conv A (2 out, 2 in, 2x2): input channel 1 has only zero weights.
    //   K[0,0] = [[1, -2], [3, 0.5]]   l1 6.5, max-col-sum max(1+3, 2+0.5) = 4, l2 sqrt(14.25)
    //   K[1,0] = [[0, 4], [0, -1]]      l1 5,   max-col-sum 5,                    l2 sqrt(17)
    // conv B (2 out, 2 in, 1x2), batchnorm after it: gamma (4, -1.5), running_var (3, 8), eps 1:
    //   scales 4 / 2 = 2 and |-1.5 / 3| = 0.5.
    //   K[0,0] = [1, 2] (l1 3, mcs 2, l2 sqrt5)   K[0,1] = [-3, 0] (3, 3, 3)
    //   K[1,0] = [.5, .5] (1, .5, sqrt.5)         K[1,1] = [0, -2] (2, 2, 2)
    // linear C (2 out, 4 in) reading 2 channels of 1x2: row 0 = [1, -1 | 2, 0], row 1 all zero.
    //   blocks of row 0: [1, -1] (l1 2, mcs 1, l2 sqrt2), [2, 0] (2, 2, 2)
    // linear D (1 out, 2 in) = [3, 0]: C's neuron 1 has no edge and is removed.
    static List<CnnLayer> small() {
        CnnLayer a = CnnLayer.conv(2, 2, 2, 2, new float[] {1, -2, 3, 0.5f, 0, 0, 0, 0, 0, 4, 0, -1, 0, 0, 0, 0});
        CnnLayer b = CnnLayer.conv(2, 2, 1, 2, new float[] {1, 2, -3, 0, 0.5f, 0.5f, 0, -2})
                .withBatchNorm(new float[] {4, -1.5f}, new float[] {3, 8}, 1.0);
        CnnLayer c = CnnLayer.linear(2, 4, new float[] {1, -1, 2, 0, 0, 0, 0, 0}).flattenedFrom(1, 2);
        CnnLayer d = CnnLayer.linear(1, 2, new float[] {3, 0});
        return List.of(a, b, c, d);
    }

    static FloatMatrix m(int rows, int cols, float... v) {
        return new FloatMatrix(rows, cols, v);
    }

    static void assertMatrices(List<FloatMatrix> expected, List<FloatMatrix> got) {
        assertEquals(expected.size(), got.size(), "unit matrices");
        for (int l = 0; l < expected.size(); l++) {
            FloatMatrix e = expected.get(l);
            FloatMatrix g = got.get(l);
            assertEquals(e.rows(), g.rows(), "rows of matrix " + l);
            assertEquals(e.cols(), g.cols(), "cols of matrix " + l);
            for (int i = 0; i < e.data().length; i++) {
                assertEquals(e.data()[i], g.data()[i], 1e-6 * Math.max(1, Math.abs(e.data()[i])), "matrix " + l + " entry " + i);
            }
        }
    }

    @Test
    void l1UnitsGraphOfASmallCnnWithBatchnorm() {
        CnnUnitGraph g = CnnUnitGraph.build(small(), CnnGraphOptions.defaults());
        assertMatrices(List.of(m(2, 2, 6.5f, 0, 5, 0), m(2, 2, 6, 6, 0.5f, 1), m(2, 2, 2, 2, 0, 0), m(1, 2, 3, 0)),
                g.unitMatrices());
        assertEquals(List.of(new CnnUnitGraph.UnitLayer("input", -1, 2), new CnnUnitGraph.UnitLayer("conv 0", 0, 2),
                new CnnUnitGraph.UnitLayer("conv 1", 1, 2), new CnnUnitGraph.UnitLayer("linear 2", 2, 2),
                new CnnUnitGraph.UnitLayer("linear 3", 3, 1)), g.unitLayers());
        NetworkGraph n = g.network();
        assertEquals(9, n.totalNodes());
        assertEquals(List.of(new RemovedNode(1, 0, 1), new RemovedNode(7, 3, 1)), g.removedNodes());
        assertEquals("input channel 1", g.describe(g.removedNodes().get(0)));
        assertEquals("linear 2 neuron 1", g.describe(g.removedNodes().get(1)));
        CsrGraph csr = g.toCsr();
        assertEquals(7, csr.nodes());
    }

    @Test
    void maxColSumAndL2UnitsGraphs() {
        CnnUnitGraph mcs = CnnUnitGraph.build(small(), CnnGraphOptions.defaults().withNorm(SliceNorm.MAX_COL_SUM));
        assertMatrices(List.of(m(2, 2, 4, 0, 5, 0), m(2, 2, 4, 6, 0.25f, 1), m(2, 2, 1, 2, 0, 0), m(1, 2, 3, 0)),
                mcs.unitMatrices());
        CnnUnitGraph l2 = CnnUnitGraph.build(small(), CnnGraphOptions.defaults().withNorm(SliceNorm.L2));
        assertMatrices(List.of(m(2, 2, (float) Math.sqrt(14.25), 0, (float) Math.sqrt(17), 0), m(2, 2, 2 * S5, 6, 0.5f * SH, 1),
                m(2, 2, (float) Math.sqrt(2), 2, 0, 0), m(1, 2, 3, 0)), l2.unitMatrices());
    }

    @Test
    void f21GraphKeepsConvToConvEdgesOnly() {
        CnnUnitGraph g = CnnUnitGraph.build(small(), CnnGraphOptions.f21());
        assertMatrices(List.of(m(2, 2, 4, 6, 0.25f, 1)), g.unitMatrices());
        assertEquals(List.of(new CnnUnitGraph.UnitLayer("conv 0", 0, 2), new CnnUnitGraph.UnitLayer("conv 1", 1, 2)),
                g.unitLayers());
        assertEquals(4, g.network().nodes());
        assertTrue(g.removedNodes().isEmpty());
    }

    @Test
    void degreesOfTheL1Graph() {
        NetworkGraph n = CnnUnitGraph.build(small(), CnnGraphOptions.defaults()).network();
        // in0: 6.5 + 5; A0: 6.5 + 6 + 0.5; A1: 5 + 6 + 1; B0: 12 + 2; B1: 1.5 + 2; C0: 4 + 3; D0: 3
        assertArrayEquals(new double[] {11.5, 13, 12, 14, 3.5, 7, 3}, n.degrees(), 1e-5);
    }

    @Test
    void flattenSizeDefaultsToOneByOneAndIsChecked() {
        CnnLayer conv = CnnLayer.conv(3, 1, 1, 1, new float[] {1, 2, 3});
        CnnLayer dense = CnnLayer.linear(1, 3, new float[] {1, -1, 2});
        CnnUnitGraph g = CnnUnitGraph.build(List.of(conv, dense), CnnGraphOptions.defaults());
        assertMatrices(List.of(m(3, 1, 1, 2, 3), m(1, 3, 1, 1, 2)), g.unitMatrices());
        CnnLayer wide = CnnLayer.linear(1, 12, new float[12]);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> CnnUnitGraph.build(List.of(conv, wide), CnnGraphOptions.defaults()));
        assertTrue(e.getMessage().contains("give the height x width it reads after flatten"), e.getMessage());
        assertThrows(InvalidInputException.class,
                () -> CnnUnitGraph.build(List.of(conv, wide.flattenedFrom(3, 2)), CnnGraphOptions.defaults()));
        CnnUnitGraph flat = CnnUnitGraph.build(List.of(conv, CnnLayer.linear(1, 12, new float[12]).flattenedFrom(2, 2),
                CnnLayer.linear(1, 1, new float[] {1})), CnnGraphOptions.defaults());
        // the zero dense layer's neuron keeps its outgoing edge: input, 3 channels, 2 neurons
        assertEquals(6, flat.network().nodes());
        assertMatrices(List.of(m(3, 1, 1, 2, 3), m(1, 3, 0, 0, 0), m(1, 1, 1)), flat.unitMatrices());
    }

    @Test
    void badLayerListsAreRejectedWithAReason() {
        CnnLayer conv = CnnLayer.conv(2, 1, 1, 1, new float[] {1, 2});
        CnnLayer dense = CnnLayer.linear(1, 2, new float[] {1, 1});
        assertTrue(assertThrows(InvalidInputException.class, () -> CnnUnitGraph.build(List.of(conv, dense), CnnGraphOptions.f21()))
                .getMessage().contains("at least two conv layers"));
        assertTrue(assertThrows(InvalidInputException.class, () -> CnnUnitGraph.build(List.of(dense, CnnLayer.conv(1, 1, 1, 1,
                new float[] {1})), CnnGraphOptions.defaults())).getMessage().contains("conv after a linear"));
        assertTrue(assertThrows(InvalidInputException.class, () -> CnnUnitGraph.build(List.of(conv, CnnLayer.conv(1, 3, 1, 1,
                new float[3])), CnnGraphOptions.defaults())).getMessage().contains("must chain"));
        assertTrue(assertThrows(InvalidInputException.class, () -> CnnUnitGraph.build(List.of(CnnLayer.conv(1, 1, 1, 1,
                new float[] {Float.NaN})), CnnGraphOptions.defaults())).getMessage().contains("finite"));
        assertThrows(InvalidInputException.class, () -> CnnLayer.conv(2, 2, 3, 3, new float[17]));
        assertThrows(InvalidInputException.class, () -> conv.withBatchNorm(new float[] {1}, new float[] {1}, 1e-5));
        assertThrows(InvalidInputException.class, () -> conv.withBatchNorm(new float[] {1, 1}, new float[] {0, 0}, 0.0));
        assertThrows(InvalidInputException.class, () -> CnnUnitGraph.build(List.of(), CnnGraphOptions.defaults()));
        assertEquals(SliceNorm.MAX_COL_SUM, SliceNorm.parse("Max-Col-Sum"));
        assertThrows(InvalidInputException.class, () -> SliceNorm.parse("l3"));
    }

    @Test
    void optionsRoundTripToJson() {
        for (CnnGraphOptions o : List.of(CnnGraphOptions.defaults(), CnnGraphOptions.f21(),
                new CnnGraphOptions(SliceNorm.L2, Edges.F21))) {
            String json = dev.cleave.io.Json.write(o);
            assertEquals(o, dev.cleave.io.Json.read(json, CnnGraphOptions.class), json);
        }
        assertEquals("{\"norm\":\"max-col-sum\",\"edges\":\"f21\"}", dev.cleave.io.Json.write(CnnGraphOptions.f21()));
        assertThrows(InvalidInputException.class, () -> new CnnGraphOptions(null, Edges.UNITS));
    }

    @Test
    void channelNormsOfOneConvFoldItsBatchnorm() {
        CnnLayer b = small().get(1);
        assertMatrices(List.of(m(2, 2, 6, 6, 0.5f, 1)), List.of(CnnUnitGraph.channelNorms(b, SliceNorm.L1)));
    }

    // ---- F21 mode against a direct implementation of F21's definition ----

    /**
     * F21's CNN graph written out directly: each conv kernel in TensorFlow's layout (kh, kw, in,
     * out), batchnorm folded into the kernel as gamma / sqrt(var + eps) on its output axis,
     * edge (i, j) between consecutive convs = the induced 1-norm of the kh x kw matrix
     * K[:, :, i, j] (max over columns of the column's sum of absolute values), nodes = the output
     * channels of every conv, as a dense symmetric adjacency.
     */
    static double[][] f21Direct(List<int[]> shapes, List<float[]> torchWeights, List<float[][]> bn, double eps) {
        int n = 0;
        for (int[] s : shapes) {
            n += s[0];
        }
        double[][] adj = new double[n][n];
        int prevBase = 0;
        int base = shapes.get(0)[0];
        for (int l = 1; l < shapes.size(); l++) {
            int[] s = shapes.get(l);
            int out = s[0], in = s[1], kh = s[2], kw = s[3];
            float[] t = torchWeights.get(l);
            // to TF layout, folded
            double[][][][] k = new double[kh][kw][in][out];
            for (int j = 0; j < out; j++) {
                double scale = bn.get(l) == null ? 1.0 : bn.get(l)[0][j] / Math.sqrt(bn.get(l)[1][j] + eps);
                for (int i = 0; i < in; i++) {
                    for (int y = 0; y < kh; y++) {
                        for (int x = 0; x < kw; x++) {
                            k[y][x][i][j] = t[((j * in + i) * kh + y) * kw + x] * scale;
                        }
                    }
                }
            }
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < out; j++) {
                    double best = 0.0;
                    for (int x = 0; x < kw; x++) {
                        double col = 0.0;
                        for (int y = 0; y < kh; y++) {
                            col += Math.abs(k[y][x][i][j]);
                        }
                        best = Math.max(best, col);
                    }
                    adj[prevBase + i][base + j] = best;
                    adj[base + j][prevBase + i] = best;
                }
            }
            prevBase = base;
            base += out;
        }
        return adj;
    }

    @Test
    void f21ModeEqualsADirectImplementationOfF21() {
        SplittableRandom r = Rng.stream(7, "cnn-graph-test");
        int[][] shapes = {{5, 3, 3, 3}, {6, 5, 3, 3}, {4, 6, 3, 2}, {7, 4, 3, 3}};
        double eps = 1e-3;
        List<CnnLayer> layers = new ArrayList<>();
        List<int[]> sh = new ArrayList<>();
        List<float[]> ws = new ArrayList<>();
        List<float[][]> bns = new ArrayList<>();
        for (int l = 0; l < shapes.length; l++) {
            int[] s = shapes[l];
            float[] w = new float[s[0] * s[1] * s[2] * s[3]];
            for (int e = 0; e < w.length; e++) {
                w[e] = (float) (r.nextDouble() * 2 - 1);
            }
            CnnLayer layer = CnnLayer.conv(s[0], s[1], s[2], s[3], w);
            float[][] bn = null;
            if (l % 2 == 1) { // batchnorm after convs 1 and 3, with negative gammas
                bn = new float[2][s[0]];
                for (int j = 0; j < s[0]; j++) {
                    bn[0][j] = (float) (r.nextDouble() * 4 - 2);
                    bn[1][j] = (float) (r.nextDouble() * 3);
                }
                layer = layer.withBatchNorm(bn[0], bn[1], eps);
            }
            layers.add(layer);
            sh.add(s);
            ws.add(w);
            bns.add(bn);
        }
        layers.add(CnnLayer.linear(3, 7 * 4, new float[3 * 28]).flattenedFrom(2, 2)); // left out by F21
        double[][] expected = f21Direct(sh, ws, bns, eps);
        CnnUnitGraph g = CnnUnitGraph.build(layers, CnnGraphOptions.f21());
        assertTrue(g.removedNodes().isEmpty());
        CsrGraph csr = g.toCsr();
        int n = expected.length;
        assertEquals(n, csr.nodes());
        double[][] got = new double[n][n];
        long[] off = csr.offsets();
        int[] col = csr.columns();
        float[] wt = csr.weights();
        for (int i = 0; i < n; i++) {
            for (long p = off[i]; p < off[i + 1]; p++) {
                got[i][col[(int) p]] = wt[(int) p];
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(expected[i][j], got[i][j], 1e-5 * Math.max(1, expected[i][j]), "adjacency [" + i + "][" + j + "]");
            }
        }
    }
}
