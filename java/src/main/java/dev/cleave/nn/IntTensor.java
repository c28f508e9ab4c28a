package dev.cleave.nn;

import java.nio.IntBuffer;
import org.bytedeco.javacpp.IntPointer;

/**
 * A vector of int32 (class labels of a batch) in host memory, or in device memory when made
 * with a {@link DeviceMemory}. Owns its memory.
 */
public final class IntTensor implements AutoCloseable {
    private final IntPointer pointer;
    private final IntBuffer buffer;     // null on a device
    private final DeviceMemory device;  // null on the host
    private final int size;

    public IntTensor(int size) {
        this(size, null);
    }

    public IntTensor(int size, DeviceMemory device) {
        if (size <= 0) {
            throw new IllegalArgumentException("IntTensor size must be positive, got " + size);
        }
        this.size = size;
        this.device = device;
        if (device == null) {
            this.pointer = new IntPointer((long) size);
            this.pointer.zero();
            this.buffer = pointer.asBuffer();
        } else {
            this.pointer = DeviceMemory.ints(device.allocate(4L * size), size);
            this.buffer = null;
        }
    }

    public int size() {
        return size;
    }

    public IntPointer pointer() {
        return pointer;
    }

    /** Copies {@code count} labels from {@code src[offset..]} to the first entries. */
    public void copyFrom(int[] src, int offset, int count) {
        if (count < 0 || count > size || offset < 0 || offset + count > src.length) {
            throw new IllegalArgumentException("copyFrom: " + count + " labels into " + size + " from offset " + offset);
        }
        if (device == null) {
            buffer.put(0, src, offset, count);
        } else {
            try (IntPointer host = new IntPointer(count)) {
                host.put(src, offset, count);
                device.upload(pointer.address(), host, 4L * count);
            }
        }
    }

    public void set(int i, int v) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("label " + i + " of " + size);
        }
        if (device == null) {
            buffer.put(i, v);
        } else {
            try (IntPointer host = new IntPointer(1)) {
                host.put(0, v);
                device.upload(pointer.address() + 4L * i, host, 4);
            }
        }
    }

    public int[] toArray(int n) {
        int[] out = new int[n];
        if (device == null) {
            buffer.get(0, out, 0, n);
        } else {
            try (IntPointer host = new IntPointer(n)) {
                device.download(host, pointer.address(), 4L * n);
                host.get(out);
            }
        }
        return out;
    }

    @Override
    public void close() {
        if (pointer.isNull()) {
            return;
        }
        if (device == null) {
            pointer.close();
        } else {
            device.free(pointer.address());
            pointer.setNull();
        }
    }
}
