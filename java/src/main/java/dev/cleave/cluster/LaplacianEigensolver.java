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
 * <p>Whatever the path, the residuals ||N v - mu v|| of the returned pairs are recomputed from
 * N itself, and if any exceeds the tolerance an {@link EigenNotConvergedException} is thrown.
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
     * @throws InvalidInputException       if a node has degree 0 or k exceeds the nodes
     * @throws EigenNotConvergedException if the solver ran out of iterations
     */
    public static EigenResult smallest(CsrGraph graph, EigenOptions options) {
        return solve(GraphOperator.of(graph), options);
    }

    /** The k smallest Laplacian eigenpairs of a network graph (its kept nodes, in kept order). */
    public static EigenResult smallest(NetworkGraph graph, EigenOptions options) {
        return solve(GraphOperator.of(graph), options);
    }

    /** Default block size for k pairs. */
    static int defaultBlockSize(int k) {
        return k + Math.max(4, k / 3);
    }

    static EigenResult solve(GraphOperator g, EigenOptions o) {
        long t0 = System.nanoTime();
        int k = o.k();
        int n = g.n;
        if (k > n) {
            throw new InvalidInputException("k = " + k + " eigenpairs exceeds the graph's " + n + " nodes; lower k to at most "
                    + n);
        }
        try (OperatorHandle h = OperatorHandle.open(g, o.backend(), o.resolvedThreads())) {
            double[] mu = null;
            double[] vecs = null;
            Eigenpairs e = null;
            String method = null;
            if (g.half > 0 && k <= g.half) {
                e = run(h, OperatorHandle.M, k, o, 0.0, 1.0, true);
                double[] theta = e.values();
                if (theta[k - 1] >= SIGMA2_MIN) {
                    mu = new double[k];
                    for (int j = 0; j < k; j++) {
                        mu[j] = Math.sqrt(theta[j]);
                    }
                    vecs = lift(h, g, e.vectors(), mu, k);
                    method = (e.iterations() == 0 ? "dense" : "chebyshev") + "-bipartite";
                }
            }
            long apps = 0;
            int iterations = 0;
            if (e != null) {
                apps += e.applications();
                iterations += e.iterations();
            }
            if (vecs == null) {
                e = run(h, OperatorHandle.N, k, o, -1.0, 1.0, false);
                mu = java.util.Arrays.copyOf(e.values(), k);
                vecs = e.vectors();
                method = e.iterations() == 0 ? "dense" : "chebyshev";
                apps += e.applications();
                iterations += e.iterations();
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
            if (converged < k) {
                throw new EigenNotConvergedException("eigensolver (" + method + ")", k, converged, iterations, apps,
                        o.tolerance(), o.maxIterations(), res, lambda, "The residuals were checked on N after the "
                                + "solve; raise maxIterations (now " + o.maxIterations() + ") or loosen the tolerance.");
            }
            double[] out = new double[n * k];
            for (int t = 0; t < n; t++) {
                System.arraycopy(vecs, t * k, out, g.order[t] * k, k);
            }
            fixSigns(out, n, k);
            return new EigenResult(n, k, lambda, out, res, iterations, apps, converged, method, o.tolerance(),
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Dense or iterative solve of the k largest pairs of N or M; throws if not converged. */
    private static Eigenpairs run(OperatorHandle h, int which, int k, EigenOptions o, double lower, double upper,
            boolean sqrtScaled) {
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
            return h.dense(which, k);
        }
        double[] x0 = ChebyshevEigensolver.startBlock(dim, p, o.seed(), which == OperatorHandle.M ? "eigen/start/half"
                : "eigen/start/full");
        Eigenpairs e = h.eigs(which, k, p, lower, upper, o.tolerance(), sqrtScaled, o.maxIterations(),
                ChebyshevEigensolver.DEFAULT_MAX_DEGREE, ChebyshevEigensolver.DEFAULT_AMPLIFICATION, x0);
        if (e.converged() < k) {
            double[] values = e.values();
            double[] res = e.residuals();
            double[] lambda = new double[k];
            double[] resN = new double[k];
            for (int j = 0; j < k; j++) {
                double mu = which == OperatorHandle.M ? Math.sqrt(Math.max(values[j], 0)) : values[j];
                lambda[j] = 1.0 - mu;
                resN[j] = which == OperatorHandle.M ? res[j] / (Math.sqrt(2) * Math.max(mu, 1e-300)) : res[j];
            }
            throw new EigenNotConvergedException("eigensolver (chebyshev on the " + name + ", block " + p + ")", k,
                    e.converged(), e.iterations(), e.applications(), o.tolerance(), o.maxIterations(), resN, lambda, null);
        }
        return e;
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
