package dev.cleave.cluster;

import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.SplittableRandom;

/**
 * The k largest eigenpairs of a symmetric operator by Chebyshev-filtered subspace iteration
 * (Zhou and Saad 2007), in plain Java and double precision. It is the reference for the native
 * solver (native/src/spectral_eigs.cpp), which runs the same algorithm, and it works on any
 * {@link SymmetricOperator} whose spectrum lies in a known interval [lower, upper].
 *
 * <p>Each iteration: Rayleigh-Ritz on the whole block of p > k vectors; the leading pairs whose
 * residual meets the tolerance are soft-locked (kept, not filtered); the other columns go
 * through a Chebyshev filter that damps [lower, b], b the smallest Ritz value of the block, with
 * every step deflated against the locked vectors; the filtered block is orthonormalized. The
 * filter degree is the largest (up to {@code maxDegree}) whose growth at the largest unlocked
 * Ritz value (at {@code upper} in the first iteration) stays below {@code amplification}, so a
 * far outlier cannot swamp the wanted directions in floating point.
 */
public final class ChebyshevEigensolver {
    /** Default cap on the filter degree per iteration. */
    public static final int DEFAULT_MAX_DEGREE = 10;
    /** Default cap on the growth of any direction in one filter application. */
    public static final double DEFAULT_AMPLIFICATION = 1e8;

    private ChebyshevEigensolver() {}

    /**
     * The k largest eigenpairs of {@code op}, whose spectrum must lie in [lower, upper].
     * Convergence: ||A v - theta v|| <= tolerance for every one of the k pairs.
     *
     * @param blockSize p, with k < p <= op.size() (k + max(4, k/3) is a good choice)
     * @param seed      seed of the Gaussian start block (stream "eigen/start")
     * @return the pairs; {@code converged() < k} if maxIterations ran out (no exception here:
     *         the caller decides)
     */
    public static Eigenpairs largest(SymmetricOperator op, int k, int blockSize, double lower, double upper,
            double tolerance, int maxIterations, long seed) {
        int n = op.size();
        if (k < 1 || blockSize < k || blockSize > n) {
            throw new InvalidInputException("need 1 <= k <= blockSize <= size = " + n + ", got k = " + k
                    + ", blockSize = " + blockSize);
        }
        if (!(lower < upper) || !(tolerance > 0) || maxIterations < 1) {
            throw new InvalidInputException("need lower < upper, tolerance > 0 and maxIterations >= 1; got " + lower + ", "
                    + upper + ", " + tolerance + ", " + maxIterations);
        }
        return largest(op, k, blockSize, lower, upper, tolerance, false, maxIterations, DEFAULT_MAX_DEGREE,
                DEFAULT_AMPLIFICATION, startBlock(n, blockSize, seed, "eigen/start"));
    }

    /**
     * As {@link #largest(SymmetricOperator, int, int, double, double, double, int, long)}, but
     * starting from {@code start} (n x blockSize, row-major; not modified): a warm start for a
     * slowly changing operator, such as the previous training step's eigenvectors padded with
     * random columns.
     */
    public static Eigenpairs largestFrom(SymmetricOperator op, int k, int blockSize, double lower, double upper,
            double tolerance, int maxIterations, double[] start) {
        int n = op.size();
        if (k < 1 || blockSize < k || blockSize > n || start.length != (long) n * blockSize) {
            throw new InvalidInputException("need 1 <= k <= blockSize <= size = " + n + " and an n x blockSize start, got k = "
                    + k + ", blockSize = " + blockSize + ", start of " + start.length);
        }
        return largest(op, k, blockSize, lower, upper, tolerance, false, maxIterations, DEFAULT_MAX_DEGREE,
                DEFAULT_AMPLIFICATION, start);
    }

