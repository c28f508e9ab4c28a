package dev.cleave.cluster;

import dev.cleave.nn.Device;

/**
 * A {@link GraphOperator} made live on a backend: the native op (weights off-heap, released by
 * {@link #close()}), the Java reference, or the device op of a CUDA backend (weights in device
 * memory, released by {@link #close()}). {@code which} selects N (the full normalized
 * adjacency, dimension n) or M (the bipartite half, dimension half).
 */
interface OperatorHandle extends AutoCloseable {
    int N = 0;
    int M = 1;

    int dim(int which);

    /** y = op x for cols vectors (row-major dim x cols). */
    void apply(int which, double[] x, double[] y, int cols);

    /**
     * Chebyshev-filtered subspace iteration by the one driver over this backend's blocks; see
     * {@link ChebyshevEigensolver} for the parameters (locked: null, or exact eigenvectors to
     * deflate out, with their values).
     */
    Eigenpairs eigs(int which, int k, int p, double lower, double upper, double tol, boolean sqrtScaled, int maxIter,
            int maxDegree, double amplification, double[] x0, double[] locked, double[] lockedValues);

    /** Operator {@code which} as a {@link SymmetricOperator} on host arrays (the Java solvers' view of it). */
    default SymmetricOperator operator(int which) {
        int d = dim(which);
        return new SymmetricOperator() {
            @Override
            public int size() {
                return d;
            }

            @Override
            public void apply(double[] x, double[] y, int cols) {
                OperatorHandle.this.apply(which, x, y, cols);
            }
        };
    }

    /** The k largest pairs from the dense matrix. */
    Eigenpairs dense(int which, int k);

    /** Floating-point operations of one application to one vector. */
    double flops();

    @Override
    void close();

    static OperatorHandle open(GraphOperator g, Device backend, int threads) {
        return switch (backend.kind()) {
            case CPU -> new NativeOperator(g, threads);
            case JAVA -> new JavaOperator(g);
            case CUDA, CUDA_EMU -> new CudaOperator(g, backend.cuda());
        };
    }
}
