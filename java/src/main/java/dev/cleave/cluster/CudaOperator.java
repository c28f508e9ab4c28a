package dev.cleave.cluster;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * A {@link GraphOperator} held in device memory (cleave_cuda_spectral_op: the scale and every
 * piece uploaded once, at construction) on a CUDA device: the GPU ({@link Device.Kind#CUDA}) or the
 * CPU emulation of its kernels ({@link Device.Kind#CUDA_EMU}), whose library, with the device
 * made current, comes from {@link Device#cuda()}. {@link #eigs} runs the shared
 * Chebyshev iteration ({@link ChebyshevEigensolver}) over {@link DeviceBlocks}. Device memory
 * is held until {@link #close()}. Used by one thread at a time (the op keeps its workspace).
 */
final class CudaOperator extends GraphOperatorHandle {
    /** Largest block size p the device's block_mul_square takes (cleave_cuda.h). */
    static final int MAX_BLOCK = 256;

    private final CudaApi api;
    private long op;

    CudaOperator(GraphOperator g, CudaApi api) {
        super(g);
        this.api = api;
        try (LongPointer out = new LongPointer(1); DoublePointer scale = new DoublePointer(g.scale)) {
            api.check(api.spectralOpCreate(g.n, g.half, scale, out));
            op = out.get();
        }
        try {
            for (GraphOperator.Piece p : g.pieces) {
                if (p.isDense()) {
                    try (FloatPointer a = new FloatPointer(p.dense())) {
                        api.check(api.spectralOpAddDense(op, p.dst(), p.rows(), p.src(), p.cols(), a, p.mirror() ? 1 : 0));
                    }
                } else {
                    try (LongPointer off = new LongPointer(p.offsets()); IntPointer col = new IntPointer(p.columns());
                            FloatPointer w = new FloatPointer(p.weights())) {
                        api.check(api.spectralOpAddCsr(op, p.dst(), p.rows(), p.src(), p.cols(), off, col, w));
                    }
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void apply(int which, double[] x, double[] y, int cols) {
        int d = dim(which);
        try (CudaBuffer dx = CudaBuffer.of(api, x); CudaBuffer dy = CudaBuffer.allocate(api, 8L * d * cols)) {
            api.check(api.spectralOpApply(op, which, dx.address(), dy.address(), cols));
            System.arraycopy(dy.toDoubles(), 0, y, 0, d * cols);
        }
    }

    @Override
    public Eigenpairs eigs(int which, int k, int p, double lower, double upper, double tol, boolean sqrtScaled,
            int maxIter, int maxDegree, double amplification, double[] x0, double[] locked, double[] lockedValues) {
        if (p > MAX_BLOCK) {
            throw new InvalidInputException("the " + api.name() + " backend takes eigensolver blocks of at most " + MAX_BLOCK
                    + " vectors, but k = " + k + " needs " + p + "; lower k (or blockSize) or use --backend cpu");
        }
        try (DeviceBlocks blocks = new DeviceBlocks(api, op, which, dim(which))) {
            return ChebyshevEigensolver.largest(blocks, k, p, lower, upper, tol, sqrtScaled, maxIter, maxDegree,
                    amplification, x0, locked, lockedValues);
        }
    }

    /** The dense path (small operators): the matrix formed by device applications, Jacobi on the host. */
    @Override
    public Eigenpairs dense(int which, int k) {
        return ChebyshevEigensolver.dense(operator(which), k);
    }

    @Override
    public synchronized void close() {
        if (op != 0) {
            long o = op;
            op = 0;
            api.check(api.spectralOpFree(o));
        }
    }
}
