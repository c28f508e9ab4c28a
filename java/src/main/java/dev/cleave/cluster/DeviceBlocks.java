package dev.cleave.cluster;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;

/**
 * {@link BlockOps} on device memory through a {@link CudaApi} (the GPU, or its CPU emulation):
 * blocks are {@link CudaBuffer}s of doubles, the operator is a device op (spectral_op_apply), and
 * every O(n) operation is a CUDA kernel (block_gram, block_sub_mul, block_mul_square,
 * block_residuals, block_chebyshev_step, block_copy). Only p x p matrices cross to the host.
 *
 * <p>Orthonormalization is shifted Cholesky QR followed by two Cholesky QR passes (as the native
 * solver): G = X^T X on the device, its Cholesky factor R and R^-1 on the host, X = X R^-1 on
 * the device. Where Cholesky breaks down (a rank-deficient block, rare) the block is copied to
 * the host for a Householder QR ({@link DenseMath#orthonormalize}) and back.
 *
 * <p>Device memory is reused: released blocks go to a pool by size, and small matrices pass
 * through one scratch buffer, so a solve allocates a handful of buffers rather than several per
 * iteration (cudaFree synchronizes the device). {@link #close()} frees them all.
 */
final class DeviceBlocks implements BlockOps<CudaBuffer>, AutoCloseable {
    private final CudaApi api;
    private final long op;
    private final int which;
    private final int n;
    private final Map<Long, ArrayDeque<CudaBuffer>> pool = new HashMap<>();
    private final List<CudaBuffer> all = new ArrayList<>();
    private CudaBuffer small;

    /** Blocks of {@code n} rows for the device op {@code op} (which = N or M). */
    DeviceBlocks(CudaApi api, long op, int which, int n) {
        this.api = api;
        this.op = op;
        this.which = which;
        this.n = n;
    }

    @Override
    public int rows() {
        return n;
    }

    @Override
    public CudaBuffer upload(double[] a, int cols) {
        if (a.length != (long) n * cols) {
            throw new IllegalArgumentException("a host block of " + a.length + " values is not " + n + " x " + cols);
        }
        CudaBuffer b = allocate(cols);
        if (a.length > 0) {
            try (DoublePointer p = new DoublePointer(a)) {
                b.upload(p);
            }
        }
        return b;
    }

    @Override
    public CudaBuffer allocate(int cols) {
        long bytes = 8L * n * cols;
        ArrayDeque<CudaBuffer> free = pool.get(bytes);
        if (free != null && !free.isEmpty()) {
            return free.pop();
        }
        CudaBuffer b = CudaBuffer.allocate(api, bytes);
        all.add(b);
        return b;
    }

    @Override
    public void release(CudaBuffer b) {
        pool.computeIfAbsent(b.bytes(), x -> new ArrayDeque<>()).push(b);
    }

    /** The scratch buffer for small matrices, holding at least {@code doubles} values. */
    private long small(long doubles) {
        if (small == null || small.bytes() < 8 * doubles) {
            if (small != null) {
                small.close();
            }
            small = CudaBuffer.allocate(api, 8 * Math.max(doubles, 1024));
        }
        return small.address();
    }

    /** Copies a small host matrix into the scratch buffer; returns its device address. */
    private long put(double[] m) {
        long at = small(m.length);
        try (DoublePointer p = new DoublePointer(m)) {
            api.check(api.memcpyHtoD(at, p, 8L * m.length));
        }
        return at;
    }

    /** Frees every buffer this object allocated (pooled or not). */
    @Override
    public void close() {
        for (CudaBuffer b : all) {
            b.close();
        }
        all.clear();
        pool.clear();
        if (small != null) {
            small.close();
            small = null;
        }
    }

    @Override
    public double[] download(CudaBuffer b, int ld, int c) {
        if (ld == c) {
            return b.toDoubles();
        }
        CudaBuffer t = allocate(c);
        try {
            copyColumns(b, ld, 0, t, c, 0, c);
            return t.toDoubles();
        } finally {
            release(t);
        }
    }

    @Override
    public void apply(CudaBuffer x, CudaBuffer y, int cols) {
        api.check(api.spectralOpApply(op, which, x.address(), y.address(), cols));
    }

    @Override
    public void copyColumns(CudaBuffer src, int lds, int s0, CudaBuffer dst, int ldd, int d0, int c) {
        api.check(api.blockCopy(n, src.address(), lds, s0, dst.address(), ldd, d0, c));
    }

    @Override
    public double[] gram(CudaBuffer x, int ldx, int a, CudaBuffer y, int ldy, int b) {
        double[] g = new double[a * b];
        long at = small(g.length);
        api.check(api.blockGram(n, x.address(), ldx, a, y.address(), ldy, b, at));
        try (DoublePointer p = new DoublePointer(g.length)) {
            api.check(api.memcpyDtoH(p, at, 8L * g.length));
            p.get(g);
        }
        return g;
    }

    @Override
    public void subMul(CudaBuffer x, int ldx, int a, double[] g, CudaBuffer y, int ldy, int b) {
        api.check(api.blockSubMul(n, x.address(), ldx, a, put(g), y.address(), ldy, b));
    }

    @Override
    public void mulSquare(CudaBuffer x, int ld, int c, double[] q) {
        api.check(api.blockMulSquare(n, x.address(), ld, c, put(q)));
    }

    @Override
    public double[] residuals(CudaBuffer x, CudaBuffer ax, int ld, int k, double[] theta) {
        double[] out = new double[k];
        try (DoublePointer th = new DoublePointer(theta); DoublePointer o = new DoublePointer(k)) {
            api.check(api.blockResiduals(n, x.address(), ax.address(), ld, k, th, o));
            o.get(out);
        }
        return out;
    }

    @Override
    public void chebyshevStep(long count, double f, double c, double g, CudaBuffer y0, CudaBuffer y1, CudaBuffer y2) {
        api.check(api.blockChebyshevStep(count, f, c, g, y0 == null ? 0 : y0.address(), y1.address(), y2.address()));
    }

    @Override
    public void orthonormalize(CudaBuffer x, int ld, int c) {
        if (cholQr(x, ld, c, true) && cholQr(x, ld, c, false) && cholQr(x, ld, c, false)) {
            return;
        }
        double[] h = download(x, ld, c);
        DenseMath.orthonormalize(n, h, c, c);
        CudaBuffer t = upload(h, c);
        try {
            copyColumns(t, c, 0, x, ld, 0, c);
        } finally {
            release(t);
        }
    }

    // One (shifted) Cholesky QR pass: X = X R^-1 with X^T X (+ shift) = R^T R. False, X untouched, on breakdown.
    private boolean cholQr(CudaBuffer x, int ld, int c, boolean shifted) {
        double[] g = gram(x, ld, c, x, ld, c);
        if (shifted) {
            double tr = 0.0;
            for (int j = 0; j < c; j++) {
                tr += g[j * c + j];
            }
            double s = 11.0 * ((double) n * c + (double) c * (c + 1)) * 1.1102230246251565e-16 * tr;
            for (int j = 0; j < c; j++) {
                g[j * c + j] += s;
            }
        }
        if (!DenseMath.cholesky(g, c)) {
            return false;
        }
        mulSquare(x, ld, c, DenseMath.invertUpper(g, c));
        return true;
    }
}
