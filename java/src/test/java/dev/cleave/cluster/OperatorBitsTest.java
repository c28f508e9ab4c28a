package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.SpectralKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The native op's dense application, bit for bit against a plain Java loop of the same
 * arithmetic: each output is s_r * (0 + the chain of FMAs over j of a_rj (s_j x_j)), j ascending.
 * Every column count from 4 to 28 runs, so 16-column row tiles, the panel tiles of the narrow rest
 * (4, 8, 12 columns, read from the mirror's transpose) and the row tiles of the rows after the
 * last whole panel all meet the reference; a block of 1024 rows (whose transpose the panel tiles
 * leave alone) too, on 1 and 2 threads.
 */
class OperatorBitsTest {
    private static void check(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = rows + cols;
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextInt(5) == 0 ? 0f : (float) r.nextDouble();
        }
        double[] scale = new double[n];
        for (int i = 0; i < n; i++) {
            scale[i] = 0.5 + 1.5 * r.nextDouble();
        }
        for (int c = 4; c <= 28; c += 4) {
            double[] x = new double[n * c];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextDouble() - 0.5;
            }
            double[] want = reference(a, rows, cols, scale, x, c);
            for (int threads = 1; threads <= 2; threads++) {
                double[] y = new double[n * c];
                SpectralKernels.SpectralOp h = new SpectralKernels.SpectralOp();
                CpuKernels.check(SpectralKernels.cleave_spectral_op_create(n, 0, scale, h));
                try {
                    // rows 0..cols-1 are side one, rows cols..n-1 side two: y[cols + i] += a_ij x[j], and the mirror
                    CpuKernels.check(SpectralKernels.cleave_spectral_op_add_dense(h, cols, rows, 0, cols, a, 1, threads));
                    CpuKernels.check(SpectralKernels.cleave_spectral_op_apply(h, SpectralKernels.N, x, y, c, threads));
                } finally {
                    SpectralKernels.cleave_spectral_op_free(h);
                }
                for (int i = 0; i < y.length; i++) {
                    if (Double.doubleToRawLongBits(y[i]) != Double.doubleToRawLongBits(want[i])) {
                        assertEquals(want[i], y[i], 0.0, rows + " x " + cols + ", " + c + " columns, " + threads
                                + " threads: row " + i / c + ", column " + i % c);
                    }
                }
            }
        }
    }

    /** N x for the block a (rows x cols) between nodes cols..n-1 and 0..cols-1, in the kernels' order. */
    private static double[] reference(float[] a, int rows, int cols, double[] s, double[] x, int c) {
        int n = rows + cols;
        double[] t = new double[n * c];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < c; k++) {
                t[i * c + k] = s[i] * x[i * c + k];
            }
        }
        double[] y = new double[n * c];
        for (int i = 0; i < rows; i++) { // y[cols + i] = s * sum_j a_ij t[j]
            for (int k = 0; k < c; k++) {
                double acc = 0.0;
                for (int j = 0; j < cols; j++) {
                    acc = Math.fma(a[i * cols + j], t[j * c + k], acc);
                }
                y[(cols + i) * c + k] = (0.0 + acc) * s[cols + i];
            }
        }
        for (int j = 0; j < cols; j++) { // y[j] = s * sum_i a_ij t[cols + i] (the mirror)
            for (int k = 0; k < c; k++) {
                double acc = 0.0;
                for (int i = 0; i < rows; i++) {
                    acc = Math.fma(a[i * cols + j], t[(cols + i) * c + k], acc);
                }
                y[j * c + k] = (0.0 + acc) * s[j];
            }
        }
        return y;
    }

    @Test
    void panelAndRowTilesGiveTheReferenceBits() {
        check(600, 500, 1); // 600 and 500 rows: whole 32- and 16-row panels, then row tiles for the rest
        check(37, 211, 2);  // fewer rows than one 32-row panel on one side
    }

    @Test
    void blocksOf1024RowsStayOnTheRowTilesWithTheSameBits() {
        check(1024, 40, 3);
    }
}
