package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;

/**
 * The shape of one conv2d op, in PyTorch's layouts: input x (batch, inChannels, height, width)
 * held as a (batch x inChannels*height*width) {@link Tensor}, weight (outChannels, inChannels,
 * kernel, kernel) as an (outChannels x inChannels*kernel*kernel) tensor, bias (1 x outChannels),
 * output (batch x outChannels*outHeight*outWidth). Square kernel, one stride and one zero
 * padding for both axes; outHeight = (height + 2 padding - kernel) / stride + 1 (floor), as in
 * {@code torch.nn.Conv2d}.
 */
public record Conv2dShape(int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride,
        int padding) {

    public Conv2dShape {
        if (batch <= 0 || inChannels <= 0 || height <= 0 || width <= 0 || outChannels <= 0 || kernel <= 0 || stride <= 0
                || padding < 0) {
            throw new InvalidInputException("conv2d: batch, channels, height, width, kernel and stride must be positive"
                    + " and padding >= 0, got " + describe(batch, inChannels, height, width, outChannels, kernel, stride, padding));
        }
        if (height + 2L * padding < kernel || width + 2L * padding < kernel) {
            throw new InvalidInputException("conv2d: a " + kernel + "x" + kernel + " kernel does not fit a " + height + "x"
                    + width + " image with padding " + padding + ": use a smaller kernel or more padding");
        }
        if ((long) batch * inChannels * height * width > Integer.MAX_VALUE
                || (long) batch * outChannels * ((height + 2L * padding - kernel) / stride + 1)
                        * ((width + 2L * padding - kernel) / stride + 1) > Integer.MAX_VALUE
                || (long) outChannels * inChannels * kernel * kernel > Integer.MAX_VALUE) {
            throw new InvalidInputException("conv2d: " + describe(batch, inChannels, height, width, outChannels, kernel, stride,
                    padding) + " has a tensor larger than 2^31 - 1 elements");
        }
    }

    private static String describe(int batch, int in, int h, int w, int out, int k, int s, int p) {
        return "x " + batch + "x" + in + "x" + h + "x" + w + ", " + out + " filters " + k + "x" + k + ", stride " + s
                + ", padding " + p;
    }

    public int outHeight() {
        return (height + 2 * padding - kernel) / stride + 1;
    }

    public int outWidth() {
        return (width + 2 * padding - kernel) / stride + 1;
    }

    /** Columns of x: inChannels * height * width. */
    public int inSize() {
        return inChannels * height * width;
    }

    /** Columns of y: outChannels * outHeight * outWidth. */
    public int outSize() {
        return outChannels * outHeight() * outWidth();
    }

    /** Columns of the weight: inChannels * kernel * kernel. */
    public int patchSize() {
        return inChannels * kernel * kernel;
    }

    /** Multiply-adds of the forward pass times two: 2 batch outSize patchSize. */
    public double forwardFlops() {
        return 2.0 * batch * outSize() * patchSize();
    }

    @Override
    public String toString() {
        return describe(batch, inChannels, height, width, outChannels, kernel, stride, padding);
    }
}