    /** A Gaussian n x p start block from stream {@code purpose} of {@code seed}. */
    static double[] startBlock(int n, int p, long seed, String purpose) {
        SplittableRandom r = Rng.stream(seed, purpose);
        double[] x = new double[n * p];
        for (int i = 0; i < x.length; i += 2) { // Box-Muller, two normals per pair of uniforms
            double u1 = 1.0 - r.nextDouble();
            double u2 = r.nextDouble();
            double rad = Math.sqrt(-2.0 * Math.log(u1));
            x[i] = rad * Math.cos(2 * Math.PI * u2);
            if (i + 1 < x.length) {
                x[i + 1] = rad * Math.sin(2 * Math.PI * u2);
            }
        }
        return x;
    }

    /** Tolerance of pair j: absolute, or (sqrtScaled) the M-space tolerance of a lifted N pair. */
    static double pairTolerance(double tol, boolean sqrtScaled, double theta) {
        return sqrtScaled ? tol * 0.5 * Math.sqrt(2.0 * Math.max(theta, 1e-6)) : tol;
    }

    /** Degree of the filter: the native solver computes it the same way. */
    static int degree(int iteration, double[] theta, int nc, double lower, double upper, int maxDegree,
            double amplification, double[] interval) {
        int p = theta.length;
        double b = theta[p - 1];
        if (b - lower < 1e-12 * (upper - lower)) {
            b = lower + 1e-12 * (upper - lower);
        }
        double e = 0.5 * (b - lower);
        double c = 0.5 * (b + lower);
        double top = iteration == 1 ? upper : Math.max(theta[nc], b + 1e-15);
        double xt = (top - c) / e;
        int m = maxDegree;
        if (xt > 1.0) {
            m = Math.max(1, Math.min(maxDegree, (int) Math.floor(acosh(amplification) / acosh(xt))));
        }
        interval[0] = e;
        interval[1] = c;
        interval[2] = top;
        return m;
    }

    private static double acosh(double x) {
        return Math.log(x + Math.sqrt(x * x - 1.0));
    }

    /** The full-parameter solve shared with the graph driver; x0 is dim x p and not modified. */
    static Eigenpairs largest(SymmetricOperator op, int k, int p, double lower, double upper, double tol,
            boolean sqrtScaled, int maxIter, int maxDegree, double amplification, double[] x0) {
        return largest(new HostBlocks(op), k, p, lower, upper, tol, sqrtScaled, maxIter, maxDegree, amplification, x0);
    }

    /**
     * The iteration itself, written once against {@link BlockOps}: on Java arrays
     * ({@link HostBlocks}) or on device memory ({@link DeviceBlocks}, every n-row block on the
     * GPU and only p x p matrices here). x0 is dim x p and not modified.
     */
    static <B> Eigenpairs largest(BlockOps<B> ops, int k, int p, double lower, double upper, double tol,
            boolean sqrtScaled, int maxIter, int maxDegree, double amplification, double[] x0) {
        int n = ops.rows();
        long[] apps = {0};
        B x = ops.upload(x0, p);
        B ax = null;
        try {
            ax = ops.allocate(p);
            ops.orthonormalize(x, p, p);
            applyColumns(ops, x, ax, p, 0, p, apps);
            double[] theta = new double[p];
            double[] res;
            int nc;
            int it = 0;
            double[] interval = new double[3];
            for (;;) {
                double[] h = ops.gram(x, p, p, ax, p, p);
                double[] q = DenseMath.symmetricEigen(h, p, theta);
                ops.mulSquare(x, p, p, q);
                ops.mulSquare(ax, p, p, q);
                res = ops.residuals(x, ax, p, k, theta);
                nc = 0;
                while (nc < k && res[nc] <= pairTolerance(tol, sqrtScaled, theta[nc])) {
                    nc++;
                }
                if (nc >= k || it >= maxIter) {
                    break;
                }
                it++;
                int m = degree(it, theta, nc, lower, upper, maxDegree, amplification, interval);
                filter(ops, x, p, nc, m, interval, apps);
                applyColumns(ops, x, ax, p, nc, p - nc, apps);
            }
            double[] vectors = ops.download(x, p, k);
            return new Eigenpairs(theta, vectors, res, it, apps[0], nc);
        } finally {
            ops.release(x);
            if (ax != null) {
                ops.release(ax);
            }
        }
    }

