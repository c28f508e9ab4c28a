package dev.cleave.cluster;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.SpectralKernels;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;

/**
 * {@link BlockOps} on off-heap memory through the block kernels of libcleave_cpu (block_gram,
 * block_sub_mul, block_mul_square, block_residuals, block_chebyshev_step, block_copy,
 * block_orthonormalize) and the native operator's block application with one reusable workspace.
 * Only p x p matrices cross to the Java heap. The operator's kernels take blocks whose width is a
 * multiple of 4 ({@link #width}); every block comes zero-filled, so padding columns stay zero.
 * Released blocks go to a pool by size; {@link #close()} frees them all and the workspace. One
 * thread at a time.
 */
final class NativeBlocks implements BlockOps<DoublePointer>, AutoCloseable {
    private final SpectralKernels.SpectralOp op;
    private final int which;
    private final int n;
    private final int threads;
    private final SpectralKernels.SpectralWork work = new SpectralKernels.SpectralWork();
    private final Map<Long, ArrayDeque<DoublePointer>> pool = new HashMap<>();
    private final List<DoublePointer> all = new ArrayList<>();

    NativeBlocks(SpectralKernels.SpectralOp op, int which, int n, int threads) {
        this.op = op;
        this.which = which;
        this.n = n;
        this.threads = threads;
        CpuKernels.check(SpectralKernels.cleave_spectral_work_create(work));
    }

    @Override
    public int rows() {
        return n;
    }

    @Override
    public int width(int cols) {
        return (cols + 3) & ~3;
    }

    @Override
    public DoublePointer upload(double[] a, int cols) {
        if (a.length != (long) n * cols) {
            throw new IllegalArgumentException("a host block of " + a.length + " values is not " + n + " x " + cols);
        }
        DoublePointer b = allocate(cols);
        b.put(a);
        return b;
    }

    @Override
    public DoublePointer allocate(int cols) {
        long count = (long) n * cols;
        ArrayDeque<DoublePointer> free = pool.get(count);
        DoublePointer b;
        if (free != null && !free.isEmpty()) {
            b = free.pop();
        } else {
            b = new DoublePointer(Math.max(count, 1));
            all.add(b);
        }
        b.zero();
        return b;
    }

    @Override
    public void release(DoublePointer b) {
        pool.computeIfAbsent(b.capacity(), x -> new ArrayDeque<>()).push(b);
    }

    @Override
    public double[] download(DoublePointer b, int ld, int c) {
        double[] whole = new double[n * ld];
        b.position(0).get(whole);
        if (ld == c) {
            return whole;
        }
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(whole, i * ld, out, i * c, c);
        }
        return out;
    }

    @Override
    public void apply(DoublePointer x, DoublePointer y, int cols) {
        CpuKernels.check(SpectralKernels.cleave_spectral_op_apply_block(op, which, x, cols, y, cols, cols, threads, work));
    }

    @Override
    public void copyColumns(DoublePointer src, int lds, int s0, DoublePointer dst, int ldd, int d0, int c) {
        CpuKernels.check(SpectralKernels.cleave_block_copy(n, src, lds, s0, dst, ldd, d0, c));
    }

    @Override
    public double[] gram(DoublePointer x, int ldx, int a, DoublePointer y, int ldy, int b) {
        double[] g = new double[a * b];
        CpuKernels.check(SpectralKernels.cleave_block_gram(n, x, ldx, a, y, ldy, b, g, threads));
        return g;
    }

    @Override
    public void subMul(DoublePointer x, int ldx, int a, double[] g, DoublePointer y, int ldy, int b) {
        CpuKernels.check(SpectralKernels.cleave_block_sub_mul(n, x, ldx, a, g, y, ldy, b, threads));
    }

    @Override
    public void mulSquare(DoublePointer x, int ld, int c, double[] q) {
        CpuKernels.check(SpectralKernels.cleave_block_mul_square(n, x, ld, c, q, threads));
    }

    @Override
    public double[] residuals(DoublePointer x, DoublePointer ax, int ld, int k, double[] theta) {
        double[] out = new double[k];
        CpuKernels.check(SpectralKernels.cleave_block_residuals(n, x, ax, ld, k, theta, out, threads));
        return out;
    }

    @Override
    public void chebyshevStep(long count, double f, double c, double g, DoublePointer y0, DoublePointer y1,
            DoublePointer y2) {
        CpuKernels.check(SpectralKernels.cleave_block_chebyshev_step(count, f, c, g, y0, y1, y2, threads));
    }

    @Override
    public void orthonormalize(DoublePointer x, int ld, int c) {
        CpuKernels.check(SpectralKernels.cleave_block_orthonormalize(n, x, ld, c, threads));
    }

    @Override
    public void close() {
        for (DoublePointer b : all) {
            b.close();
        }
        all.clear();
        pool.clear();
        SpectralKernels.cleave_spectral_work_free(work);
    }
}
