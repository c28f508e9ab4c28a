package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;

/**
 * The shape of one batchnorm2d op: input (batch, channels, height, width) held as a (batch x
 * channels*height*width) {@link Tensor}; the per-channel tensors (gamma, beta, running mean and
 * variance, the saved batch statistics) are (1 x channels).
 */
public record BatchNorm2dShape(int batch, int channels, int height, int width) {

    public BatchNorm2dShape {
        if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0) {
            throw new InvalidInputException("batchnorm2d: batch, channels, height and width must be positive, got x "
                    + batch + "x" + channels + "x" + height + "x" + width);
        }
        if ((long) batch * channels * height * width > Integer.MAX_VALUE) {
            throw new InvalidInputException("batchnorm2d: x " + batch + "x" + channels + "x" + height + "x" + width
                    + " is larger than 2^31 - 1 elements");
        }
    }

    /** height * width. */
    public int spatial() {
        return height * width;
    }

    /** Values per channel that the batch statistics average: batch * height * width. */
    public int perChannel() {
        return batch * height * width;
    }

    public int size() {
        return channels * height * width;
    }

    @Override
    public String toString() {
        return "x " + batch + "x" + channels + "x" + height + "x" + width;
    }
}
