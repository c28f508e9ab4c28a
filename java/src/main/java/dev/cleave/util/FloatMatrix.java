package dev.cleave.util;

import java.util.Arrays;

/**
 * A dense row-major float matrix on the Java heap: the exchange type of the public API
 * (weight matrices in and out of models, graphs and clusterings). A layer's weight is
 * (out x in), as in PyTorch. The constructor validates the shape; {@link #data} is not copied,
 * so callers that hand one over must not mutate the array afterwards. API methods never
 * mutate a FloatMatrix they are given.
 */
public record FloatMatrix(int rows, int cols, float[] data) {
    public FloatMatrix {
        if (rows < 0 || cols < 0) {
            throw new InvalidInputException("matrix shape must be non-negative, got " + rows + " x " + cols);
        }
        if (data == null || (long) rows * cols != data.length) {
            throw new InvalidInputException("matrix " + rows + " x " + cols + " needs " + ((long) rows * cols)
                    + " values, got " + (data == null ? "null" : String.valueOf(data.length)));
        }
    }

    public static FloatMatrix zeros(int rows, int cols) {
        return new FloatMatrix(rows, cols, new float[Math.multiplyExact(rows, cols)]);
    }

    public float get(int r, int c) {
        return data[r * cols + c];
    }

    /** A deep copy. */
    public FloatMatrix copy() {
        return new FloatMatrix(rows, cols, data.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FloatMatrix m && m.rows == rows && m.cols == cols && Arrays.equals(m.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * rows + cols) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "FloatMatrix[" + rows + " x " + cols + "]";
    }
}
