package dev.cleave.modular;

import static dev.cleave.Tolerance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.ModularKernels;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.Test;

class EnmeshmentTest {
    private static final long SEED = 20240521L;

    /** Labels of the three kinds the kernel distinguishes. */
    enum Labels { BALANCED, SORTED_UNEVEN, RANDOM }

    // ---- the reference against finite differences ----

    @Test
    void enmeshmentReferenceGradientMatchesFiniteDifferences() {
        SplittableRandom rnd = Rng.stream(SEED, "fd");
        int[][] shapes = {{1, 1}, {1, 5}, {4, 1}, {5, 7}, {6, 6}, {9, 4}};
        for (int[] shape : shapes) {
            for (int k : new int[] {1, 2, 3}) {
                int rows = shape[0], cols = shape[1];
                double[] w = gaussian(rnd, rows * cols);
                int[] rl = randomLabels(rnd, rows, k);
                int[] cl = randomLabels(rnd, cols, k);
                double scale = -2.5;
                double[] grad0 = gaussian(rnd, rows * cols);
                double[] grad = grad0.clone();
                Enmeshment.reference(w, rows, cols, rl, cl, k, scale, grad);
                double[] analytic = new double[w.length];
                double[] numeric = new double[w.length];
                double h = 1e-6;
                for (int e = 0; e < w.length; e++) {
                    analytic[e] = (grad[e] - grad0[e]) / scale;
                    double keep = w[e];
                    w[e] = keep + h;
                    double up = Enmeshment.reference(w, rows, cols, rl, cl, k, 0.0, null);
                    w[e] = keep - h;
                    double down = Enmeshment.reference(w, rows, cols, rl, cl, k, 0.0, null);
                    w[e] = keep;
                    numeric[e] = (up - down) / (2 * h);
                }
                assertClose("dC/dW vs central differences, " + rows + "x" + cols + " k=" + k, numeric, analytic,
                        1e-8, 1e-6);
            }
        }
    }

