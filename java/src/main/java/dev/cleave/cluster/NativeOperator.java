package dev.cleave.cluster;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.SpectralKernels;

/**
 * A {@link GraphOperator} copied into a native cleave_spectral_op. The native memory (the
 * weights, about 4 bytes per stored entry) is held until {@link #close()}; use
 * try-with-resources.
 */
final class NativeOperator implements OperatorHandle {
    private final SpectralKernels.SpectralOp op;
    private final int n;
    private final int half;
    private final int threads;
    private boolean closed;

    NativeOperator(GraphOperator g, int threads) {
        this.n = g.n;
        this.half = g.half;
        this.threads = threads;
        SpectralKernels.SpectralOp h = new SpectralKernels.SpectralOp();
        CpuKernels.check(SpectralKernels.cleave_spectral_op_create(g.n, g.half, g.scale, h));
        this.op = h;
        try {
            for (GraphOperator.Piece p : g.pieces) {
                if (p.isDense()) {
                    CpuKernels.check(SpectralKernels.cleave_spectral_op_add_dense(op, p.dst(), p.rows(), p.src(), p.cols(),
                            p.dense(), p.mirror() ? 1 : 0, threads));
                } else {
                    CpuKernels.check(SpectralKernels.cleave_spectral_op_add_csr(op, p.dst(), p.rows(), p.src(), p.cols(),
                            p.offsets(), p.columns(), p.weights()));
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public int dim(int which) {
        return which == M ? half : n;
    }

    @Override
    public double flops() {
        return SpectralKernels.cleave_spectral_op_flops(op, N);
    }

    /** The native op itself (for kernels that refill it in place: {@link StepLaplacian}). */
    SpectralKernels.SpectralOp op() {
        return op;
    }

    /** Native bytes held by the op. */
    long bytes() {
        return SpectralKernels.cleave_spectral_op_bytes(op);
    }

    @Override
    public void apply(int which, double[] x, double[] y, int cols) {
        CpuKernels.check(SpectralKernels.cleave_spectral_op_apply(op, which, x, y, cols, threads));
    }

    /** The shared Chebyshev driver ({@link ChebyshevEigensolver}) over the native block kernels ({@link NativeBlocks}). */
    @Override
    public Eigenpairs eigs(int which, int k, int p, double lower, double upper, double tol, boolean sqrtScaled,
            int maxIter, int maxDegree, double amplification, double[] x0, double[] locked, double[] lockedValues) {
        try (NativeBlocks blocks = new NativeBlocks(op, which, dim(which), threads)) {
            return ChebyshevEigensolver.largest(blocks, k, p, lower, upper, tol, sqrtScaled, maxIter, maxDegree,
                    amplification, x0, locked, lockedValues);
        }
    }

    @Override
    public Eigenpairs dense(int which, int k) {
        int d = dim(which);
        double[] values = new double[k];
        double[] vectors = new double[d * k];
        double[] residuals = new double[k];
        CpuKernels.check(SpectralKernels.cleave_spectral_dense_eigs(op, which, k, threads, values, vectors, residuals));
        return new Eigenpairs(values, vectors, residuals, 0, d + k, k);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            SpectralKernels.cleave_spectral_op_free(op);
        }
    }
}
