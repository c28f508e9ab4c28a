package dev.cleave.train;

import dev.cleave.nn.Mlp;

/**
 * The math of F21's spectral regulariser, given the eigenpairs: the network graph has a node per
 * neuron and an edge of weight |w| per weight between consecutive layers; with degrees d and
 * N = D^-1/2 A D^-1/2, an eigenpair (mu, v) of N gives the Laplacian eigenvalue 1 - mu, and for
 * the edge e = (a, b) of weight |w|:
 *
 * <pre>
 *   d mu / d|w| = 2 u_a u_b - mu (v_a^2 / d_a + v_b^2 / d_b),   u = D^-1/2 v
 * </pre>
 *
 * (the first term through A, the second through the two degrees). The regulariser
 * (lambda / k) * sum over p of (1 - mu_p) therefore adds, for each weight,
 * -(lambda / k) sign(w) * sum_p d mu_p / d|w| to its gradient. Nodes of degree 0 carry no
 * eigenvector mass and are skipped.
 */
final class SpectralRegularizer {
    private SpectralRegularizer() {}

    /** Node index offsets: layer l's neurons are nodes offsets[l] .. offsets[l+1]-1. */
    static int[] offsets(int[] widths) {
        int[] off = new int[widths.length + 1];
        for (int l = 0; l < widths.length; l++) {
            off[l + 1] = off[l] + widths[l];
        }
        return off;
    }

    /** Degrees of every node: sums of |w| over its edges. */
    static double[] degrees(int[] widths, float[][] weights) {
        int[] off = offsets(widths);
        double[] d = new double[off[widths.length]];
        for (int l = 0; l < weights.length; l++) {
            int in = widths[l], out = widths[l + 1];
            float[] w = weights[l];
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < in; j++) {
                    double a = Math.abs(w[i * in + j]);
                    d[off[l + 1] + i] += a;
                    d[off[l] + j] += a;
                }
            }
        }
        return d;
    }

    /**
     * The regulariser's value (lambda / k) * sum_p (1 - mu_p) for the given non-trivial
     * eigenpairs (mu[p], unit vectors[p] over all nodes), and its gradient ADDED into
     * {@code grads[l]} (each out x in, like the weights).
     */
    static double addGradient(int[] widths, float[][] weights, double[] mu, double[][] vectors, float lambda,
            float[][] grads) {
        int k = mu.length;
        int[] off = offsets(widths);
        double[] d = degrees(widths, weights);
        int n = d.length;
        double[][] u = new double[k][n];
        double[] r = new double[n];
        for (int p = 0; p < k; p++) {
            for (int a = 0; a < n; a++) {
                if (d[a] > 0) {
                    u[p][a] = vectors[p][a] / Math.sqrt(d[a]);
                    r[a] += mu[p] * vectors[p][a] * vectors[p][a] / d[a];
                }
            }
        }
        double scale = -(double) lambda / k;
        for (int l = 0; l < weights.length; l++) {
            int in = widths[l], out = widths[l + 1];
            float[] w = weights[l];
            float[] g = grads[l];
            for (int i = 0; i < out; i++) {
                int a = off[l + 1] + i;
                for (int j = 0; j < in; j++) {
                    int b = off[l] + j;
                    float wij = w[i * in + j];
                    if (wij == 0f) {
                        continue; // |w| has no derivative at 0; pruned weights stay put
                    }
                    double dmu = -(r[a] + r[b]);
                    for (int p = 0; p < k; p++) {
                        dmu += 2 * u[p][a] * u[p][b];
                    }
                    g[i * in + j] += (float) (scale * Math.signum(wij) * dmu);
                }
            }
        }
        double value = 0;
        for (double m : mu) {
            value += 1 - m;
        }
        return lambda / (double) k * value;
    }

    /**
     * Rescales every hidden unit so its incoming weights and bias have norm sqrt(2), dividing its
     * outgoing weights by the same factor: ReLU is positively homogeneous, so the network computes
     * the same function, and the regulariser cannot lower eigenvalues by rescaling alone.
     */
    static void rescaleHiddenUnits(Mlp model) {
        double target = Math.sqrt(2);
        float[] w = model.weight(0).toArray();
        for (int l = 0; l + 1 < model.layers(); l++) {
            int out = model.weight(l).rows(), in = model.weight(l).cols();
            float[] b = model.bias(l).toArray();
            float[] next = model.weight(l + 1).toArray();
            for (int i = 0; i < out; i++) {
                double norm = (double) b[i] * b[i];
                for (int j = 0; j < in; j++) {
                    norm += (double) w[i * in + j] * w[i * in + j];
                }
                norm = Math.sqrt(norm);
                if (norm == 0) {
                    continue; // a dead unit stays dead
                }
                float s = (float) (target / norm);
                for (int j = 0; j < in; j++) {
                    w[i * in + j] *= s;
                }
                b[i] *= s;
                for (int o = 0; o < next.length / out; o++) {
                    next[o * out + i] /= s;
                }
            }
            model.weight(l).copyFrom(w);
            model.bias(l).copyFrom(b);
            w = next;
        }
        model.weight(model.layers() - 1).copyFrom(w);
    }
}
