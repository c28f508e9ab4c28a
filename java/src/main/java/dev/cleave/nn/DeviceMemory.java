package dev.cleave.nn;

import org.bytedeco.javacpp.Pointer;

/**
 * Memory that the JVM cannot address directly (a GPU's): how a {@link Tensor} or
 * {@link IntTensor} living there is allocated, freed, filled and read. Host tensors have none.
 * All sizes are in bytes; copies are synchronous.
 */
public interface DeviceMemory {
    /** A new block of {@code bytes}, zero-filled. */
    Pointer allocate(long bytes);

    void free(Pointer p);

    /** Copies {@code bytes} from host memory {@code src} to device memory at {@code dst} + {@code dstOffset} bytes. */
    void upload(Pointer dst, long dstOffset, Pointer src, long bytes);

    /** Copies {@code bytes} from device memory {@code src} to host memory {@code dst}. */
    void download(Pointer dst, Pointer src, long bytes);

    /** Copies {@code bytes} between two device blocks. */
    void copy(Pointer dst, Pointer src, long bytes);

    /** Zero-fills {@code bytes} of device memory. */
    void zero(Pointer p, long bytes);
}
