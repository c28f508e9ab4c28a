package dev.cleave.nn;

import dev.cleave.util.Rng;

/**
 * The reference math of every op, in plain double-precision Java over arrays. It is what the
 * {@code java} backend runs, what gradient checks differentiate by finite differences, and
 * what native kernels are compared against. Written for clarity, not speed. Matrices are
 * row-major; a weight is (out x in).
 */
public final class Reference {
    private Reference() {}

    /** linear_forward: y = x w^T + b (b may be null), then ReLU if relu. */
    public static double[] linearForward(double[] x, double[] w, double[] b, int batch, int in, int out, boolean relu) {
        double[] y = new double[batch * out];
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < out; j++) {
                double s = b == null ? 0.0 : b[j];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[j * in + i];
                }
                y[r * out + j] = relu ? Math.max(s, 0.0) : s;
            }
        }
        return y;
    }

    /** Gradients of a linear layer; dyMasked is dL/d(pre-activation). */
    public record LinearGrads(double[] dx, double[] dw, double[] db, double[] dyMasked) {}

    /** linear_backward: see {@link Backend#linearBackward}. dx is null unless needDx. */
    public static LinearGrads linearBackward(double[] x, double[] w, double[] y, double[] dy, int batch, int in,
            int out, boolean relu, boolean needDx) {
        double[] d = dy.clone();
        if (relu) {
            for (int i = 0; i < d.length; i++) {
                if (!(y[i] > 0.0)) {
                    d[i] = 0.0;
                }
            }
        }
        double[] db = new double[out];
        double[] dw = new double[out * in];
        for (int r = 0; r < batch; r++) {
            for (int j = 0; j < out; j++) {
                double g = d[r * out + j];
                db[j] += g;
                for (int i = 0; i < in; i++) {
                    dw[j * in + i] += g * x[r * in + i];
                }
            }
        }
        double[] dx = null;
        if (needDx) {
            dx = new double[batch * in];
            for (int r = 0; r < batch; r++) {
                for (int j = 0; j < out; j++) {
                    double g = d[r * out + j];
                    for (int i = 0; i < in; i++) {
                        dx[r * in + i] += g * w[j * in + i];
                    }
                }
            }
        }
        return new LinearGrads(dx, dw, db, d);
    }

    /** Loss sum, correct count and dlogits of softmax cross-entropy. */
    public record Xent(double lossSum, int correct, double[] dlogits) {}

    /** softmax_xent: see {@link Backend#softmaxXent}. */
    public static Xent softmaxXent(double[] logits, int[] labels, int batch, int classes, double gradScale) {
        double loss = 0.0;
        int correct = 0;
        double[] d = new double[batch * classes];
        for (int r = 0; r < batch; r++) {
            int label = labels[r];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("softmax_xent: label " + label + " of row " + r + " is outside [0, " + classes + ")");
            }
            int arg = 0;
            double max = logits[r * classes];
            for (int j = 1; j < classes; j++) {
                if (logits[r * classes + j] > max) {
                    max = logits[r * classes + j];
                    arg = j;
                }
            }
            if (!Double.isFinite(max)) {
                throw new ArithmeticException("softmax_xent: row " + r + " has a non-finite logit (the network diverged: lower the learning rate)");
            }
            double sum = 0.0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(logits[r * classes + j] - max);
            }
            if (!Double.isFinite(sum)) {
                throw new ArithmeticException("softmax_xent: row " + r + " has a non-finite logit (the network diverged: lower the learning rate)");
            }
            loss += Math.log(sum) + max - logits[r * classes + label];
            if (arg == label) {
                correct++;
            }
            for (int j = 0; j < classes; j++) {
                d[r * classes + j] = Math.exp(logits[r * classes + j] - max) / sum * gradScale;
            }
            d[r * classes + label] -= gradScale;
        }
        return new Xent(loss, correct, d);
    }

    /** dropout_forward's mask: 1/(1-p) where {@link Rng#uniform}(seed, stream, i) >= p, else 0. */
    public static double[] dropoutMask(int n, float p, long seed, long stream) {
        double[] mask = new double[n];
        float keep = 1.0f / (1.0f - p);
        for (int i = 0; i < n; i++) {
            mask[i] = Rng.uniform(seed, stream, i) >= p ? keep : 0.0;
        }
        return mask;
    }

    /** weight_penalty's value: l1 sum|w| + l2 sum w^2. */
    public static double weightPenalty(double[] w, double l1, double l2) {
        double s1 = 0, s2 = 0;
        for (double v : w) {
            s1 += Math.abs(v);
            s2 += v * v;
        }
        return l1 * s1 + l2 * s2;
    }

    /** weight_penalty's gradient: l1 sign(w) + 2 l2 w. */
    public static double[] weightPenaltyGrad(double[] w, double l1, double l2) {
        double[] g = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            g[i] = l1 * Math.signum(w[i]) + 2 * l2 * w[i];
        }
        return g;
    }

    /** adam_update, in place on w, m, v; with a mask (may be null) w is set to 0 where the mask is 0. */
    public static void adamUpdate(double[] w, double[] g, double[] m, double[] v, double[] mask, double lr,
            double beta1, double beta2, double eps, long step) {
        double c1 = 1 - Math.pow(beta1, step);
        double c2 = 1 - Math.pow(beta2, step);
        for (int i = 0; i < w.length; i++) {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            w[i] -= lr / c1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(c2) + eps);
            if (mask != null && mask[i] == 0.0) {
                w[i] = 0.0;
            }
        }
    }

    /** prune_mask: 0 for the round(sparsity * n) smallest |w| (ties: lower index first), else 1. */
    public static double[] pruneMask(double[] w, double sparsity) {
        int n = w.length;
        long drop = Math.round(sparsity * n);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> {
            int c = Double.compare(Math.abs(w[a]), Math.abs(w[b]));
            return c != 0 ? c : Integer.compare(a, b);
        });
        double[] mask = new double[n];
        java.util.Arrays.fill(mask, 1.0);
        for (int r = 0; r < drop; r++) {
            mask[order[r]] = 0.0;
        }
        return mask;
    }
}