    /**
     * Replaces the unlocked columns nc..p-1 of X by their Chebyshev filter of degree m on the
     * interval (e, c, top) = interval, every step deflated against the nc locked columns, then
     * orthonormalized (twice, deflating before each).
     */
    private static <B> void filter(BlockOps<B> ops, B x, int p, int nc, int m, double[] interval, long[] apps) {
        int n = ops.rows();
        double e = interval[0];
        double c = interval[1];
        double top = interval[2];
        int nf = p - nc;
        long count = (long) n * nf;
        B y0 = ops.allocate(nf);
        B y1 = ops.allocate(nf);
        B y2 = ops.allocate(nf);
        try {
            ops.copyColumns(x, p, nc, y0, nf, 0, nf);
            double sigma1 = e / (top - c);
            double sigma = sigma1;
            ops.apply(y0, y1, nf);
            apps[0] += nf;
            ops.chebyshevStep(count, sigma1 / e, c, 0.0, null, y0, y1);
            deflate(ops, x, p, nc, y1, nf);
            for (int deg = 2; deg <= m; deg++) {
                double s2 = 1.0 / (2.0 / sigma1 - sigma);
                ops.apply(y1, y2, nf);
                apps[0] += nf;
                ops.chebyshevStep(count, 2.0 * s2 / e, c, sigma * s2, y0, y1, y2);
                deflate(ops, x, p, nc, y2, nf);
                B t = y0;
                y0 = y1;
                y1 = y2;
                y2 = t;
                sigma = s2;
            }
            deflate(ops, x, p, nc, y1, nf);
            ops.orthonormalize(y1, nf, nf);
            deflate(ops, x, p, nc, y1, nf);
            ops.orthonormalize(y1, nf, nf);
            ops.copyColumns(y1, nf, 0, x, p, nc, nf);
        } finally {
            ops.release(y0);
            ops.release(y1);
            ops.release(y2);
        }
    }

    /** Y (n x nf) -= X[:, 0:locked] (X[:, 0:locked]^T Y): the filtered block kept off the locked vectors. */
    private static <B> void deflate(BlockOps<B> ops, B x, int p, int locked, B y, int nf) {
        if (locked > 0) {
            double[] g = ops.gram(x, p, locked, y, nf, nf);
            ops.subMul(x, p, locked, g, y, nf, nf);
        }
    }

    /** AX[:, c0:c0+c] = op X[:, c0:c0+c], through contiguous n x c blocks. */
    private static <B> void applyColumns(BlockOps<B> ops, B m, B out, int p, int c0, int c, long[] apps) {
        B in = ops.allocate(c);
        B o = ops.allocate(c);
        try {
            ops.copyColumns(m, p, c0, in, c, 0, c);
            ops.apply(in, o, c);
            ops.copyColumns(o, c, 0, out, p, c0, c);
        } finally {
            ops.release(in);
            ops.release(o);
        }
        apps[0] += c;
    }

    /**
     * The k largest eigenpairs from the dense matrix of {@code op} (formed by applying it to the
     * identity) and Jacobi rotations: the reference's dense path, for small operators.
     */
    static Eigenpairs dense(SymmetricOperator op, int k) {
        int n = op.size();
        double[] eye = new double[n * n];
        for (int i = 0; i < n; i++) {
            eye[i * n + i] = 1.0;
        }
        double[] a = new double[n * n];
        op.apply(eye, a, n);
        double[] values = new double[n];
        double[] v = DenseMath.symmetricEigen(a, n, values);
        double[] vectors = new double[n * k];
        for (int i = 0; i < n; i++) {
            System.arraycopy(v, i * n, vectors, i * k, k);
        }
        double[] av = new double[n * k];
        op.apply(vectors, av, k);
        double[] res = DenseMath.residuals(n, vectors, av, k, k, values);
        return new Eigenpairs(java.util.Arrays.copyOf(values, k), vectors, res, 0, n + k, k);
    }
}