    @Test
    void enmeshmentReferenceOfAllZeroWIsZeroWithNoGradient() {
        double[] grad = {1, 2, 3, 4, 5, 6};
        double c = Enmeshment.reference(new double[6], 2, 3, new int[] {0, 1}, new int[] {0, 1, 1}, 2, 1.0, grad);
        assertEquals(0.0, c);
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, grad);
        assertEquals(0.0, Enmeshment.reference(new double[0], 0, 3, new int[0], new int[] {0, 0, 0}, 1, 1.0, null));
    }

    // ---- native against the reference ----

    @Test
    void enmeshmentNativeMatchesReferenceOnAwkwardShapes() {
        SplittableRandom rnd = Rng.stream(SEED, "parity");
        int[][] shapes = {{1, 1}, {1, 37}, {37, 1}, {3, 5}, {7, 8}, {8, 15}, {16, 17}, {33, 31}, {64, 100},
                {129, 257}, {300, 301}, {2, 40000}};
        for (int[] shape : shapes) {
            int rows = shape[0], cols = shape[1];
            for (int k : new int[] {1, 2, 3, 4, cols, cols + 2}) {
                for (Labels kind : Labels.values()) {
                    int[] rl = labels(kind, rnd, rows, k);
                    int[] cl = labels(kind, rnd, cols, k);
                    checkParity(rnd, rows, cols, k, rl, cl, rows + "x" + cols + " k=" + k + " " + kind);
                }
            }
        }
    }

    private static void checkParity(SplittableRandom rnd, int rows, int cols, int k, int[] rl, int[] cl,
            String what) {
        int n = rows * cols;
        float[] w = gaussianFloats(rnd, n);
        float[] g0 = gaussianFloats(rnd, n);
        float scale = -7.5f;
        double[] ref = toDouble(g0);
        double refC = Enmeshment.reference(toDouble(w), rows, cols, rl, cl, k, scale, ref);
        double stepMax = 0.0; // the largest |scale * dC/dW|
        for (int e = 0; e < n; e++) {
            stepMax = Math.max(stepMax, Math.abs(ref[e] - g0[e]));
        }
        float[] got = new float[n];
        double c;
        double cForward;
        try (Enmeshment op = new Enmeshment(rows, cols, k, rl, cl);
                FloatPointer pw = new FloatPointer(n).put(w);
                FloatPointer pg = new FloatPointer(n).put(g0)) {
            cForward = op.forward(pw);
            c = op.forwardBackward(pw, scale, pg);
            pg.get(got);
        }
        assertClose("C, " + what, new double[] {refC}, new float[] {(float) c}, 1e-6, 1e-5);
        assertEquals(c, cForward, "forward and forwardBackward give the same C, " + what);
        // The native step is scale * dC/dW in float: allow 1e-5 of the largest step and 1e-5 relative.
        assertClose("grad, " + what, ref, got, 1e-5 * stepMax, 1e-5);
    }

    @Test
    void enmeshmentFloatMatrixApiMatchesPointerApi() {
        SplittableRandom rnd = Rng.stream(SEED, "matrix");
        int rows = 13, cols = 21, k = 3;
        float[] w = gaussianFloats(rnd, rows * cols);
        try (Enmeshment op = Enmeshment.balanced(rows, cols, k)) {
            Enmeshment.Result r = op.forwardBackward(new FloatMatrix(rows, cols, w));
            double[] ref = new double[w.length];
            double refC = Enmeshment.reference(toDouble(w), rows, cols, op.rowLabels(), op.colLabels(), k, 1.0, ref);
            assertClose("C", new double[] {refC}, new float[] {(float) r.c()}, 1e-6, 1e-5);
            assertClose("dC/dW", ref, r.gradient().data(), 1e-5 * maxAbs(ref), 1e-5);
            assertEquals(r.c(), op.forward(new FloatMatrix(rows, cols, w)));
        }
    }

    // ---- known answers and invariances ----

    @Test
    void enmeshmentOfBlockDiagonalWIsOneWithZeroGradient() {
        int rows = 10, cols = 23, k = 4;
        try (Enmeshment op = Enmeshment.balanced(rows, cols, k)) {
            int[] rl = op.rowLabels(), cl = op.colLabels();
            float[] w = new float[rows * cols];
            SplittableRandom rnd = Rng.stream(SEED, "blocks");
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    w[i * cols + j] = rl[i] == cl[j] ? (float) rnd.nextGaussian() : 0.0f;
                }
            }
            Enmeshment.Result r = op.forwardBackward(new FloatMatrix(rows, cols, w));
            assertEquals(1.0, r.c(), 1e-12);
            assertEquals(0.0, maxAbs(toDouble(r.gradient().data())), 1e-7);
        }
    }

    @Test
    void enmeshmentOfRandomWUnderBalancedClustersIsAboutOneOverK() {
        int n = 1024;
        SplittableRandom rnd = Rng.stream(SEED, "random");
        float[] w = gaussianFloats(rnd, n * n);
        for (int k : new int[] {1, 2, 4, 12}) {
            try (Enmeshment op = Enmeshment.balanced(n, n, k)) {
                double c = op.forward(new FloatMatrix(n, n, w));
                assertEquals(1.0 / k, c, 0.01 / k, "k=" + k);
            }
        }
    }

    @Test
    void enmeshmentIsInvariantToScalingPermutationAndRenaming() {
        SplittableRandom rnd = Rng.stream(SEED, "invariance");
        int rows = 31, cols = 45, k = 5;
        float[] w = gaussianFloats(rnd, rows * cols);
        int[] rl = randomLabels(rnd, rows, k);
        int[] cl = randomLabels(rnd, cols, k);
        double c = valueOf(rows, cols, k, rl, cl, w);

        float[] scaled = w.clone();
        for (int e = 0; e < w.length; e++) {
            scaled[e] *= 4.0f; // a power of two: exact in float
        }
        assertEquals(c, valueOf(rows, cols, k, rl, cl, scaled), 1e-12, "C(4W) = C(W)");

        int[] renamed = permutation(rnd, k); // cluster c becomes renamed[c] on both sides
        assertEquals(c, valueOf(rows, cols, k, map(rl, renamed), map(cl, renamed), w), 1e-6, "renaming clusters");

        int[] rp = permutation(rnd, rows), cp = permutation(rnd, cols);
        float[] pw = new float[w.length];
        int[] prl = new int[rows], pcl = new int[cols];
        for (int i = 0; i < rows; i++) {
            prl[i] = rl[rp[i]];
            for (int j = 0; j < cols; j++) {
                pw[i * cols + j] = w[rp[i] * cols + cp[j]];
            }
        }
        for (int j = 0; j < cols; j++) {
            pcl[j] = cl[cp[j]];
        }
        assertEquals(c, valueOf(rows, cols, k, prl, pcl, pw), 1e-6, "permuting rows and columns with their labels");

        // C is scale-invariant, so its gradient is orthogonal to W (Euler): sum W * dC/dW = 0.
        try (Enmeshment op = new Enmeshment(rows, cols, k, rl, cl)) {
            float[] g = op.forwardBackward(new FloatMatrix(rows, cols, w)).gradient().data();
            double dot = 0.0, norm = 0.0;
            for (int e = 0; e < w.length; e++) {
                dot += (double) w[e] * g[e];
                norm += Math.abs((double) w[e] * g[e]);
            }
            assertEquals(0.0, dot, 1e-6 * norm, "sum W dC/dW");
        }
    }

    @Test
    void enmeshmentOfAllZeroWIsZeroAndLeavesTheGradientUnchanged() {
        int rows = 300, cols = 301; // large enough for the parallel path
        float[] g0 = new float[rows * cols];
        java.util.Arrays.fill(g0, 0.5f);
        float[] got = new float[g0.length];
        try (Enmeshment op = Enmeshment.balanced(rows, cols, 4);
                FloatPointer pw = new FloatPointer(g0.length).zero();
                FloatPointer pg = new FloatPointer(g0.length).put(g0)) {
            assertEquals(0.0, op.forwardBackward(pw, 3.0f, pg));
            pg.get(got);
        }
        assertArrayEquals(g0, got);
        try (Enmeshment empty = Enmeshment.balanced(0, 5, 2)) {
            assertEquals(0.0, empty.forward(new FloatMatrix(0, 5, new float[0])));
        }
    }

    @Test
    void enmeshmentGivesTheSameBitsOnOneAndTwoThreads() {
        SplittableRandom rnd = Rng.stream(SEED, "threads");
        int rows = 700, cols = 333, n = rows * cols, k = 4;
        float[] w = gaussianFloats(rnd, n);
        float[] g0 = gaussianFloats(rnd, n);
        int before = CpuKernels.cleave_get_threads();
        try {
            for (Labels kind : new Labels[] {Labels.BALANCED, Labels.RANDOM}) {
                int[] rl = labels(kind, rnd, rows, k), cl = labels(kind, rnd, cols, k);
                double[] c = new double[3];
                float[][] g = new float[3][n];
                for (int threads = 1; threads <= 2; threads++) {
                    CpuKernels.check(CpuKernels.cleave_set_threads(threads));
                    try (Enmeshment op = new Enmeshment(rows, cols, k, rl, cl);
                            FloatPointer pw = new FloatPointer(n).put(w);
                            FloatPointer pg = new FloatPointer(n).put(g0)) {
                        c[threads] = op.forwardBackward(pw, -20.0f, pg);
                        pg.get(g[threads]);
                    }
                }
                assertEquals(c[1], c[2], kind + ": C on 1 and 2 threads");
                assertArrayEquals(g[1], g[2], kind + ": gradient on 1 and 2 threads");
            }
        } finally {
            CpuKernels.check(CpuKernels.cleave_set_threads(before));
        }
    }

    // ---- bad input ----

    @Test
    void enmeshmentRejectsBadInputWithMessages() {
        int[] two = {0, 1};
        assertMessage("k must be in [1, 65536], got 0", () -> new Enmeshment(2, 2, 0, two, two));
        assertMessage("k must be in [1, 65536], got 65537", () -> new Enmeshment(2, 2, 65537, two, two));
        assertMessage("row label 2 at index 1 is outside [0, 2)", () -> new Enmeshment(2, 2, 2, new int[] {0, 2}, two));
        assertMessage("column label -1 at index 0", () -> new Enmeshment(2, 2, 2, two, new int[] {-1, 0}));
        assertMessage("need 3 column labels, got 2", () -> new Enmeshment(2, 3, 2, two, two));
        assertMessage("rows and cols must be >= 0", () -> new Enmeshment(-1, 2, 2, new int[0], two));
        assertMessage("need 2 row labels, got null", () -> Enmeshment.reference(new double[4], 2, 2, null, two, 2, 1, null));
        assertMessage("w and grad must hold rows * cols = 4 values",
                () -> Enmeshment.reference(new double[3], 2, 2, two, two, 2, 1, null));
        assertMessage("w[1][0] is not finite: NaN",
                () -> Enmeshment.reference(new double[] {0, 0, Double.NaN, 0}, 2, 2, two, two, 2, 1, null));

        try (Enmeshment op = new Enmeshment(2, 2, 2, two, two);
                FloatPointer w = new FloatPointer(4).put(1, 2, 3, 4);
                FloatPointer small = new FloatPointer(3);
                FloatPointer g = new FloatPointer(4)) {
            assertMessage("w must be 2 x 2, got 2 x 3", () -> op.forward(FloatMatrix.zeros(2, 3)));
            assertMessage("w[0][1] is not finite: Infinity",
                    () -> op.forward(new FloatMatrix(2, 2, new float[] {0, Float.POSITIVE_INFINITY, 0, 0})));
            assertMessage("w holds 3 floats past its position, need rows * cols = 4", () -> op.forward(small));
            assertMessage("grad must not be null", () -> op.forwardBackward(w, 1, null));
            assertMessage("scale must be finite, got NaN", () -> op.forwardBackward(w, Float.NaN, g));
            assertMessage("grad must not overlap w", () -> op.forwardBackward(w, 1, w));
            // On the hot path a NaN in W is caught by the kernel for free, and grad stays untouched.
            w.put(2, Float.NaN);
            g.put(new float[] {5, 5, 5, 5});
            dev.cleave.nativ.NativeNumericException e = assertThrows(dev.cleave.nativ.NativeNumericException.class,
                    () -> op.forwardBackward(w, 1, g));
            assertTrue(e.getMessage().contains("enmeshment: the sum of squared weights is not finite"), e.getMessage());
            float[] after = new float[4];
            g.get(after);
            assertArrayEquals(new float[] {5, 5, 5, 5}, after);
            op.close();
            assertThrows(IllegalStateException.class, () -> op.forward(w));
        }
    }

    @Test
    void enmeshmentKernelRejectsBadLabelsWithoutJavaChecks() {
        // The kernel's own checks: a status and a message naming the op and the source line.
        try (FloatPointer w = new FloatPointer(4).put(1, 2, 3, 4);
                IntPointer rl = new IntPointer(0, 1);
                IntPointer cl = new IntPointer(0, 7);
                DoublePointer c = new DoublePointer(1)) {
            int status = ModularKernels.cleave_enmeshment(w, rl, cl, 2, 2, 1, 2, 1.0f, null, c);
            assertEquals(dev.cleave.nativ.NativeStatus.INVALID_ARGUMENT.code(), status);
            String message = CpuKernels.cleave_last_error().getString();
            assertTrue(message.startsWith("enmeshment: column label 7 of column 1 is outside [0, 2)")
                    && message.contains("native/src/enmeshment.cpp:"), message);
            assertThrows(dev.cleave.nativ.NativeArgumentException.class, () -> CpuKernels.check(status));
        }
    }

    // ---- helpers ----

    private static double valueOf(int rows, int cols, int k, int[] rl, int[] cl, float[] w) {
        try (Enmeshment op = new Enmeshment(rows, cols, k, rl, cl)) {
            return op.forward(new FloatMatrix(rows, cols, w));
        }
    }

    static int[] labels(Labels kind, SplittableRandom rnd, int n, int k) {
        switch (kind) {
            case BALANCED:
                return BalancedPartition.labels(n, k);
            case SORTED_UNEVEN: // contiguous runs of random lengths, some clusters empty
                int[] sorted = randomLabels(rnd, n, k);
                java.util.Arrays.sort(sorted);
                return sorted;
            default:
                return randomLabels(rnd, n, k);
        }
    }

    static int[] randomLabels(SplittableRandom rnd, int n, int k) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(k);
        }
        return labels;
    }

    private static int[] permutation(SplittableRandom rnd, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static int[] map(int[] labels, int[] to) {
        int[] out = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            out[i] = to[labels[i]];
        }
        return out;
    }

    static double[] gaussian(SplittableRandom rnd, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextGaussian();
        }
        return v;
    }

    static float[] gaussianFloats(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static double maxAbs(double[] v) {
        double m = 0.0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        InvalidInputException e = assertThrows(InvalidInputException.class, call);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }
}
