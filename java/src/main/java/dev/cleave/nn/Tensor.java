package dev.cleave.nn;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A row-major float32 matrix in native (off-heap) memory: what every {@link Backend} op
 * reads and writes. Hot buffers (weights, gradients, optimizer state, activations) are
 * allocated once and reused across steps, so native kernels get raw pointers with no copies.
 * The Java reference backend reads the same memory through a {@link FloatBuffer} view.
 *
 * <p>A tensor owns its memory unless it is a {@link #rows(int) view}; {@link #close()} frees
 * owned memory at once (use try-with-resources or close what you allocate).
 */
public final class Tensor implements AutoCloseable {
    private final FloatPointer pointer;
    private final FloatBuffer buffer;
    private final int rows;
    private final int cols;
    private final boolean owner;

    private Tensor(FloatPointer pointer, FloatBuffer buffer, int rows, int cols, boolean owner) {
        this.pointer = pointer;
        this.buffer = buffer;
        this.rows = rows;
        this.cols = cols;
        this.owner = owner;
    }

    /** A zero-filled rows x cols tensor. */
    public static Tensor zeros(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new InvalidInputException("tensor shape must be positive, got " + rows + " x " + cols);
        }
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE) {
            throw new InvalidInputException("tensor " + rows + " x " + cols + " is larger than 2^31 - 1 elements");
        }
        FloatPointer p = new FloatPointer(n);
        if (p.isNull()) {
            throw new OutOfMemoryError("could not allocate " + (4 * n) + " bytes of native memory for a "
                    + rows + " x " + cols + " tensor");
        }
        p.zero();
        return new Tensor(p, p.asBuffer(), rows, cols, true);
    }

    /** A new tensor holding a copy of {@code m}. */
    public static Tensor of(FloatMatrix m) {
        Tensor t = zeros(m.rows(), m.cols());
        t.buffer.put(0, m.data(), 0, m.data().length);
        return t;
    }

    /** A new 1 x n tensor holding a copy of {@code values}. */
    public static Tensor row(float[] values) {
        Tensor t = zeros(1, values.length);
        t.buffer.put(0, values, 0, values.length);
        return t;
    }

    /** A view of the first {@code n} rows, sharing memory; closing the view frees nothing. */
    public Tensor rows(int n) {
        if (n <= 0 || n > rows) {
            throw new IllegalArgumentException("view of " + n + " rows of a tensor with " + rows + " rows");
        }
        if (n == rows) {
            return this;
        }
        FloatPointer p = new FloatPointer(pointer).capacity((long) n * cols).limit((long) n * cols);
        return new Tensor(p, buffer.slice(0, n * cols), n, cols, false);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int size() {
        return rows * cols;
    }

    /** The native pointer, for native kernels. */
    public FloatPointer pointer() {
        return pointer;
    }

    /** A view of the same memory for Java code (absolute get/put; native byte order). */
    public FloatBuffer buffer() {
        return buffer;
    }

    public float get(int r, int c) {
        return buffer.get(r * cols + c);
    }

    public void set(int r, int c, float v) {
        buffer.put(r * cols + c, v);
    }

    /** Overwrites the contents with {@code values} (length must equal {@link #size()}). */
    public void copyFrom(float[] values) {
        if (values.length != size()) {
            throw new IllegalArgumentException("copyFrom: " + values.length + " values into a " + rows + " x " + cols + " tensor");
        }
        buffer.put(0, values, 0, values.length);
    }

    /** Overwrites the contents with those of {@code other} (same shape). */
    public void copyFrom(Tensor other) {
        requireSameShape(other, "copyFrom");
        buffer.put(0, other.buffer, 0, size());
    }

    public void fill(float value) {
        if (value == 0f) {
            pointer.zero();
        } else {
            for (int i = 0; i < size(); i++) {
                buffer.put(i, value);
            }
        }
    }

    public float[] toArray() {
        float[] out = new float[size()];
        buffer.get(0, out, 0, out.length);
        return out;
    }

    public double[] toDoubleArray() {
        double[] out = new double[size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = buffer.get(i);
        }
        return out;
    }

    public void copyFrom(double[] values) {
        if (values.length != size()) {
            throw new IllegalArgumentException("copyFrom: " + values.length + " values into a " + rows + " x " + cols + " tensor");
        }
        for (int i = 0; i < values.length; i++) {
            buffer.put(i, (float) values[i]);
        }
    }

    public FloatMatrix toMatrix() {
        return new FloatMatrix(rows, cols, toArray());
    }

    void requireSameShape(Tensor other, String op) {
        if (other.rows != rows || other.cols != cols) {
            throw new IllegalArgumentException(op + ": shape " + other.rows + " x " + other.cols
                    + " does not match " + rows + " x " + cols);
        }
    }

    @Override
    public void close() {
        if (owner && !pointer.isNull()) {
            pointer.close();
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + rows + " x " + cols + "]";
    }
}
