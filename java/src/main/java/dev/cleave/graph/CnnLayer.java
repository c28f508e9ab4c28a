package dev.cleave.graph;

import dev.cleave.util.InvalidInputException;
import java.util.Arrays;

/**
 * One weighted layer of a convolutional network, as {@link CnnUnitGraph} reads it: a conv2d
 * weight (out, in, kh, kw) or a linear weight (out, in), row-major as in PyTorch, with an
 * optional batchnorm right after it to fold in, and, for the first linear layer after the last
 * conv, the spatial size (height x width) of the feature map it reads after flatten (NCHW
 * order: feature c * height * width + y * width + x). Pooling, activations, dropout and
 * biases carry no edges and are not described.
 *
 * <p>The arrays are held, not copied, and never modified.
 *
 * @param kind          conv or linear
 * @param shape         (out, in, kh, kw) for conv, (out, in) for linear; all positive
 * @param weight        the weights, as many as the shape's product
 * @param batchNorm     the batchnorm after this layer (per output unit), or null
 * @param flattenHeight for a linear layer reading a conv's flattened output: the feature map's
 *                      height, else 0 (0 with flattenWidth 0 after a conv means 1 x 1)
 * @param flattenWidth  the feature map's width, else 0
 */
public record CnnLayer(Kind kind, int[] shape, float[] weight, BatchNormStats batchNorm, int flattenHeight,
        int flattenWidth) {

    /** The kind of a weighted layer. */
    public enum Kind {
        CONV, LINEAR;

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * The running statistics and scale of a batchnorm: the layer before it is folded as
     * W[j] * gamma[j] / sqrt(runningVar[j] + eps) (the shift terms do not touch the weights).
     * The arrays are held, not copied.
     */
    public record BatchNormStats(float[] gamma, float[] runningVar, double eps) {
        public BatchNormStats {
            if (gamma == null || runningVar == null || gamma.length != runningVar.length) {
                throw new InvalidInputException("batchnorm needs gamma and running_var of the same length, got "
                        + (gamma == null ? "null" : gamma.length) + " and " + (runningVar == null ? "null" : runningVar.length));
            }
            if (!(eps >= 0.0) || !Double.isFinite(eps)) {
                throw new InvalidInputException("batchnorm eps must be finite and >= 0, got " + eps);
            }
            for (int j = 0; j < gamma.length; j++) {
                if (!Float.isFinite(gamma[j]) || !Float.isFinite(runningVar[j]) || !(runningVar[j] + eps > 0.0)) {
                    throw new InvalidInputException("batchnorm channel " + j + " has gamma " + gamma[j] + ", running_var "
                            + runningVar[j] + " and eps " + eps + ": gamma and running_var must be finite and"
                            + " running_var + eps > 0");
                }
            }
        }

        /** The per-unit factor gamma[j] / sqrt(runningVar[j] + eps), in double. */
        public double scale(int j) {
            return gamma[j] / Math.sqrt(runningVar[j] + eps);
        }

        /** Units it normalizes. */
        public int size() {
            return gamma.length;
        }
    }

    public CnnLayer {
        if (kind == null) {
            throw new InvalidInputException("a CNN layer needs a kind (conv or linear), got null");
        }
        int dims = kind == Kind.CONV ? 4 : 2;
        if (shape == null || shape.length != dims) {
            throw new InvalidInputException("a " + kind + " weight has shape " + (kind == Kind.CONV ? "(out, in, kh, kw)"
                    : "(out, in)") + ", got " + (shape == null ? "null" : Arrays.toString(shape)));
        }
        long n = 1;
        for (int s : shape) {
            if (s <= 0) {
                throw new InvalidInputException("a " + kind + " weight's shape must be positive, got " + Arrays.toString(shape));
            }
            n *= s;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("a " + kind + " weight of shape " + Arrays.toString(shape)
                    + " has more than 2^31 - 9 entries");
        }
        if (weight == null || weight.length != n) {
            throw new InvalidInputException("a " + kind + " weight of shape " + Arrays.toString(shape) + " needs " + n
                    + " values, got " + (weight == null ? "null" : weight.length));
        }
        if (batchNorm != null && batchNorm.size() != shape[0]) {
            throw new InvalidInputException("the batchnorm after a " + kind + " layer with " + shape[0]
                    + " outputs normalizes " + batchNorm.size() + " units; they must match");
        }
        if (flattenHeight < 0 || flattenWidth < 0 || (flattenHeight == 0) != (flattenWidth == 0)) {
            throw new InvalidInputException("the flatten size must be two positive numbers (height, width) or none, got "
                    + flattenHeight + " x " + flattenWidth);
        }
        if (flattenHeight > 0 && kind != Kind.LINEAR) {
            throw new InvalidInputException("a flatten size belongs to the linear layer reading a conv's output, not to a"
                    + " conv layer");
        }
    }

    /** A conv2d layer with weight (out, in, kh, kw). */
    public static CnnLayer conv(int out, int in, int kh, int kw, float[] weight) {
        return new CnnLayer(Kind.CONV, new int[] {out, in, kh, kw}, weight, null, 0, 0);
    }

    /** A linear layer with weight (out, in). */
    public static CnnLayer linear(int out, int in, float[] weight) {
        return new CnnLayer(Kind.LINEAR, new int[] {out, in}, weight, null, 0, 0);
    }

    /** This layer with a batchnorm after it (folded into its weights by the graph). */
    public CnnLayer withBatchNorm(float[] gamma, float[] runningVar, double eps) {
        return new CnnLayer(kind, shape, weight, new BatchNormStats(gamma, runningVar, eps), flattenHeight, flattenWidth);
    }

    /** This linear layer reading a height x width feature map after flatten. */
    public CnnLayer flattenedFrom(int height, int width) {
        return new CnnLayer(kind, shape, weight, batchNorm, height, width);
    }

    public int out() {
        return shape[0];
    }

    public int in() {
        return shape[1];
    }

    /** kh * kw for conv, 1 for linear. */
    public int sliceLength() {
        return kind == Kind.CONV ? shape[2] * shape[3] : 1;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CnnLayer l && l.kind == kind && Arrays.equals(l.shape, shape) && Arrays.equals(l.weight, weight)
                && java.util.Objects.equals(l.batchNorm, batchNorm) && l.flattenHeight == flattenHeight
                && l.flattenWidth == flattenWidth;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(weight);
    }

    @Override
    public String toString() {
        return "CnnLayer[" + kind + " " + Arrays.toString(shape) + (batchNorm != null ? " + batchnorm" : "")
                + (flattenHeight > 0 ? " reading " + flattenHeight + "x" + flattenWidth : "") + "]";
    }
}
