package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.SpectralKernels;
import dev.cleave.util.InvalidInputException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The native op's dense blocks are checked, copied and transposed on several threads above 2^18
 * entries: the same operator whatever the thread count, and the first bad entry named.
 */
class NativeOperatorCopyTest {
    private static final int ROWS = 600;
    private static final int COLS = 500; // 300000 entries: the threaded copy

    private static SpectralKernels.SpectralOp op(float[] a, int threads) {
        double[] scale = new double[ROWS + COLS];
        Arrays.fill(scale, 1.0);
        SpectralKernels.SpectralOp h = new SpectralKernels.SpectralOp();
        CpuKernels.check(SpectralKernels.cleave_spectral_op_create(ROWS + COLS, 0, scale, h));
        try {
            CpuKernels.check(SpectralKernels.cleave_spectral_op_add_dense(h, COLS, ROWS, 0, COLS, a, 1, threads));
        } catch (RuntimeException e) {
            SpectralKernels.cleave_spectral_op_free(h);
            throw e;
        }
        return h;
    }

    @Test
    void mirroredBlockAppliesTheSameOnOneAndTwoThreads() {
        SplittableRandom r = new SplittableRandom(4);
        float[] a = new float[ROWS * COLS];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextDouble();
        }
        double[] x = new double[(ROWS + COLS) * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble() - 0.5;
        }
        double[][] y = new double[2][x.length];
        for (int t = 1; t <= 2; t++) {
            SpectralKernels.SpectralOp h = op(a, t);
            try {
                CpuKernels.check(SpectralKernels.cleave_spectral_op_apply(h, SpectralKernels.N, x, y[t - 1], 4, 1));
            } finally {
                SpectralKernels.cleave_spectral_op_free(h);
            }
        }
        assertArrayEquals(y[0], y[1]);
        // the mirror (rows 0..COLS-1 <- a^T x[COLS..]): column 7 of a against x's last rows
        double s = 0;
        for (int i = 0; i < ROWS; i++) {
            s += a[i * COLS + 7] * x[(COLS + i) * 4];
        }
        assertTrue(Math.abs(s - y[1][7 * 4]) <= 1e-9 * Math.max(1, Math.abs(s)), s + " vs " + y[1][7 * 4]);
    }

    @Test
    void theFirstBadEntryIsNamedWhateverTheThreads() {
        float[] a = new float[ROWS * COLS];
        Arrays.fill(a, 0.5f);
        a[123456] = -1f;
        a[200000] = Float.NaN;
        a[299999] = -2f;
        for (int t = 1; t <= 2; t++) {
            int threads = t;
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> op(a, threads));
            assertTrue(e.getMessage().contains("dense entry 123456 = -1 must be finite and >= 0"), e.getMessage());
        }
    }
}
