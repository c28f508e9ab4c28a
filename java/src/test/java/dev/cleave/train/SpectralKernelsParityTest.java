package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nn.CpuBackend;
import dev.cleave.util.InvalidInputException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The native kernels of the spectral regulariser (spectral_canonical,
 * spectral_canonical_backward, spectral_gradient in libcleave_cpu) against their Java reference
 * ({@link SpectralRegularizer}): bit-identical on awkward shapes (one layer, width-1 layers,
 * odd widths, a layer past the parallel threshold), with zero weights, a dead hidden unit and a
 * dead logit row, for 1 and 3 threads.
 */
class SpectralKernelsParityTest {
    private static final int[][] SHAPES = {{7, 5, 4, 3}, {1, 1}, {3, 9, 2}, {5, 1, 6, 2}, {300, 257, 17, 10}};

    private static int[] offsets(int[] widths, boolean biases) {
        int[] off = new int[widths.length];
        for (int l = 0; l + 1 < widths.length; l++) {
            off[l + 1] = off[l] + widths[l + 1] * (biases ? 1 : widths[l]);
        }
        return off;
    }

    private static float[] pack(float[][] layers) {
        int n = 0;
        for (float[] a : layers) {
            n += a.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] a : layers) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    private static float[] layer(float[] packed, int[] off, int l) {
        return java.util.Arrays.copyOfRange(packed, off[l], off[l + 1]);
    }

    /** Random weights and biases with zeros, a dead hidden unit (row and bias 0) and a dead logit row. */
    private static float[][][] network(int[] widths, long seed) {
        Random r = new Random(seed);
        int layers = widths.length - 1;
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        for (int l = 0; l < layers; l++) {
            int in = widths[l], out = widths[l + 1];
            w[l] = new float[in * out];
            b[l] = new float[out];
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = r.nextInt(7) == 0 ? 0f : (float) r.nextGaussian();
            }
            for (int i = 0; i < out; i++) {
                b[l][i] = (float) r.nextGaussian() * 0.3f;
            }
            if (out > 2) { // the last unit of the layer is dead
                java.util.Arrays.fill(w[l], (out - 1) * in, out * in, 0f);
                b[l][out - 1] = 0f;
            }
        }
        return new float[][][] {w, b};
    }

    @Test
    void nativeKernelsMatchTheReferenceBitForBit() {
        for (int threads : new int[] {1, 3}) {
            try (CpuBackend cpu = new CpuBackend(threads)) {
                for (int s = 0; s < SHAPES.length; s++) {
                    int[] widths = SHAPES[s];
                    int layers = widths.length - 1;
                    String what = "widths " + java.util.Arrays.toString(widths) + ", " + threads + " threads";
                    float[][][] net = network(widths, 40 + s);
                    float[][] w = net[0], b = net[1];
                    int[] woff = offsets(widths, false), boff = offsets(widths, true);

                    // canonical form
                    SpectralRegularizer.Canonical canon = new SpectralRegularizer.Canonical(widths, w, b);
                    float[] pw = pack(w), pb = pack(b);
                    float[] cw = new float[pw.length], cb = new float[pb.length];
                    double[] factors = new double[Math.max(1, boff[layers - 1])];
                    CpuKernels.check(CpuKernels.cleave_spectral_canonical(widths, layers, pw, pb, cw, cb, factors));
                    for (int l = 0; l < layers; l++) {
                        assertArrayEquals(canon.w[l], layer(cw, woff, l), 0f, what + ": canonical weights of layer " + l);
                        assertArrayEquals(canon.b[l], layer(cb, boff, l), 0f, what + ": canonical biases of layer " + l);
                    }

                    // eigenvalue gradient on the canonical weights, with made-up eigenpairs
                    int k = 2;
                    int nodes = 0;
                    for (int width : widths) {
                        nodes += width;
                    }
                    Random r = new Random(7 + s);
                    double[] mu = {0.9, 0.7};
                    double[][] v = new double[k][nodes];
                    double[] pv = new double[k * nodes];
                    for (int p = 0; p < k; p++) {
                        for (int a = 0; a < nodes; a++) {
                            v[p][a] = r.nextGaussian() / Math.sqrt(nodes);
                            pv[p * nodes + a] = v[p][a];
                        }
                    }
                    float[][] g = new float[layers][];
                    float[][] gb = new float[layers][];
                    for (int l = 0; l < layers; l++) {
                        g[l] = new float[w[l].length];
                        for (int i = 0; i < g[l].length; i++) {
                            g[l][i] = (float) r.nextGaussian(); // the gradient is added to what is there
                        }
                        gb[l] = new float[b[l].length];
                    }
                    float[] pg = pack(g);
                    SpectralRegularizer.addGradient(widths, canon.w, mu, v, 0.3f, g);
                    CpuKernels.check(CpuKernels.cleave_spectral_gradient(widths, layers, cw, k, mu, pv, 0.3f, pg));
                    for (int l = 0; l < layers; l++) {
                        assertArrayEquals(g[l], layer(pg, woff, l), 0f, what + ": spectral gradient of layer " + l);
                    }

                    // back through the canonical form
                    float[] pgb = new float[pb.length];
                    for (int l = 0; l < layers; l++) {
                        for (int i = 0; i < gb[l].length; i++) {
                            gb[l][i] = (float) r.nextGaussian();
                        }
                        System.arraycopy(gb[l], 0, pgb, boff[l], gb[l].length);
                    }
                    canon.gradientBack(g, gb);
                    CpuKernels.check(CpuKernels.cleave_spectral_canonical_backward(widths, layers, pw, pb, factors, pg, pgb));
                    for (int l = 0; l < layers; l++) {
                        assertArrayEquals(g[l], layer(pg, woff, l), 0f, what + ": weight gradient of layer " + l);
                        assertArrayEquals(gb[l], layer(pgb, boff, l), 0f, what + ": bias gradient of layer " + l);
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsAreRejectedNatively() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            float[] w = new float[6], b = new float[3];
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> CpuKernels.check(
                    CpuKernels.cleave_spectral_gradient(new int[] {2, 0}, 1, w, 1, new double[1], new double[2], 0.1f, w)));
            assertTrue(e.getMessage().contains("spectral_gradient") && e.getMessage().contains("width 1 is 0"), e.getMessage());
            e = assertThrows(InvalidInputException.class, () -> CpuKernels.check(
                    CpuKernels.cleave_spectral_canonical(new int[] {2, 3}, 0, w, b, w, b, new double[1])));
            assertTrue(e.getMessage().contains("spectral_canonical") && e.getMessage().contains("layers"), e.getMessage());
        }
    }
}
