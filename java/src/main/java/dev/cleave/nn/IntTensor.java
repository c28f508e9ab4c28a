package dev.cleave.nn;

import java.nio.IntBuffer;
import org.bytedeco.javacpp.IntPointer;

/** A vector of int32 in native memory (class labels of a batch). Owns its memory. */
public final class IntTensor implements AutoCloseable {
    private final IntPointer pointer;
    private final IntBuffer buffer;
    private final int size;

    public IntTensor(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("IntTensor size must be positive, got " + size);
        }
        this.pointer = new IntPointer((long) size);
        this.pointer.zero();
        this.buffer = pointer.asBuffer();
        this.size = size;
    }

    public int size() {
        return size;
    }

    public IntPointer pointer() {
        return pointer;
    }

    public int get(int i) {
        return buffer.get(i);
    }

    public void set(int i, int v) {
        buffer.put(i, v);
    }

    public int[] toArray(int n) {
        int[] out = new int[n];
        buffer.get(0, out, 0, n);
        return out;
    }

    @Override
    public void close() {
        pointer.close();
    }
}
