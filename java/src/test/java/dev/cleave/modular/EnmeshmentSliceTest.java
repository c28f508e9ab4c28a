package dev.cleave.modular;

import static dev.cleave.Tolerance.assertClose;
import static dev.cleave.modular.EnmeshmentTest.gaussian;
import static dev.cleave.modular.EnmeshmentTest.gaussianFloats;
import static dev.cleave.modular.EnmeshmentTest.labels;
import static dev.cleave.modular.EnmeshmentTest.randomLabels;
import static dev.cleave.modular.EnmeshmentTest.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.SliceNorm;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** The enmeshment op on conv kernel slices (rows x cols x slice): reference by hand and by finite differences, native against it. */
class EnmeshmentSliceTest {
    private static final long SEED = 20261207L;

    @Test
    void enmeshmentOnKernelSlicesByHand() {
        // K (2 out, 2 in, 1 x 2): K[0,0] = [1, 2], K[0,1] = [3, 0], K[1,0] = [0, 1], K[1,1] = [2, 2];
        // diagonal blocks (0,0) and (1,1): 5 + 8 = 13 of S = 23.
        double[] w = {1, 2, 3, 0, 0, 1, 2, 2};
        int[] labels = {0, 1};
        double[] grad = new double[8];
        double c = Enmeshment.reference(w, 2, 2, 2, labels, labels, 2, 1.0, grad);
        assertEquals(13.0 / 23.0, c, 1e-15);
        double in = 2.0 / 23 * (1 - 13.0 / 23), out = 2.0 / 23 * (-13.0 / 23);
        assertArrayEquals(new double[] {in * 1, in * 2, out * 3, 0, 0, out * 1, in * 2, in * 2}, grad, 1e-15);
        try (Enmeshment op = new Enmeshment(2, 2, 2, 2, labels, labels)) {
            Enmeshment.Result r = op.forwardBackward(new FloatMatrix(2, 4, new float[] {1, 2, 3, 0, 0, 1, 2, 2}));
            assertEquals(13.0 / 23.0, r.c(), 1e-7);
            assertClose("native gradient by hand", grad, r.gradient().data(), 1e-7, 1e-6);
        }
    }

    @Test
    void enmeshmentOnSlicesEqualsTheMatrixOpWithLabelsRepeatedPerSlice() {
        SplittableRandom rnd = Rng.stream(SEED, "expanded");
        int rows = 6, cols = 5, slice = 9, k = 3;
        double[] w = gaussian(rnd, rows * cols * slice);
        int[] rl = randomLabels(rnd, rows, k), cl = randomLabels(rnd, cols, k);
        int[] expanded = new int[cols * slice];
        for (int e = 0; e < expanded.length; e++) {
            expanded[e] = cl[e / slice];
        }
        double[] g1 = new double[w.length], g2 = new double[w.length];
        double c1 = Enmeshment.reference(w, rows, cols, slice, rl, cl, k, -3.0, g1);
        double c2 = Enmeshment.reference(w, rows, cols * slice, rl, expanded, k, -3.0, g2);
        assertEquals(c2, c1);
        assertArrayEquals(g2, g1);
    }

    @Test
    void enmeshmentSliceReferenceGradientMatchesFiniteDifferences() {
        SplittableRandom rnd = Rng.stream(SEED, "fd");
        int[][] shapes = {{1, 1, 4}, {3, 2, 9}, {4, 5, 4}, {2, 7, 6}};
        for (int[] s : shapes) {
            for (int k : new int[] {1, 2, 3}) {
                int rows = s[0], cols = s[1], slice = s[2];
                double[] w = gaussian(rnd, rows * cols * slice);
                int[] rl = randomLabels(rnd, rows, k), cl = randomLabels(rnd, cols, k);
                double scale = 1.5;
                double[] grad = new double[w.length];
                Enmeshment.reference(w, rows, cols, slice, rl, cl, k, scale, grad);
                double[] analytic = new double[w.length], numeric = new double[w.length];
                double h = 1e-6;
                for (int e = 0; e < w.length; e++) {
                    analytic[e] = grad[e] / scale;
                    double keep = w[e];
                    w[e] = keep + h;
                    double up = Enmeshment.reference(w, rows, cols, slice, rl, cl, k, 0.0, null);
                    w[e] = keep - h;
                    double down = Enmeshment.reference(w, rows, cols, slice, rl, cl, k, 0.0, null);
                    w[e] = keep;
                    numeric[e] = (up - down) / (2 * h);
                }
                assertClose("dC/dK vs central differences, " + rows + "x" + cols + "x" + slice + " k=" + k, numeric, analytic,
                        1e-8, 1e-6);
            }
        }
    }

