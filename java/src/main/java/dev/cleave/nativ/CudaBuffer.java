package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A block of device memory from a {@link CudaApi} (the GPU or its CPU emulation), freed by
 * {@link #close()}. Copies to and from the host are synchronous; {@link #address()} is what the
 * kernels of {@link CudaApi} take. Not thread-safe.
 */
public final class CudaBuffer implements AutoCloseable {
    private final CudaApi api;
    private final long bytes;
    private long address;

    private CudaBuffer(CudaApi api, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("CudaBuffer: bytes must be >= 0, got " + bytes);
        }
        this.api = api;
        this.bytes = bytes;
        this.address = bytes == 0 ? 0 : api.mallocOrThrow(bytes);
    }

    /** Uninitialised device memory of {@code bytes} bytes. */
    public static CudaBuffer allocate(CudaApi api, long bytes) {
        return new CudaBuffer(api, bytes);
    }

    /** {@code count} floats, zero-filled. */
    public static CudaBuffer zeros(CudaApi api, long count) {
        CudaBuffer b = new CudaBuffer(api, 4 * count);
        api.check(api.memset(b.address(), 0, b.bytes));
        return b;
    }

    /** A device copy of {@code values}. */
    public static CudaBuffer of(CudaApi api, float[] values) {
        CudaBuffer b = new CudaBuffer(api, 4L * values.length);
        b.upload(values);
        return b;
    }

    /** A device copy of {@code values}. */
    public static CudaBuffer of(CudaApi api, int[] values) {
        CudaBuffer b = new CudaBuffer(api, 4L * values.length);
        try (IntPointer p = new IntPointer(values)) {
            b.upload(p);
        }
        return b;
    }

    /** A device copy of {@code values}. */
    public static CudaBuffer of(CudaApi api, double[] values) {
        CudaBuffer b = new CudaBuffer(api, 8L * values.length);
        if (values.length > 0) {
            try (DoublePointer p = new DoublePointer(values)) {
                b.upload(p);
            }
        }
        return b;
    }

    /** The device address (0 for an empty buffer). */
    public long address() {
        if (address == 0 && bytes != 0) {
            throw new IllegalStateException("CudaBuffer of " + bytes + " bytes was closed");
        }
        return address;
    }

    public long bytes() {
        return bytes;
    }

    /** Copies {@link #bytes()} bytes from host memory at {@code src} (from its position). */
    public void upload(Pointer src) {
        api.check(api.memcpyHtoD(address(), src, bytes));
    }

    public void upload(float[] values) {
        requireFloats(values.length);
        try (FloatPointer p = new FloatPointer(values)) {
            upload(p);
        }
    }

    /** Copies {@link #bytes()} bytes to host memory at {@code dst} (from its position). */
    public void download(Pointer dst) {
        api.check(api.memcpyDtoH(dst, address(), bytes));
    }

    public float[] toFloats() {
        float[] out = new float[(int) (bytes / 4)];
        try (FloatPointer p = new FloatPointer(out.length)) {
            download(p);
            p.get(out);
        }
        return out;
    }

    public double[] toDoubles() {
        double[] out = new double[(int) (bytes / 8)];
        if (out.length > 0) {
            try (DoublePointer p = new DoublePointer(out.length)) {
                download(p);
                p.get(out);
            }
        }
        return out;
    }

    public int[] toInts() {
        int[] out = new int[(int) (bytes / 4)];
        try (IntPointer p = new IntPointer(out.length)) {
            download(p);
            p.get(out);
        }
        return out;
    }

    private void requireFloats(int n) {
        if (4L * n != bytes) {
            throw new IllegalArgumentException("CudaBuffer holds " + bytes + " bytes, not " + n + " floats");
        }
    }

    @Override
    public void close() {
        if (address != 0) {
            long a = address;
            address = 0;
            api.check(api.free(a));
        }
    }
}
