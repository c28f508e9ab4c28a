package dev.cleave.train;

import dev.cleave.Tolerance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.JavaBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SpectralRegularizerTest {
    /** Eigenpairs of a small dense symmetric matrix by cyclic Jacobi rotations; eigenvalues descending. */
    static double[][] eigen(double[][] a0, double[] valuesOut) {
        int n = a0.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = a0[i].clone();
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += a[p][q] * a[p][q];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
        double[][] vectors = new double[n][n];
        for (int r = 0; r < n; r++) {
            valuesOut[r] = a[order[r]][order[r]];
            for (int i = 0; i < n; i++) {
                vectors[r][i] = v[i][order[r]];
            }
        }
        return vectors;
    }

    /** (lambda/k) * sum of Laplacian eigenvalues 2..k+1 of the network graph, and its eigenpairs. */
    static double regulariser(int[] widths, float[][] w, int k, float lambda, double[] muOut, double[][] vOut) {
        int[] off = SpectralRegularizer.offsets(widths);
        int n = off[widths.length];
        double[] d = SpectralRegularizer.degrees(widths, w);
        double[][] nm = new double[n][n];
        for (int l = 0; l < w.length; l++) {
            for (int i = 0; i < widths[l + 1]; i++) {
                for (int j = 0; j < widths[l]; j++) {
                    int a = off[l + 1] + i, b = off[l] + j;
                    double x = Math.abs(w[l][i * widths[l] + j]) / Math.sqrt(d[a] * d[b]);
                    nm[a][b] = x;
                    nm[b][a] = x;
                }
            }
        }
        double[] values = new double[n];
        double[][] vectors = eigen(nm, values);
        double sum = 0;
        for (int p = 1; p <= k; p++) {
            sum += 1 - values[p];
            if (muOut != null) {
                muOut[p - 1] = values[p];
                vOut[p - 1] = vectors[p];
            }
        }
        return lambda / (double) k * sum;
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        int[] widths = {3, 4, 4, 2};
        Random r = new Random(5);
        float[][] w = new float[3][];
        for (int l = 0; l < 3; l++) {
            w[l] = new float[widths[l] * widths[l + 1]];
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (float) (r.nextGaussian() + (r.nextBoolean() ? 0.3 : -0.3));
            }
        }
        int k = 3;
        float lambda = 0.7f;
        double[] mu = new double[k];
        double[][] v = new double[k][];
        double value = regulariser(widths, w, k, lambda, mu, v);
        float[][] g = new float[3][];
        for (int l = 0; l < 3; l++) {
            g[l] = new float[w[l].length];
        }
        assertEquals(value, SpectralRegularizer.addGradient(widths, w, mu, v, lambda, g), 1e-9);
        double h = 1e-3;
        for (int l = 0; l < 3; l++) {
            double[] numeric = new double[w[l].length];
            for (int i = 0; i < w[l].length; i++) {
                float keep = w[l][i];
                w[l][i] = (float) (keep + h);
                double up = regulariser(widths, w, k, lambda, null, null);
                w[l][i] = (float) (keep - h);
                double down = regulariser(widths, w, k, lambda, null, null);
                w[l][i] = keep;
                numeric[i] = (up - down) / (2 * h);
            }
            dev.cleave.Tolerance.assertClose("spectral gradient layer " + l, numeric, g[l], 2e-4, 2e-3);
        }
    }

    /** R of the network's canonical form. */
    private static double regulariserOfCanonical(int[] widths, float[][] w, float[][] b, int k, float lambda) {
        return regulariser(widths, new SpectralRegularizer.Canonical(widths, w, b).w, k, lambda, null, null);
    }

    @Test
    void gradientThroughTheCanonicalFormMatchesFiniteDifferences() {
        int[] widths = {3, 4, 5, 2};
        Random r = new Random(11);
        int layers = widths.length - 1;
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        for (int l = 0; l < layers; l++) {
            w[l] = new float[widths[l] * widths[l + 1]];
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (float) (r.nextGaussian() + (r.nextBoolean() ? 0.3 : -0.3)) * (1 + l);
            }
            b[l] = new float[widths[l + 1]];
            for (int i = 0; i < b[l].length; i++) {
                b[l][i] = (float) r.nextGaussian() * 0.5f;
            }
        }
        int k = 2;
        float lambda = 0.9f;
        double[] mu = new double[k];
        double[][] v = new double[k][];
        SpectralRegularizer.Canonical canon = new SpectralRegularizer.Canonical(widths, w, b);
        double value = regulariser(widths, canon.w, k, lambda, mu, v);
        float[][] g = new float[layers][];
        float[][] gb = new float[layers][];
        for (int l = 0; l < layers; l++) {
            g[l] = new float[w[l].length];
            gb[l] = new float[b[l].length];
        }
        assertEquals(value, SpectralRegularizer.addGradient(widths, canon.w, mu, v, lambda, g), 1e-9);
        canon.gradientBack(g, gb);
        double h = 1e-3;
        for (int l = 0; l < layers; l++) {
            for (float[][] param : new float[][][] {w, b}) {
                float[] x = param[l];
                double[] numeric = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    float keep = x[i];
                    x[i] = (float) (keep + h);
                    double up = regulariserOfCanonical(widths, w, b, k, lambda);
                    x[i] = (float) (keep - h);
                    double down = regulariserOfCanonical(widths, w, b, k, lambda);
                    x[i] = keep;
                    numeric[i] = (up - down) / (2 * h);
                }
                String what = (param == w ? "weight" : "bias") + " gradient through the canonical form, layer " + l;
                dev.cleave.Tolerance.assertClose(what, numeric, param == w ? g[l] : gb[l], 2e-4, 2e-3);
            }
        }
        // no component along any rescaling of a hidden unit: (w_i, b_i) . (g_i, gb_i) = w'_i . g'_i ...
        for (int l = 0; l + 1 < layers; l++) {
            int in = widths[l], out = widths[l + 1];
            for (int i = 0; i < out; i++) {
                double incoming = (double) b[l][i] * gb[l][i];
                for (int j = 0; j < in; j++) {
                    incoming += (double) w[l][i * in + j] * g[l][i * in + j];
                }
                double outgoing = 0;
                for (int o = 0; o < widths[l + 2]; o++) {
                    outgoing += (double) w[l + 1][o * out + i] * g[l + 1][o * out + i];
                }
                assertEquals(outgoing, incoming, 1e-6, "rescaling direction of unit " + i + " in layer " + l);
            }
        }
        // ... and none along a logit row's own scale
        int last = layers - 1;
        for (int o = 0; o < widths[layers]; o++) {
            double radial = (double) b[last][o] * gb[last][o];
            for (int j = 0; j < widths[last]; j++) {
                radial += (double) w[last][o * widths[last] + j] * g[last][o * widths[last] + j];
            }
            assertEquals(0, radial, 1e-6, "scale of logit row " + o);
        }
    }

    /**
     * The training step's path (eigenpairs of the half operator M, warm start, lift to N, the
     * canonical form and back; the refilled graph, and the general one after a weight turns 0)
     * against the dense reference: the same value and gradient.
     */
    @Test
    void trainingStepMatchesTheDenseReference() {
        int[] widths = {6, 5, 4, 3};
        try (Backend backend = new JavaBackend(); Mlp model = Mlp.glorotUniform(widths, 8);
                MlpPass pass = new MlpPass(backend, model, 4)) {
            Random r = new Random(6);
            for (int l = 0; l < model.layers(); l++) {
                for (int i = 0; i < model.bias(l).size(); i++) {
                    model.bias(l).buffer().put(i, (float) r.nextGaussian() * 0.2f);
                }
            }
            int k = 2;
            float lambda = 0.3f;
            SpectralLoss loss = new SpectralLoss(new SpectralOptions(lambda, k, SpectralOptions.Rescale.CANONICAL),
                    Device.cpu(1), 1, 3);
            for (int step = 0; step < 3; step++) { // the second step starts warm; the third has a zero weight
                if (step == 2) { // (the refilled graph's fallback to the general path)
                    model.weight(1).buffer().put(3, 0f);
                }
                float[][] w = SpectralRegularizer.weights(model);
                float[][] b = SpectralRegularizer.biases(model);
                float[][] before = new float[w.length][];
                float[][] beforeBias = new float[w.length][];
                for (int l = 0; l < w.length; l++) {
                    before[l] = pass.weightGrad(l).toArray();
                    beforeBias[l] = pass.biasGrad(l).toArray();
                }
                double value = loss.addGradients(model, pass);
                SpectralRegularizer.Canonical canon = new SpectralRegularizer.Canonical(widths, w, b);
                double[] mu = new double[k];
                double[][] v = new double[k][];
                assertEquals(regulariser(widths, canon.w, k, lambda, mu, v), value, 1e-7, "regulariser value");
                float[][] g = new float[w.length][];
                float[][] gb = new float[w.length][];
                for (int l = 0; l < w.length; l++) {
                    g[l] = new float[w[l].length];
                    gb[l] = new float[b[l].length];
                }
                SpectralRegularizer.addGradient(widths, canon.w, mu, v, lambda, g);
                canon.gradientBack(g, gb);
                for (int l = 0; l < w.length; l++) {
                    float[] after = pass.weightGrad(l).toArray();
                    float[] afterBias = pass.biasGrad(l).toArray();
                    double[] added = new double[after.length];
                    double[] addedBias = new double[afterBias.length];
                    for (int i = 0; i < after.length; i++) {
                        added[i] = after[i] - before[l][i];
                    }
                    for (int i = 0; i < afterBias.length; i++) {
                        addedBias[i] = afterBias[i] - beforeBias[l][i];
                    }
                    dev.cleave.Tolerance.assertClose("step " + step + " weight gradient, layer " + l, added, g[l], 1e-6, 1e-3);
                    dev.cleave.Tolerance.assertClose("step " + step + " bias gradient, layer " + l, addedBias, gb[l], 1e-6, 1e-3);
                }
            }
        }
    }

    @Test
    void rescalingLeavesOutputsUnchanged() {
        try (Backend backend = new JavaBackend(); Mlp model = Mlp.glorotUniform(new int[] {6, 5, 4, 3}, 2);
                MlpPass pass = new MlpPass(backend, model, 7)) {
            Random r = new Random(3);
            for (int i = 0; i < pass.input().size(); i++) {
                pass.input().buffer().put(i, r.nextFloat());
            }
            for (int l = 0; l < model.layers(); l++) {
                for (int i = 0; i < model.bias(l).size(); i++) {
                    model.bias(l).buffer().put(i, (float) r.nextGaussian() * 0.1f);
                }
            }
            float[] before = pass.forward(7, 0f, 0, 0).toArray();
            SpectralRegularizer.rescaleHiddenUnits(model);
            float[] after = pass.forward(7, 0f, 0, 0).toArray();
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i], after[i], 1e-5 * Math.max(1, Math.abs(before[i])), "logit " + i);
            }
            Tensor w0 = model.weight(0), b0 = model.bias(0);
            double norm = b0.get(0, 2) * b0.get(0, 2);
            for (int j = 0; j < w0.cols(); j++) {
                norm += w0.get(2, j) * w0.get(2, j);
            }
            assertEquals(2.0, norm, 1e-5, "incoming norm^2 of a hidden unit");
        }
    }
}
