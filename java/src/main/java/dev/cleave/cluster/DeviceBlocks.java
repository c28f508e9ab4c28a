package dev.cleave.cluster;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
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
 */
final class DeviceBlocks implements BlockOps<CudaBuffer> {
    private final CudaApi api;
    private final long op;
    private final int which;
    private final int n;

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
        return CudaBuffer.of(api, a);
    }

    @Override
    public CudaBuffer allocate(int cols) {
        return CudaBuffer.allocate(api, 8L * n * cols);
    }

    @Override
    public void release(CudaBuffer b) {
        b.close();
    }

    @Override
    public double[] download(CudaBuffer b, int ld, int c) {
        if (ld == c) {
            return b.toDoubles();
        }
        try (CudaBuffer t = allocate(c)) {
            copyColumns(b, ld, 0, t, c, 0, c);
            return t.toDoubles();
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
        try (CudaBuffer g = CudaBuffer.allocate(api, 8L * a * b)) {
            api.check(api.blockGram(n, x.address(), ldx, a, y.address(), ldy, b, g.address()));
            return g.toDoubles();
        }
    }

    @Override
    public void subMul(CudaBuffer x, int ldx, int a, double[] g, CudaBuffer y, int ldy, int b) {
        try (CudaBuffer dg = CudaBuffer.of(api, g)) {
            api.check(api.blockSubMul(n, x.address(), ldx, a, dg.address(), y.address(), ldy, b));
        }
    }

    @Override
    public void mulSquare(CudaBuffer x, int ld, int c, double[] q) {
        try (CudaBuffer dq = CudaBuffer.of(api, q)) {
            api.check(api.blockMulSquare(n, x.address(), ld, c, dq.address()));
        }
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
        try (CudaBuffer t = CudaBuffer.of(api, h)) {
            copyColumns(t, c, 0, x, ld, 0, c);
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
