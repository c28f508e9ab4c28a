package dev.cleave.nn;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A row-major float32 matrix in native memory: what every {@link Backend} op reads and writes.
 * Hot buffers (weights, gradients, optimizer state, activations) are allocated once and reused
 * across steps, so kernels get raw pointers with no copies.
 *
 * <p>Host tensors ({@link #zeros}) live in off-heap host memory; the Java reference backend
 * reads them through a {@link FloatBuffer} view. Device tensors ({@link #zeros(int, int,
 * DeviceMemory)}) live in a GPU's memory: element access ({@link #buffer()}, {@link #get},
 * {@link #set}) is refused, and the bulk copies ({@link #copyFrom}, {@link #toArray}) go through
 * their {@link DeviceMemory}.
 *
 * <p>A tensor owns its memory unless it is a {@link #rows(int) view}; {@link #close()} frees
 * owned memory at once (use try-with-resources or close what you allocate).
 */
public final class Tensor implements AutoCloseable {
    private final FloatPointer pointer;
    private final FloatBuffer buffer;   // null for device tensors
    private final DeviceMemory device;  // null for host tensors
    private final int rows;
    private final int cols;
    private final boolean owner;

    private Tensor(FloatPointer pointer, FloatBuffer buffer, DeviceMemory device, int rows, int cols, boolean owner) {
        this.pointer = pointer;
        this.buffer = buffer;
        this.device = device;
        this.rows = rows;
        this.cols = cols;
        this.owner = owner;
    }

    /** A zero-filled rows x cols host tensor. */
    public static Tensor zeros(int rows, int cols) {
        long n = checkedSize(rows, cols);
        FloatPointer p = new FloatPointer(n);
        if (p.isNull()) {
            throw new OutOfMemoryError("could not allocate " + (4 * n) + " bytes of native memory for a "
                    + rows + " x " + cols + " tensor");
        }
        p.zero();
        return new Tensor(p, p.asBuffer(), null, rows, cols, true);
    }

    /** A zero-filled rows x cols tensor in {@code device}'s memory. */
    public static Tensor zeros(int rows, int cols, DeviceMemory device) {
        long n = checkedSize(rows, cols);
        FloatPointer p = DeviceMemory.floats(device.allocate(4 * n), n);
        return new Tensor(p, null, device, rows, cols, true);
    }

    private static long checkedSize(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new InvalidInputException("tensor shape must be positive, got " + rows + " x " + cols);
        }
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE) {
            throw new InvalidInputException("tensor " + rows + " x " + cols + " is larger than 2^31 - 1 elements");
        }
        return n;
    }

    /** A new host tensor holding a copy of {@code m}. */
    public static Tensor of(FloatMatrix m) {
        Tensor t = zeros(m.rows(), m.cols());
        t.copyFrom(m.data());
        return t;
    }

    /** A new 1 x n host tensor holding a copy of {@code values}. */
    public static Tensor row(float[] values) {
        Tensor t = zeros(1, values.length);
        t.copyFrom(values);
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
        FloatPointer p = device == null ? new FloatPointer(pointer).capacity((long) n * cols).limit((long) n * cols)
                : DeviceMemory.floats(pointer.address(), (long) n * cols);
        return new Tensor(p, buffer == null ? null : buffer.slice(0, n * cols), device, n, cols, false);
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

    /** Whether this tensor lives in device memory (no element access from Java). */
    public boolean onDevice() {
        return device != null;
    }

    /** The native pointer (host or device address), for kernels. */
    public FloatPointer pointer() {
        return pointer;
    }

    /** A view of the same host memory for Java code (absolute get/put; native byte order). */
    public FloatBuffer buffer() {
        if (buffer == null) {
            throw new IllegalStateException("a device tensor has no host view: use toArray() / copyFrom()");
        }
        return buffer;
    }

    public float get(int r, int c) {
        return buffer().get(r * cols + c);
    }

    public void set(int r, int c, float v) {
        buffer().put(r * cols + c, v);
    }

    /** Overwrites the contents with {@code values} (length must equal {@link #size()}). */
    public void copyFrom(float[] values) {
        if (values.length != size()) {
            throw new IllegalArgumentException("copyFrom: " + values.length + " values into a " + rows + " x " + cols + " tensor");
        }
        copyFrom(values, 0, 0, values.length);
    }

    /** Copies {@code count} values from {@code src[srcOffset..]} to elements {@code dstOffset..}. */
    public void copyFrom(float[] src, int srcOffset, int dstOffset, int count) {
        if (dstOffset < 0 || count < 0 || dstOffset + count > size() || srcOffset < 0 || srcOffset + count > src.length) {
            throw new IllegalArgumentException("copyFrom: " + count + " values at " + dstOffset + " of a " + rows + " x " + cols
                    + " tensor from offset " + srcOffset + " of " + src.length);
        }
        if (device == null) {
            buffer.put(dstOffset, src, srcOffset, count);
        } else {
            try (FloatPointer host = new FloatPointer(count)) {
                host.put(src, srcOffset, count);
                device.upload(pointer.address() + 4L * dstOffset, host, 4L * count);
            }
        }
    }

    /** Overwrites the contents with those of {@code other} (same shape, host or device). */
    public void copyFrom(Tensor other) {
        requireSameShape(other, "copyFrom");
        if (device == null && other.device == null) {
            buffer.put(0, other.buffer, 0, size());
        } else if (device != null && other.device != null) {
            device.copy(pointer.address(), other.pointer.address(), 4L * size());
        } else {
            copyFrom(other.toArray());
        }
    }

    public void fill(float value) {
        if (value == 0f) {
            if (device == null) {
                pointer.zero();
            } else {
                device.zero(pointer.address(), 4L * size());
            }
        } else {
            float[] v = new float[size()];
            java.util.Arrays.fill(v, value);
            copyFrom(v);
        }
    }

    public float[] toArray() {
        float[] out = new float[size()];
        if (device == null) {
            buffer.get(0, out, 0, out.length);
        } else {
            try (FloatPointer host = new FloatPointer(out.length)) {
                device.download(host, pointer.address(), 4L * out.length);
                host.get(out);
            }
        }
        return out;
    }

    public double[] toDoubleArray() {
        float[] f = toArray();
        double[] out = new double[f.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    public void copyFrom(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        copyFrom(f);
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
            if (device == null) {
                pointer.close();
            } else {
                device.free(pointer.address());
                pointer.setNull();
            }
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + rows + " x " + cols + (device == null ? "" : ", device") + "]";
    }
}
