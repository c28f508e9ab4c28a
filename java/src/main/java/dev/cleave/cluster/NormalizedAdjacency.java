package dev.cleave.cluster;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;

/**
 * The normalized adjacency N = D^-1/2 A D^-1/2 of a graph as a live operator: y = N x on a block
 * of vectors, in the graph's node order, without forming N. The native backend holds the
 * weights off-heap (about 4 bytes per stored entry, twice for a network's dense layers) until
 * {@link #close()}: use try-with-resources. On the native and Java backends it is safe to apply
 * from several threads at once; on the CUDA backends ({@link CudaOperator}) the device operator
 * keeps its workspace in itself, so one thread at a time.
 *
 * <pre>{@code
 * try (NormalizedAdjacency n = NormalizedAdjacency.of(graph, Device.cpu(), 0)) {
 *     n.apply(x, y, cols);
 * }
 * }</pre>
 */
public final class NormalizedAdjacency implements SymmetricOperator, AutoCloseable {
    private final GraphOperator g;
    private final OperatorHandle h;

    private NormalizedAdjacency(GraphOperator g, Device backend, int threads) {
        this.g = g;
        this.h = OperatorHandle.open(g, backend, Threads.resolve(threads));
    }

    /** N of a graph without isolated nodes; threads 0 = all processors. */
    public static NormalizedAdjacency of(CsrGraph graph, Device backend, int threads) {
        return new NormalizedAdjacency(GraphOperator.of(graph), backend, threads);
    }

    /** N of a network graph (its kept nodes, in kept order), applied layer by layer. */
    public static NormalizedAdjacency of(NetworkGraph graph, Device backend, int threads) {
        return new NormalizedAdjacency(GraphOperator.of(graph), backend, threads);
    }

    @Override
    public int size() {
        return g.n;
    }

    /** y = N x for cols vectors (row-major, size() x cols, graph node order). */
    @Override
    public void apply(double[] x, double[] y, int cols) {
        int n = g.n;
        if (x.length < n * cols || y.length < n * cols) {
            throw new dev.cleave.util.InvalidInputException("x and y need size() * cols = " + (n * cols) + " entries");
        }
        double[] xp = new double[n * cols];
        for (int t = 0; t < n; t++) {
            System.arraycopy(x, g.order[t] * cols, xp, t * cols, cols);
        }
        double[] yp = new double[n * cols];
        h.apply(OperatorHandle.N, xp, yp, cols);
        for (int t = 0; t < n; t++) {
            System.arraycopy(yp, t * cols, y, g.order[t] * cols, cols);
        }
    }

    /**
     * Floating-point operations of one application to one vector (2 per stored entry it
     * multiplies), for throughput figures.
     */
    public double flops() {
        return h.flops();
    }

    /** Size of the bipartite half operator (the smaller side), 0 if the graph is not bipartite. */
    public int halfSize() {
        return g.half;
    }

    /**
     * y = M x with M = N_ST N_TS, the half operator on the smaller side S of a bipartite graph
     * (operator order: S's nodes in graph order); the eigensolver iterates on it.
     */
    public void applyHalf(double[] x, double[] y, int cols) {
        if (g.half == 0) {
            throw new dev.cleave.util.InvalidInputException("the graph is not bipartite: it has no half operator");
        }
        h.apply(OperatorHandle.M, x, y, cols);
    }

    /**
     * Eigenvectors of N from eigenvectors of the half operator M: for unit eigenvectors u (the
     * columns of a halfSize() x k block, row-major) of M with eigenvalues sigma^2 > 0, the unit
     * eigenvectors v = (u, N_TS u / sigma) / sqrt 2 of N with eigenvalues sigma, as a size() x k
     * block in graph node order (like {@link #apply}).
     */
    public double[] liftHalf(double[] u, double[] sigma, int k) {
        if (g.half == 0 || u.length < g.half * k || sigma.length < k) {
            throw new dev.cleave.util.InvalidInputException("liftHalf needs a bipartite graph, a halfSize() x k block and k "
                    + "singular values");
        }
        for (int j = 0; j < k; j++) {
            if (!(sigma[j] > 0)) {
                throw new dev.cleave.util.InvalidInputException("liftHalf needs sigma > 0, got sigma[" + j + "] = " + sigma[j]);
            }
        }
        double[] v = LaplacianEigensolver.lift(h, g, u, sigma, k);
        double[] out = new double[g.n * k];
        for (int t = 0; t < g.n; t++) {
            System.arraycopy(v, t * k, out, g.order[t] * k, k);
        }
        return out;
    }

    @Override
    public void close() {
        h.close();
    }
}
