package dev.cleave.cluster;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;

/**
 * The k smallest eigenpairs of a graph's normalized Laplacian L = I - D^-1/2 A D^-1/2, computed
 * as the k largest of N = D^-1/2 A D^-1/2 = I - L ("largest algebraic": the spectrum of N lies
 * in [-1, 1] and, for bipartite graphs, is symmetric, so largest magnitude would be wrong).
 *
 * <p>Bipartite graphs (every network graph: even layers against odd ones; any two-colourable
 * CSR graph) are solved through the half operator M = N_ST N_TS on the smaller side S, whose
 * eigenvalues are the squared singular values sigma^2 of the cross block N_ST: the k largest
 * eigenvalues of N are sigma_1..sigma_k, and each eigenvector (u, N_TS u / sigma) / sqrt 2
 * follows from u. On M the unwanted part of the spectrum is [0, sigma_{p+1}^2] rather than
 * [-1, sigma_{p+1}], which makes the Chebyshev filter several times more effective on the
 * bunched-up spectra of network graphs. If sigma_k is tiny (below 1e-4) the lift is
 * ill-conditioned and N is solved directly instead.
 *
 * <p>Graphs of several connected components have N's eigenvalue 1 (L's 0) once per component,
 * a multiplicity that may exceed any block size; its eigenvectors are known exactly (D^1/2 1_C
 * per component C), so the iterative path locks them in and iterates for the remaining pairs
 * only (see {@link #run}).
 *
 * <p>Whatever the path, the residuals ||N v - mu v|| of the returned pairs are recomputed from
 * N itself; the result's {@link EigenResult#status()} says whether all met the tolerance
 * ({@link EigenResult#requireConverged()} throws {@link EigenNotConvergedException} if not).
 */
public final class LaplacianEigensolver {
    /** {@link Solver#AUTO} solves problems of at most this many rows densely. */
    public static final int AUTO_DENSE_MAX = 256;
    /** {@link Solver#DENSE} accepts problems of at most this many rows (8 dim^2 bytes). */
    public static final int DENSE_LIMIT = 6000;
    /** The Java reference's dense (Jacobi) path is limited to this many rows. */
    static final int JAVA_DENSE_LIMIT = 1200;
    /** Below this sigma_k^2 the lift from M is ill-conditioned: solve N. */
    public static final double SIGMA2_MIN = 1e-8;

    private LaplacianEigensolver() {}

    /**
     * The k smallest Laplacian eigenpairs of a graph without isolated nodes.
     *
     * @return the pairs, with {@link EigenResult#status()} NOT_CONVERGING (or NUMERICAL_ISSUE)
     *         and the converged count if the solver ran out of iterations (no exception here)
     * @throws InvalidInputException if a node has degree 0 or k exceeds the nodes
     */
    public static EigenResult smallest(CsrGraph graph, EigenOptions options) {
        return solve(GraphOperator.of(graph), options);
    }

    /** The k smallest Laplacian eigenpairs of a network graph (its kept nodes, in kept order). */
    public static EigenResult smallest(NetworkGraph graph, EigenOptions options) {
        return solve(GraphOperator.of(graph), options);
    }

    /**
     * As {@link #smallest(NetworkGraph, EigenOptions)}, warm-started: the iterative solve's start
     * block begins with the columns of {@code start} (nodes x startColumns, row-major, in the
     * graph's kept-node order; e.g. the previous {@link EigenResult#eigenvectors()} of a slowly
     * changing graph), its other columns Gaussian from the seed. The spectral regulariser solves
     * every training step this way. The dense path ignores the start.
     */
    public static EigenResult smallestFrom(NetworkGraph graph, EigenOptions options, double[] start, int startColumns) {
        GraphOperator g = GraphOperator.of(graph);
        if (startColumns < 0 || start == null || start.length != (long) g.n * startColumns) {
            throw new InvalidInputException("a warm start needs nodes x startColumns = " + g.n + " x " + startColumns
                    + " values, got " + (start == null ? "none" : start.length));
        }
        return solve(g, options, start, startColumns);
    }

    /** Default block size for k pairs. */
    static int defaultBlockSize(int k) {
        return k + Math.max(4, k / 3);
    }

    static EigenResult solve(GraphOperator g, EigenOptions o) {
        return solve(g, o, null, 0);
    }

    private static EigenResult solve(GraphOperator g, EigenOptions o, double[] warm, int wc) {
        long t0 = System.nanoTime();
        int k = o.k();
        int n = g.n;
        if (k > n) {
            throw new InvalidInputException("k = " + k + " eigenpairs exceeds the graph's " + n + " nodes; lower k to at most "
                    + n);
        }
        try (OperatorHandle h = OperatorHandle.open(g, o.backend(), o.resolvedThreads())) {
            return solve(h, g, o, warm, wc, t0);
        }
    }

