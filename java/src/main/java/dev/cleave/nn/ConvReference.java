package dev.cleave.nn;

/**
 * The reference math of the convolutional ops (conv2d, maxpool2d, batchnorm2d), in plain
 * double-precision Java over NCHW arrays, next to {@link Reference}: what the {@code java}
 * backend runs, what the gradient checks differentiate and what the native kernels are compared
 * against. Written for clarity, not speed. Layouts as PyTorch: x[n][c][h][w], conv weight
 * w[out][in][kh][kw].
 */
public final class ConvReference {
    private ConvReference() {}

    /** PyTorch's defaults for batchnorm2d. */
    public static final double BATCHNORM_EPS = 1e-5, BATCHNORM_MOMENTUM = 0.1;

    /**
     * conv2d_forward: y[n][o][oh][ow] = b[o] + sum_{i,kh,kw} w[o][i][kh][kw] x[n][i][oh s - p + kh][ow s - p + kw]
     * (zero outside the image), then ReLU if relu. b may be null.
     */
    public static double[] conv2dForward(Conv2dShape s, double[] x, double[] w, double[] b, boolean relu) {
        int oh = s.outHeight(), ow = s.outWidth(), k = s.kernel();
        double[] y = new double[s.batch() * s.outSize()];
        for (int n = 0; n < s.batch(); n++) {
            for (int o = 0; o < s.outChannels(); o++) {
                for (int r = 0; r < oh; r++) {
                    for (int c = 0; c < ow; c++) {
                        double sum = b == null ? 0.0 : b[o];
                        for (int i = 0; i < s.inChannels(); i++) {
                            for (int kh = 0; kh < k; kh++) {
                                int ih = r * s.stride() - s.padding() + kh;
                                if (ih < 0 || ih >= s.height()) {
                                    continue;
                                }
                                for (int kw = 0; kw < k; kw++) {
                                    int iw = c * s.stride() - s.padding() + kw;
                                    if (iw < 0 || iw >= s.width()) {
                                        continue;
                                    }
                                    sum += w[((o * s.inChannels() + i) * k + kh) * k + kw]
                                            * x[((n * s.inChannels() + i) * s.height() + ih) * s.width() + iw];
                                }
                            }
                        }
                        y[((n * s.outChannels() + o) * oh + r) * ow + c] = relu ? Math.max(sum, 0.0) : sum;
                    }
                }
            }
        }
        return y;
    }

    /** Gradients of a conv2d layer; dyMasked is dL/d(pre-activation); dx is null unless asked for. */
    public record Conv2dGrads(double[] dx, double[] dw, double[] db, double[] dyMasked) {}

