package dev.cleave.train;

import dev.cleave.nn.Mlp;
import java.util.stream.IntStream;

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
            int in = widths[l], out = widths[l + 1], src = off[l];
            float[] w = weights[l];
            for (int i = 0; i < out; i++) {
                double row = 0;
                for (int j = 0; j < in; j++) {
                    double a = Math.abs(w[i * in + j]);
                    row += a;
                    d[src + j] += a;
                }
                d[off[l + 1] + i] += row;
            }
        }
        return d;
    }

    /**
     * The regulariser's value (lambda / k) * sum_p (1 - mu_p) for the given non-trivial
     * eigenpairs (mu[p], unit vectors[p] over all nodes), and its gradient ADDED into
     * {@code grads[l]} (each out x in, like the weights). Rows are processed in parallel (each
     * gradient entry is written by one task: the result does not depend on the thread count).
     */
    static double addGradient(int[] widths, float[][] weights, double[] mu, double[][] vectors, float lambda,
            float[][] grads) {
        int k = mu.length;
        int[] off = offsets(widths);
        double[] d = degrees(widths, weights);
        int n = d.length;
        double[][] u = new double[k][n]; // u_p[a] = v_p[a] / sqrt(d_a)
        double[] r = new double[n];       // sum_p mu_p v_p[a]^2 / d_a
        for (int a = 0; a < n; a++) {
            if (d[a] > 0) {
                double inv = 1 / Math.sqrt(d[a]);
                for (int p = 0; p < k; p++) {
                    u[p][a] = vectors[p][a] * inv;
                    r[a] += mu[p] * vectors[p][a] * vectors[p][a] / d[a];
                }
            }
        }
        double scale = -(double) lambda / k;
        for (int l = 0; l < weights.length; l++) {
            int in = widths[l], dst = off[l + 1], src = off[l];
            float[] w = weights[l];
            float[] g = grads[l];
            IntStream.range(0, widths[l + 1]).parallel().forEach(i -> {
                int a = dst + i;
                double[] dmu = new double[in]; // d mu / d|w_ij| summed over p, for the row's j
                for (int j = 0; j < in; j++) {
                    dmu[j] = -(r[a] + r[src + j]);
                }
                for (int p = 0; p < k; p++) {
                    double ua = 2 * u[p][a];
                    double[] up = u[p];
                    for (int j = 0; j < in; j++) {
                        dmu[j] += ua * up[src + j];
                    }
                }
                for (int j = 0; j < in; j++) {
                    float wij = w[i * in + j]; // |w| has no derivative at 0: signum 0 keeps pruned weights put
                    g[i * in + j] += (float) (scale * Math.signum(wij) * dmu[j]);
                }
            });
        }
        double value = 0;
        for (double m : mu) {
            value += 1 - m;
        }
        return lambda / (double) k * value;
    }

    /** Host copies of the model's weights (out x in per layer), first layer first. */
    static float[][] weights(Mlp model) {
        float[][] w = new float[model.layers()][];
        for (int l = 0; l < w.length; l++) {
            w[l] = model.weight(l).toArray();
        }
        return w;
    }

    /** Host copies of the model's biases, first layer first. */
    static float[][] biases(Mlp model) {
        float[][] b = new float[model.layers()][];
        for (int l = 0; l < b.length; l++) {
            b[l] = model.bias(l).toArray();
        }
        return b;
    }

    /**
     * F21's rescaling, in the model: every hidden unit's incoming weights and bias to norm
     * sqrt(2), its outgoing weights divided by the same factor. ReLU is positively homogeneous,
     * so the network computes the same function.
     */
    static void rescaleHiddenUnits(Mlp model) {
        float[][] w = weights(model);
        float[][] b = biases(model);
        for (int l = 0; l + 1 < w.length; l++) {
            rescaleLayer(model.widths(), w, b, l);
        }
        for (int l = 0; l < w.length; l++) {
            model.weight(l).copyFrom(w[l]);
            model.bias(l).copyFrom(b[l]);
        }
    }

    /**
     * One step of the rescaling on plain arrays (w[l]: out x in, b[l]: out), in place: the units
     * of hidden layer l, compensated on w[l + 1]. The steps run first layer to last, so each
     * layer's compensation is part of the next layer's incoming weights when that layer is
     * rescaled, and all the scale ends up in the logit layer. Returns each unit's factor
     * sqrt(2) / |(w_i, b_i)|, 0 for a dead unit (all zero), which stays as it is.
     */
    static double[] rescaleLayer(int[] widths, float[][] w, float[][] b, int l) {
        int in = widths[l], out = widths[l + 1], after = widths[l + 2];
        double[] factors = new double[out];
        for (int i = 0; i < out; i++) {
            double norm = Math.sqrt(incomingNormSquared(w[l], b[l], in, i));
            if (norm == 0) {
                continue;
            }
            double f = Math.sqrt(2) / norm;
            factors[i] = f;
            for (int j = 0; j < in; j++) {
                w[l][i * in + j] = (float) (w[l][i * in + j] * f);
            }
            b[l][i] = (float) (b[l][i] * f);
        }
        float[] next = w[l + 1];
        for (int o = 0; o < after; o++) { // the compensation, row by row of the next layer
            for (int i = 0; i < out; i++) {
                if (factors[i] != 0) {
                    next[o * out + i] = (float) (next[o * out + i] / factors[i]);
                }
            }
        }
        return factors;
    }

    private static double incomingNormSquared(float[] w, float[] b, int in, int i) {
        double norm = (double) b[i] * b[i];
        for (int j = 0; j < in; j++) {
            norm += (double) w[i * in + j] * w[i * in + j];
        }
        return norm;
    }

    /**
     * The logit layer as the regulariser sees it: each row (a logit's incoming weights and bias)
     * scaled to norm sqrt(2), like the hidden units. The network itself keeps its logit layer
     * (softmax is not scale-invariant), but a regulariser that saw its scale could lower its
     * eigenvalues by making that layer heavier than the rest, a cluster of its own: the one
     * scaling cheat the hidden-unit rescaling leaves open. Returns the scaled copy of w[last].
     */
    private static float[] normalizedLogitRows(int[] widths, float[][] w, float[][] b) {
        int last = w.length - 1;
        int in = widths[last], out = widths[last + 1];
        float[] scaled = w[last].clone();
        for (int o = 0; o < out; o++) {
            double norm = Math.sqrt(incomingNormSquared(w[last], b[last], in, o));
            if (norm == 0) {
                continue;
            }
            double s = Math.sqrt(2) / norm;
            for (int j = 0; j < in; j++) {
                scaled[o * in + j] = (float) (w[last][o * in + j] * s);
            }
        }
        return scaled;
    }

    /**
     * The adjoint of {@link #normalizedLogitRows}: turns the gradient with respect to the scaled
     * logit rows (gw[last]; their bias gradient is gb[last]) into the gradient with respect to the
     * network's own logit weights and biases, in place: per row r = (w_o, b_o),
     * g = (sqrt 2 / |r|) (g' - r^ (r^ . g')), r^ = r / |r|.
     */
    private static void throughLogitNormalization(int[] widths, float[][] w, float[][] b, float[][] gw, float[][] gb) {
        int last = w.length - 1;
        int in = widths[last], out = widths[last + 1];
        for (int o = 0; o < out; o++) {
            double norm2 = incomingNormSquared(w[last], b[last], in, o);
            if (norm2 == 0) {
                continue;
            }
            double dot = (double) b[last][o] * gb[last][o];
            for (int j = 0; j < in; j++) {
                dot += (double) w[last][o * in + j] * gw[last][o * in + j];
            }
            double radial = dot / norm2;
            double s = Math.sqrt(2 / norm2);
            for (int j = 0; j < in; j++) {
                gw[last][o * in + j] = (float) (s * (gw[last][o * in + j] - radial * w[last][o * in + j]));
            }
            gb[last][o] = (float) (s * (gb[last][o] - radial * b[last][o]));
        }
    }

    /**
     * A network's canonical form as the regulariser sees it, and the way back for gradients:
     * every hidden unit rescaled to incoming norm sqrt(2) with the compensation on its outgoing
     * weights (F21's rescaling: the same function), then the logit rows scaled to norm sqrt(2)
     * ({@link #normalizedLogitRows}). A regulariser of the canonical form, R(canon(theta)), is
     * invariant to every rescaling of hidden units and to the scale of each logit row, so no
     * optimizer step can lower it by rescaling; the network itself is never changed.
     */
    static final class Canonical {
        /** The canonical weights (out x in per layer) and biases. */
        final float[][] w;
        final float[][] b;
        private final int[] widths;
        private final float[][] original;    // the weights given (w[l + 1] is what step l compensates)
        private final float[][] biases;      // the biases given (step l rescales b[l] from these)
        private final float[][] stepInput;   // w[l] as hidden rescaling step l saw it
        private final float[] logitRescaled; // the logit layer after the hidden steps, before its rows were scaled
        private final double[][] t;          // step l's factor per unit (0: not rescaled)

        Canonical(int[] widths, float[][] w0, float[][] b0) {
            this.widths = widths;
            int layers = w0.length;
            w = new float[layers][];
            b = new float[layers][];
            original = new float[layers][];
            biases = new float[layers][];
            for (int l = 0; l < layers; l++) {
                w[l] = w0[l].clone();
                b[l] = b0[l].clone();
                original[l] = w0[l].clone();
                biases[l] = b0[l].clone();
            }
            stepInput = new float[layers - 1][];
            t = new double[layers - 1][];
            for (int l = 0; l + 1 < layers; l++) {
                stepInput[l] = w[l].clone();
                t[l] = rescaleLayer(widths, w, b, l);
            }
            logitRescaled = w[layers - 1];
            w[layers - 1] = normalizedLogitRows(widths, w, b);
        }

        /**
         * Turns the gradient of R with respect to the canonical weights ({@code gw}; {@code gb}
         * zero or R's bias gradient) into its gradient with respect to the original weights and
         * biases, in place: the adjoints of the logit-row scaling, then of the hidden rescaling
         * steps, last to first. For step l and unit i, with u its incoming weights and bias as the
         * step saw them, v its outgoing weights, t = sqrt(2) / |u| and u^ = u / |u|:
         * g_u = t (g'_u - u^ (u^ . g'_u)) + u^ (v . g'_v) / (t |u|) and g_v = g'_v / t.
         */
        void gradientBack(float[][] gw, float[][] gb) {
            int layers = w.length;
            float[][] before = w.clone();
            before[layers - 1] = logitRescaled;
            throughLogitNormalization(widths, before, b, gw, gb);
            for (int l = layers - 2; l >= 0; l--) {
                int in = widths[l], out = widths[l + 1], after = widths[l + 2];
                float[] u = stepInput[l];
                float[] ub = biases[l];
                float[] v = original[l + 1];
                double[] f = t[l];
                double[] vg = new double[out]; // v_i . g'_v for every unit, then g_v = g'_v / t
                double[] inv = new double[out];
                for (int i = 0; i < out; i++) {
                    inv[i] = f[i] == 0 ? 1 : 1 / f[i]; // a dead unit was not rescaled
                }
                float[] gNext = gw[l + 1];
                for (int o = 0; o < after; o++) {
                    int row = o * out;
                    for (int i = 0; i < out; i++) {
                        vg[i] += (double) v[row + i] * gNext[row + i];
                        gNext[row + i] = (float) (gNext[row + i] * inv[i]);
                    }
                }
                for (int i = 0; i < out; i++) {
                    if (f[i] == 0) {
                        continue;
                    }
                    double norm2 = incomingNormSquared(u, ub, in, i);
                    double ug = (double) ub[i] * gb[l][i];
                    for (int j = 0; j < in; j++) {
                        ug += (double) u[i * in + j] * gw[l][i * in + j];
                    }
                    double radial = ug / norm2;            // (u^ . g'_u) / |u|
                    double back = vg[i] / (f[i] * norm2);  // (v . g'_v) / (t |u|^2)
                    for (int j = 0; j < in; j++) {
                        gw[l][i * in + j] = (float) (f[i] * (gw[l][i * in + j] - radial * u[i * in + j]) + back * u[i * in + j]);
                    }
                    gb[l][i] = (float) (f[i] * (gb[l][i] - radial * ub[i]) + back * ub[i]);
                }
            }
        }
    }
}
