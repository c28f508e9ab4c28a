package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cleave.nativ.SpectralKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The native block kernels' register-tiled gram and sub_mul give exactly the sums of their plain
 * form: for gram, per fixed row chunk (native/src/spectral_eigs.cpp chunk_rows) each entry
 * summed over the rows in order from zero, one fused multiply-add per row, then the chunks' partials
 * added in chunk order; for sub_mul, each element minus its products in order, one fused
 * multiply-add each. Shapes cover the 4 x 8 tiles and every tail.
 */
class BlockKernelBitsTest {
    private static double[] random(int count, SplittableRandom r) {
        double[] v = new double[count];
        for (int i = 0; i < count; i++) {
            v[i] = r.nextDouble() * 2 - 1;
        }
        return v;
    }

    private static long chunkRows(long n) {
        long chunks = Math.min(256, (n + 255) / 256);
        return (n + chunks - 1) / chunks;
    }

    private static double[] gramReference(int n, double[] x, int ldx, int a, double[] y, int ldy, int b) {
        long ch = chunkRows(n);
        long chunks = (n + ch - 1) / ch;
        double[] g = new double[a * b];
        for (long c = 0; c < chunks; c++) {
            double[] part = new double[a * b];
            for (long i = c * ch; i < Math.min(n, (c + 1) * ch); i++) {
                for (int r = 0; r < a; r++) {
                    for (int s = 0; s < b; s++) {
                        part[r * b + s] = Math.fma(x[(int) i * ldx + r], y[(int) i * ldy + s], part[r * b + s]);
                    }
                }
            }
            for (int e = 0; e < a * b; e++) {
                g[e] += part[e];
            }
        }
        return g;
    }

    @Test
    void gramAndSubMulEqualTheirPlainFormBitForBit() {
        SplittableRandom rnd = new SplittableRandom(15);
        for (int n : new int[] {7, 522, 4500}) { // 4500 x 16 x 16 runs on both threads
            for (int a : new int[] {1, 3, 4, 5, 8, 12, 16, 17}) {
                for (int b : new int[] {1, 3, 4, 7, 8, 9, 12, 15, 16, 17}) {
                    int ldx = a + 3;
                    int ldy = b + 1;
                    double[] x = random(n * ldx, rnd);
                    double[] y = random(n * ldy, rnd);
                    double[] g = new double[a * b];
                    assertEquals(0, SpectralKernels.cleave_block_gram(n, x, ldx, a, y, ldy, b, g, 2));
                    assertArrayEquals(gramReference(n, x, ldx, a, y, ldy, b), g, 0.0, "gram n " + n + " a " + a + " b " + b);

                    double[] want = y.clone();
                    for (int i = 0; i < n; i++) {
                        for (int s = 0; s < b; s++) {
                            double v = want[i * ldy + s];
                            for (int r = 0; r < a; r++) {
                                v = Math.fma(-x[i * ldx + r], g[r * b + s], v);
                            }
                            want[i * ldy + s] = v;
                        }
                    }
                    assertEquals(0, SpectralKernels.cleave_block_sub_mul(n, x, ldx, a, g, y, ldy, b, 2));
                    assertArrayEquals(want, y, 0.0, "sub_mul n " + n + " a " + a + " b " + b);
                }
            }
        }
    }
}