    /** As {@link #solve(GraphOperator, EigenOptions)} on an open handle of g (not closed here); t0 the start time (ns). */
    static EigenResult solve(OperatorHandle h, GraphOperator g, EigenOptions o, double[] warm, int wc, long t0) {
        int k = o.k();
        int n = g.n;
        {
            double[] mu = null;
            double[] vecs = null;
            Solved s = null;
            String method = null;
            long apps = 0;
            int iterations = 0;
            if (g.half > 0 && k <= g.half) {
                s = run(h, g, OperatorHandle.M, k, o, 0.0, 1.0, true, warm, wc);
                apps += s.e.applications();
                iterations += s.e.iterations();
                double[] theta = s.e.values();
                if (theta[k - 1] >= SIGMA2_MIN || s.e.status() != EigenStatus.SUCCESSFUL) {
                    mu = new double[k];
                    for (int j = 0; j < k; j++) {
                        mu[j] = Math.sqrt(Math.max(theta[j], 0.0));
                    }
                    double[] sigma = new double[k];
                    for (int j = 0; j < k; j++) {
                        sigma[j] = Math.max(mu[j], Double.MIN_NORMAL); // only a failed solve has sigma 0 here
                    }
                    vecs = lift(h, g, s.e.vectors(), sigma, k);
                    method = s.method + "-bipartite";
                }
            }
            if (vecs == null) {
                s = run(h, g, OperatorHandle.N, k, o, -1.0, 1.0, false, warm, wc);
                mu = java.util.Arrays.copyOf(s.e.values(), k);
                vecs = s.e.vectors();
                method = s.method;
                apps += s.e.applications();
                iterations += s.e.iterations();
            }
            double[] av = new double[n * k];
            h.apply(OperatorHandle.N, vecs, av, k);
            apps += k;
            double[] res = DenseMath.residuals(n, vecs, av, k, k, mu);
            int converged = 0;
            for (double r : res) {
                converged += r <= o.tolerance() ? 1 : 0;
            }
            double[] lambda = new double[k];
            for (int j = 0; j < k; j++) {
                lambda[j] = 1.0 - mu[j];
            }
            EigenStatus status = s.e.status() == EigenStatus.SUCCESSFUL ? EigenStatus.of(k, converged, lambda, res)
                    : s.e.status();
            double[] out = new double[n * k];
            for (int t = 0; t < n; t++) {
                System.arraycopy(vecs, t * k, out, g.order[t] * k, k);
            }
            fixSigns(out, n, k);
            return new EigenResult(n, k, lambda, out, res, iterations, apps, converged, status, method, o.tolerance(),
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The pairs of one operator and the name of the method that found them. */
    private record Solved(Eigenpairs e, String method) {}

    /**
     * Dense or iterative solve of the k largest pairs of N or M. On the iterative path a graph of
     * c >= 2 connected components has its known null space of L (N's eigenvalue 1, one vector
     * D^1/2 1_C per component) locked in and deflated out of the iteration, which then looks for
     * the k - c pairs after it only; with c >= k no iteration runs and the k component vectors of
     * the largest volume are returned (ties: the component holding the smallest graph node).
     */
    private static Solved run(OperatorHandle h, GraphOperator g, int which, int k, EigenOptions o, double lower,
            double upper, boolean sqrtScaled, double[] warm, int wc) {
        int dim = h.dim(which);
        String name = which == OperatorHandle.M ? "half operator M" : "normalized adjacency N";
        boolean dense = o.solver() == Solver.DENSE || (o.solver() == Solver.AUTO && dim <= AUTO_DENSE_MAX);
        int p = o.blockSize() > 0 ? o.blockSize() : defaultBlockSize(k);
        if (!dense && p > dim) {
            if (o.blockSize() > 0 && o.solver() == Solver.ITERATIVE) {
                throw new InvalidInputException("blockSize " + p + " exceeds the dimension " + dim + " of the " + name
                        + "; lower blockSize or use solver 'dense'");
            }
            if (o.solver() == Solver.AUTO) {
                dense = true;
            } else {
                p = dim;
            }
        }
        if (dense) {
            int limit = o.backend().kind() == Device.Kind.CPU ? DENSE_LIMIT : JAVA_DENSE_LIMIT;
            if (dim > limit) {
                throw new InvalidInputException("the dense solver is limited to " + limit + " rows (" + o.backend()
                        + " backend) but the " + name + " has " + dim + "; use solver 'iterative' or 'auto'");
            }
            return new Solved(h.dense(which, k), "dense");
        }
        String purpose = which == OperatorHandle.M ? "eigen/start/half" : "eigen/start/full";
        double[][] nullSpace = nullSpace(g, which);
        if (nullSpace == null) {
            double[] x0 = start(g, dim, p, o.seed(), purpose, warm, wc);
            return new Solved(h.eigs(which, k, p, lower, upper, o.tolerance(), sqrtScaled, o.maxIterations(),
                    ChebyshevEigensolver.DEFAULT_MAX_DEGREE, ChebyshevEigensolver.DEFAULT_AMPLIFICATION, x0, null, null),
                    "chebyshev");
        }
        int c = nullSpace.length;
        if (c >= k) {
            double[] z = columns(nullSpace, k, dim);
            double[] az = new double[dim * k];
            h.apply(which, z, az, k);
            double[] ones = new double[k];
            java.util.Arrays.fill(ones, 1.0);
            double[] res = DenseMath.residuals(dim, z, az, k, k, ones);
            return new Solved(new Eigenpairs(ones, z, res, 0, k, k, EigenStatus.SUCCESSFUL), "components");
        }
        int rest = k - c;
        int q = o.blockSize() > 0 ? Math.max(rest, o.blockSize() - c) : defaultBlockSize(rest);
        q = Math.min(q, dim - c);
        double[] x0 = start(g, dim, q, o.seed(), purpose, warm, wc);
        double[] ones = new double[c];
        java.util.Arrays.fill(ones, 1.0);
        Eigenpairs e = h.eigs(which, rest, q, lower, upper, o.tolerance(), sqrtScaled, o.maxIterations(),
                ChebyshevEigensolver.DEFAULT_MAX_DEGREE, ChebyshevEigensolver.DEFAULT_AMPLIFICATION, x0,
                columns(nullSpace, c, dim), ones);
        return new Solved(e, "chebyshev-deflated");
    }

    /** The Gaussian start block, its first columns taken from the warm start (graph order) if there is one. */
    private static double[] start(GraphOperator g, int dim, int p, long seed, String purpose, double[] warm, int wc) {
        double[] x0 = ChebyshevEigensolver.startBlock(dim, p, seed, purpose);
        int c = Math.min(wc, p);
        if (warm != null) {
            for (int t = 0; t < dim; t++) {
                System.arraycopy(warm, g.order[t] * wc, x0, t * p, c);
            }
        }
        return x0;
    }

    /** The first cols of the given unit vectors as a dim x cols row-major block. */
    private static double[] columns(double[][] v, int cols, int dim) {
        double[] out = new double[dim * cols];
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < dim; i++) {
                out[i * cols + j] = v[j][i];
            }
        }
        return out;
    }

    /**
     * The eigenvectors of eigenvalue 1 of operator {@code which} (N, or M on the side S) known
     * from the graph's connected components: for each component C, D^1/2 1_C (restricted to S
     * for M), normalized; ordered by component volume, largest first, ties to the component
     * with the smallest graph node. Null for a connected graph (its one trivial pair converges
     * at once and needs no deflation).
     */
    static double[][] nullSpace(GraphOperator g, int which) {
        int[] label = g.componentLabels();
        int c = 0;
        for (int l : label) {
            c = Math.max(c, l + 1);
        }
        if (c < 2) {
            return null;
        }
        int dim = which == OperatorHandle.M ? g.half : g.n;
        double[] volume = new double[c];
        int[] first = new int[c];
        java.util.Arrays.fill(first, Integer.MAX_VALUE);
        for (int t = 0; t < g.n; t++) {
            volume[label[t]] += g.degree[t];
            first[label[t]] = Math.min(first[label[t]], g.order[t]);
        }
        Integer[] rank = new Integer[c];
        for (int j = 0; j < c; j++) {
            rank[j] = j;
        }
        java.util.Arrays.sort(rank, (a, b) -> volume[a] != volume[b] ? Double.compare(volume[b], volume[a])
                : Integer.compare(first[a], first[b]));
        double[][] v = new double[c][dim];
        double[] norm = new double[c];
        for (int t = 0; t < dim; t++) {
            double x = Math.sqrt(g.degree[t]);
            v[label[t]][t] = x;
            norm[label[t]] += x * x;
        }
        double[][] out = new double[c][];
        for (int j = 0; j < c; j++) {
            double[] col = v[rank[j]];
            double s = Math.sqrt(norm[rank[j]]);
            for (int t = 0; t < dim; t++) {
                col[t] /= s;
            }
            out[j] = col;
        }
        return out;
    }

    /** Eigenvectors of N from those of M: v = (u, N_TS u / sigma), normalized. */
    static double[] lift(OperatorHandle h, GraphOperator g, double[] u, double[] sigma, int k) {
        int n = g.n;
        int s = g.half;
        double[] full = new double[n * k];
        System.arraycopy(u, 0, full, 0, s * k);
        double[] y = new double[n * k];
        h.apply(OperatorHandle.N, full, y, k);
        for (int i = s; i < n; i++) {
            for (int j = 0; j < k; j++) {
                full[i * k + j] = y[i * k + j] / sigma[j];
            }
        }
        double[] norm = new double[k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                norm[j] += full[i * k + j] * full[i * k + j];
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                full[i * k + j] /= Math.sqrt(norm[j]);
            }
        }
        return full;
    }

    /** Deterministic signs: each column's largest-magnitude entry (first on ties) is positive. */
    static void fixSigns(double[] v, int n, int k) {
        for (int j = 0; j < k; j++) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (Math.abs(v[i * k + j]) > Math.abs(v[best * k + j])) {
                    best = i;
                }
            }
            if (v[best * k + j] < 0) {
                for (int i = 0; i < n; i++) {
                    v[i * k + j] = -v[i * k + j];
                }
            }
        }
    }
}
