package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;

/**
 * The shape of one sample's activation, PyTorch's (channels, height, width) without the batch
 * axis: images are (C, H, W); a flat vector of n values is (n, 1, 1) and {@link #flat()}.
 * A batch of them is held as a (batch x {@link #size()}) {@link Tensor}, NCHW.
 */
public record Shape(int channels, int height, int width) {
    public Shape {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new InvalidInputException("a shape needs positive channels, height and width, got " + channels + "x" + height
                    + "x" + width);
        }
        if ((long) channels * height * width > Integer.MAX_VALUE) {
            throw new InvalidInputException("shape " + channels + "x" + height + "x" + width + " holds more than 2^31 - 1 values");
        }
    }

    /** A flat vector of n values. */
    public static Shape vector(int n) {
        return new Shape(n, 1, 1);
    }

    /** Parses "CxHxW" (as {@link #toString()} writes it; a vector of n values is nx1x1) or a single number n (a vector). */
    public static Shape parse(String text) {
        String[] p = text.trim().split("x");
        try {
            if (p.length == 1) {
                return vector(Integer.parseInt(p[0]));
            }
            if (p.length == 3) {
                return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw new InvalidInputException("'" + text + "' is not a shape: expected CxHxW (e.g. 1x28x28) or a width");
    }

    /** Values per sample: channels * height * width. */
    public int size() {
        return channels * height * width;
    }

    /** Whether this is a flat vector (height and width 1). */
    public boolean flat() {
        return height == 1 && width == 1;
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width;
    }
}