    /**
     * conv2d_backward: with relu, dy is masked by (y > 0) first; db[o] = sum of dy over n, oh, ow;
     * dw = the correlation of dy with x; dx = the transposed convolution of dy with w.
     */
    public static Conv2dGrads conv2dBackward(Conv2dShape s, double[] x, double[] w, double[] y, double[] dy, boolean relu,
            boolean needDx) {
        double[] d = dy.clone();
        if (relu) {
            for (int i = 0; i < d.length; i++) {
                if (!(y[i] > 0.0)) {
                    d[i] = 0.0;
                }
            }
        }
        int oh = s.outHeight(), ow = s.outWidth(), k = s.kernel();
        double[] db = new double[s.outChannels()];
        double[] dw = new double[s.outChannels() * s.patchSize()];
        double[] dx = needDx ? new double[s.batch() * s.inSize()] : null;
        for (int n = 0; n < s.batch(); n++) {
            for (int o = 0; o < s.outChannels(); o++) {
                for (int r = 0; r < oh; r++) {
                    for (int c = 0; c < ow; c++) {
                        double g = d[((n * s.outChannels() + o) * oh + r) * ow + c];
                        db[o] += g;
                        for (int i = 0; i < s.inChannels(); i++) {
                            for (int kh = 0; kh < k; kh++) {
                                int ih = r * s.stride() - s.padding() + kh;
                                if (ih < 0 || ih >= s.height()) {
                                    continue;
                                }
                                for (int kw = 0; kw < k; kw++) {
                                    int iw = c * s.stride() - s.padding() + kw;
                                    if (iw < 0 || iw >= s.width()) {
                                        continue;
                                    }
                                    int wi = ((o * s.inChannels() + i) * k + kh) * k + kw;
                                    int xi = ((n * s.inChannels() + i) * s.height() + ih) * s.width() + iw;
                                    dw[wi] += g * x[xi];
                                    if (dx != null) {
                                        dx[xi] += g * w[wi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Conv2dGrads(dx, dw, db, d);
    }

    /** maxpool2d_forward's result: y and, per output, the index ih * width + iw of its maximum within its plane. */
    public record MaxPool(double[] y, int[] argmax) {}

    /**
     * maxpool2d_forward: each output is the maximum of its window; the first maximum in row-major
     * window order wins ties, and a NaN in the window wins over numbers (as in PyTorch).
     */
    public static MaxPool maxpool2dForward(Pool2dShape s, double[] x) {
        int oh = s.outHeight(), ow = s.outWidth();
        double[] y = new double[s.batch() * s.outSize()];
        int[] arg = new int[y.length];
        for (int p = 0; p < s.batch() * s.channels(); p++) {
            for (int r = 0; r < oh; r++) {
                for (int c = 0; c < ow; c++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int at = (r * s.stride()) * s.width() + c * s.stride();
                    boolean first = true;
                    for (int kh = 0; kh < s.kernel(); kh++) {
                        for (int kw = 0; kw < s.kernel(); kw++) {
                            int idx = (r * s.stride() + kh) * s.width() + c * s.stride() + kw;
                            double v = x[p * s.height() * s.width() + idx];
                            if (first || v > best || (Double.isNaN(v) && !Double.isNaN(best))) {
                                best = v;
                                at = idx;
                                first = false;
                            }
                        }
                    }
                    y[(p * oh + r) * ow + c] = best;
                    arg[(p * oh + r) * ow + c] = at;
                }
            }
        }
        return new MaxPool(y, arg);
    }

    /** maxpool2d_backward: dx = 0, then dx at each output's argmax += its dy. */
    public static double[] maxpool2dBackward(Pool2dShape s, double[] dy, int[] argmax) {
        int planeOut = s.outHeight() * s.outWidth(), planeIn = s.height() * s.width();
        double[] dx = new double[s.batch() * s.inSize()];
        for (int p = 0; p < s.batch() * s.channels(); p++) {
            for (int j = 0; j < planeOut; j++) {
                dx[p * planeIn + argmax[p * planeOut + j]] += dy[p * planeOut + j];
            }
        }
        return dx;
    }

    /**
     * batchnorm2d_forward's result: y, the statistics it normalised with (mean and 1/sqrt(var + eps)
     * per channel: the batch's in training, the running ones in eval) and the running statistics
     * after the step (unchanged in eval).
     */
    public record BatchNorm(double[] y, double[] mean, double[] invStd, double[] runningMean, double[] runningVar) {}

    /**
     * batchnorm2d_forward as {@code torch.nn.BatchNorm2d}: in training, per channel the batch mean and
     * biased variance over (n, h, w) normalise x, and running = (1 - momentum) running + momentum
     * batch statistic with the unbiased variance (times m / (m - 1), m = batch h w, which must be > 1);
     * in eval the running statistics normalise x. y = gamma (x - mean) / sqrt(var + eps) + beta.
     */
    public static BatchNorm batchnorm2dForward(BatchNorm2dShape s, double[] x, double[] gamma, double[] beta,
            double[] runningMean, double[] runningVar, boolean training, double momentum, double eps) {
        int c = s.channels(), hw = s.spatial(), m = s.perChannel();
        double[] mean = new double[c], invStd = new double[c];
        double[] rm = runningMean.clone(), rv = runningVar.clone();
        for (int ch = 0; ch < c; ch++) {
            if (training) {
                double sum = 0;
                for (int n = 0; n < s.batch(); n++) {
                    for (int i = 0; i < hw; i++) {
                        sum += x[(n * c + ch) * hw + i];
                    }
                }
                double mu = sum / m, sq = 0;
                for (int n = 0; n < s.batch(); n++) {
                    for (int i = 0; i < hw; i++) {
                        double dv = x[(n * c + ch) * hw + i] - mu;
                        sq += dv * dv;
                    }
                }
                double var = sq / m;
                mean[ch] = mu;
                invStd[ch] = 1.0 / Math.sqrt(var + eps);
                rm[ch] = (1 - momentum) * rm[ch] + momentum * mu;
                rv[ch] = (1 - momentum) * rv[ch] + momentum * var * m / (m - 1.0);
            } else {
                mean[ch] = runningMean[ch];
                invStd[ch] = 1.0 / Math.sqrt(runningVar[ch] + eps);
            }
        }
        double[] y = new double[x.length];
        for (int n = 0; n < s.batch(); n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < hw; i++) {
                    int at = (n * c + ch) * hw + i;
                    y[at] = gamma[ch] * (x[at] - mean[ch]) * invStd[ch] + beta[ch];
                }
            }
        }
        return new BatchNorm(y, mean, invStd, rm, rv);
    }

    /** Gradients of batchnorm2d. */
    public record BatchNormGrads(double[] dx, double[] dgamma, double[] dbeta) {}

    /**
     * batchnorm2d_backward, with mean and invStd as the forward pass returned them. dbeta = sum dy,
     * dgamma = sum dy xhat (xhat = (x - mean) invStd). In training the statistics depend on x:
     * dx = gamma invStd / m (m dy - dbeta - xhat dgamma); in eval they are constants: dx = gamma invStd dy.
     */
    public static BatchNormGrads batchnorm2dBackward(BatchNorm2dShape s, double[] x, double[] gamma, double[] mean,
            double[] invStd, double[] dy, boolean training) {
        int c = s.channels(), hw = s.spatial(), m = s.perChannel();
        double[] dgamma = new double[c], dbeta = new double[c];
        for (int n = 0; n < s.batch(); n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < hw; i++) {
                    int at = (n * c + ch) * hw + i;
                    dbeta[ch] += dy[at];
                    dgamma[ch] += dy[at] * (x[at] - mean[ch]) * invStd[ch];
                }
            }
        }
        double[] dx = new double[x.length];
        for (int n = 0; n < s.batch(); n++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < hw; i++) {
                    int at = (n * c + ch) * hw + i;
                    if (training) {
                        double xhat = (x[at] - mean[ch]) * invStd[ch];
                        dx[at] = gamma[ch] * invStd[ch] / m * (m * dy[at] - dbeta[ch] - xhat * dgamma[ch]);
                    } else {
                        dx[at] = gamma[ch] * invStd[ch] * dy[at];
                    }
                }
            }
        }
        return new BatchNormGrads(dx, dgamma, dbeta);
    }
}
