package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;

/**
 * The shape of one maxpool2d op: input (batch, channels, height, width) held as a (batch x
 * channels*height*width) {@link Tensor}, square window {@code kernel}, {@code stride}, no
 * padding; outHeight = (height - kernel) / stride + 1 (floor), as in {@code torch.nn.MaxPool2d}.
 */
public record Pool2dShape(int batch, int channels, int height, int width, int kernel, int stride) {

    public Pool2dShape {
        if (batch <= 0 || channels <= 0 || height <= 0 || width <= 0 || kernel <= 0 || stride <= 0) {
            throw new InvalidInputException("maxpool2d: batch, channels, height, width, kernel and stride must be positive, got "
                    + describe(batch, channels, height, width, kernel, stride));
        }
        if (kernel > height || kernel > width) {
            throw new InvalidInputException("maxpool2d: a " + kernel + "x" + kernel + " window does not fit a " + height + "x"
                    + width + " image: pool a larger image or use a smaller window");
        }
        if ((long) batch * channels * height * width > Integer.MAX_VALUE) {
            throw new InvalidInputException("maxpool2d: " + describe(batch, channels, height, width, kernel, stride)
                    + " is larger than 2^31 - 1 elements");
        }
    }

    private static String describe(int batch, int c, int h, int w, int k, int s) {
        return "x " + batch + "x" + c + "x" + h + "x" + w + ", window " + k + "x" + k + ", stride " + s;
    }

    public int outHeight() {
        return (height - kernel) / stride + 1;
    }

    public int outWidth() {
        return (width - kernel) / stride + 1;
    }

    public int inSize() {
        return channels * height * width;
    }

    public int outSize() {
        return channels * outHeight() * outWidth();
    }

    @Override
    public String toString() {
        return describe(batch, channels, height, width, kernel, stride);
    }
}
