package dev.cleave.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Memory that the JVM cannot address directly (a GPU's): how a {@link Tensor} or
 * {@link IntTensor} living there is allocated, freed, filled and read. Host tensors have none.
 * Device addresses are plain {@code long}s; sizes are in bytes; copies are synchronous.
 */
public interface DeviceMemory {
    /** A new zero-filled block of {@code bytes}; returns its device address. */
    long allocate(long bytes);

    void free(long address);

    /** Copies {@code bytes} from host memory {@code src} to device address {@code dst}. */
    void upload(long dst, Pointer src, long bytes);

    /** Copies {@code bytes} from device address {@code src} to host memory {@code dst}. */
    void download(Pointer dst, long src, long bytes);

    /** Copies {@code bytes} between two device blocks. */
    void copy(long dst, long src, long bytes);

    /** Zero-fills {@code bytes} at a device address. */
    void zero(long address, long bytes);

    /** A FloatPointer carrying a device address (never dereferenced on the host). */
    static FloatPointer floats(long deviceAddress, long count) {
        // (inside the anonymous class, "address", "capacity" and "limit" name Pointer's fields)
        return new FloatPointer() {
            {
                address = deviceAddress;
                capacity = count;
                limit = count;
            }
        };
    }

    /** An IntPointer carrying a device address (never dereferenced on the host). */
    static IntPointer ints(long deviceAddress, long count) {
        return new IntPointer() {
            {
                address = deviceAddress;
                capacity = count;
                limit = count;
            }
        };
    }
}