    @Test
    void enmeshmentNativeOnSlicesMatchesReference() {
        SplittableRandom rnd = Rng.stream(SEED, "parity");
        int[][] shapes = {{1, 1, 9}, {3, 5, 2}, {16, 8, 9}, {64, 64, 9}, {33, 17, 25}, {7, 300, 4}, {128, 3, 9}};
        for (int[] s : shapes) {
            int rows = s[0], cols = s[1], slice = s[2];
            for (int k : new int[] {1, 3, 4}) {
                for (EnmeshmentTest.Labels kind : EnmeshmentTest.Labels.values()) {
                    int[] rl = labels(kind, rnd, rows, k), cl = labels(kind, rnd, cols, k);
                    checkParity(rnd, rows, cols, slice, k, rl, cl, rows + "x" + cols + "x" + slice + " k=" + k + " labels "
                            + kind);
                }
            }
        }
    }

    private static void checkParity(SplittableRandom rnd, int rows, int cols, int slice, int k, int[] rl, int[] cl,
            String what) {
        int n = rows * cols * slice;
        float[] w = gaussianFloats(rnd, n), g0 = gaussianFloats(rnd, n);
        float scale = -20f;
        double[] ref = toDouble(g0);
        double refC = Enmeshment.reference(toDouble(w), rows, cols, slice, rl, cl, k, scale, ref);
        double stepMax = 0.0;
        for (int e = 0; e < n; e++) {
            stepMax = Math.max(stepMax, Math.abs(ref[e] - g0[e]));
        }
        float[] got = new float[n];
        double c, cForward;
        try (Enmeshment op = new Enmeshment(rows, cols, slice, k, rl, cl); FloatPointer pw = new FloatPointer(n).put(w);
                FloatPointer pg = new FloatPointer(n).put(g0)) {
            cForward = op.forward(pw);
            c = op.forwardBackward(pw, scale, pg);
            pg.get(got);
        }
        assertClose("C, " + what, new double[] {refC}, new double[] {c}, 1e-7, 1e-6);
        assertEquals(c, cForward, "forward and forwardBackward give the same C, " + what);
        assertClose("grad, " + what, ref, toDouble(got), 1e-5 * stepMax, 1e-5);
    }

    @Test
    void sliceShapesAreValidated() {
        assertThrows(InvalidInputException.class, () -> new Enmeshment(2, 2, 0, 2, new int[] {0, 1}, new int[] {0, 1}));
        try (Enmeshment op = Enmeshment.balanced(2, 3, 9, 2)) {
            assertEquals(27, op.width());
            assertThrows(InvalidInputException.class, () -> op.forward(new FloatMatrix(2, 3, new float[6])));
            assertThrows(InvalidInputException.class, () -> op.forward(new FloatPointer(53)));
        }
    }

    @Test
    void channelClustersOfABlockDiagonalKernelRecoverTheBlocks() {
        // 8 out x 6 in channels, 3x3 kernels non-zero only inside two diagonal blocks (out 0-3 x in 0-2,
        // out 4-7 x in 3-5): co-clustering the channel norms finds them, and C of the kernel is 1.
        SplittableRandom rnd = Rng.stream(SEED, "blocks");
        int out = 8, in = 6, slice = 9;
        float[] k = new float[out * in * slice];
        for (int j = 0; j < out; j++) {
            for (int i = 0; i < in; i++) {
                if ((j < 4) == (i < 3)) {
                    for (int e = 0; e < slice; e++) {
                        k[(j * in + i) * slice + e] = (float) (0.5 + rnd.nextDouble());
                    }
                }
            }
        }
        CnnLayer conv = CnnLayer.conv(out, in, 3, 3, k);
        LayerClusters c = ChannelClusters.cocluster(2, conv, SliceNorm.L1, 2, false, 1, Device.cpu());
        int[] rows = c.rowLabels(), cols = c.colLabels();
        for (int j = 0; j < out; j++) {
            assertEquals(rows[j < 4 ? 0 : 4], rows[j], "out channel " + j);
        }
        for (int i = 0; i < in; i++) {
            assertEquals(rows[i < 3 ? 0 : 4], cols[i], "in channel " + i + " pairs with its out block");
        }
        try (Enmeshment op = ChannelClusters.op(c, slice)) {
            assertEquals(1.0, op.forward(new FloatMatrix(out, in * slice, k)), 1e-12);
        }
        LayerClusters b = ChannelClusters.balanced(0, out, in, 4);
        assertArrayEquals(BalancedPartition.labels(in, 4), b.colLabels());
    }
}
