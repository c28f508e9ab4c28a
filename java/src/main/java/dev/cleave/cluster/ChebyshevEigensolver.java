package dev.cleave.cluster;

import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.SplittableRandom;

/**
 * The k largest eigenpairs of a symmetric operator by Chebyshev-filtered subspace iteration
 * (Zhou and Saad 2007), in double precision: the one driver of the iteration for every backend
 * (host arrays, the native block kernels, device memory; see {@link BlockOps}). It works on any
 * {@link SymmetricOperator} whose spectrum lies in a known interval [lower, upper].
 *
 * <p>Each iteration: Rayleigh-Ritz on the whole block of p >= k vectors; the leading pairs whose
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
     * @param blockSize p, with k <= p <= op.size() (p = k is accepted; a few more vectors, k + max(4, k/3),
     *                  converge much faster)
     * @param seed      seed of the Gaussian start block (stream "eigen/start")
     * @return the pairs; {@link Eigenpairs#status()} says whether all k converged (no exception
     *         here: the caller decides)
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

    /** Degree of the filter: the largest (up to maxDegree) whose growth at the top stays below amplification. */
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
        return largest(new HostBlocks(op), k, p, lower, upper, tol, sqrtScaled, maxIter, maxDegree, amplification, x0,
                null, null);
    }

    /**
     * The iteration itself, the one driver of every backend, written against {@link BlockOps}: on
     * Java arrays ({@link HostBlocks}), on off-heap memory through the native block kernels
     * ({@link NativeBlocks}) or on device memory ({@link DeviceBlocks}); every n-row block lives
     * in the backend and only p x p matrices here. x0 is dim x p and not modified.
     *
     * <p>{@code locked} (dim x l, orthonormal, or null) holds l exact eigenvectors of the
     * operator with eigenvalues {@code lockedValues}, all at the top of the spectrum (a graph's
     * known null space of L, one vector per connected component): they are deflated out of the
     * start block and out of every filter step, so the iteration looks for the k pairs that come
     * after them. The result then holds l + k pairs, the locked ones first: values (l + p),
     * vectors dim x (l + k), residuals (l + k, the locked ones computed from the operator), and
     * converged counts the locked pairs.
     */
    static <B> Eigenpairs largest(BlockOps<B> ops, int k, int p, double lower, double upper, double tol,
            boolean sqrtScaled, int maxIter, int maxDegree, double amplification, double[] x0, double[] locked,
            double[] lockedValues) {
        int n = ops.rows();
        int nl = locked == null ? 0 : lockedValues.length;
        long[] apps = {0};
        B z = nl > 0 ? ops.upload(locked, nl) : null;
        B x = null;
        B ax = null;
        try {
            x = ops.upload(x0, p);
            ax = ops.allocate(p);
            if (z != null) {
                deflate(ops, z, nl, nl, x, p, p);
                ops.orthonormalize(x, p, p);
                deflate(ops, z, nl, nl, x, p, p);
            }
            ops.orthonormalize(x, p, p);
            applyColumns(ops, x, ax, p, 0, p, apps);
            double[] theta = new double[p];
            double[] res;
            int nc;
            int it = 0;
            EigenStatus status;
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
                status = EigenStatus.of(k, nc, theta, res);
                if (status != EigenStatus.NOT_CONVERGING || it >= maxIter) {
                    break;
                }
                it++;
                int m = degree(it, theta, nc, lower, upper, maxDegree, amplification, interval);
                filter(ops, x, p, nc, z, nl, m, interval, apps);
                applyColumns(ops, x, ax, p, nc, p - nc, apps);
            }
            double[] vectors = ops.download(x, p, k);
            if (nl == 0) {
                return new Eigenpairs(theta, vectors, res, it, apps[0], nc, status);
            }
            double[] zres = lockedResiduals(ops, z, nl, lockedValues, apps);
            double[] lv = locked;
            double[] all = new double[n * (nl + k)];
            for (int i = 0; i < n; i++) {
                System.arraycopy(lv, i * nl, all, i * (nl + k), nl);
                System.arraycopy(vectors, i * k, all, i * (nl + k) + nl, k);
            }
            return new Eigenpairs(concat(lockedValues, theta), all, concat(zres, res), it, apps[0], nl + nc, status);
        } finally {
            if (z != null) {
                ops.release(z);
            }
            if (x != null) {
                ops.release(x);
            }
            if (ax != null) {
                ops.release(ax);
            }
        }
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** ||A z_j - value_j z_j|| of the locked vectors, from the operator. */
    private static <B> double[] lockedResiduals(BlockOps<B> ops, B z, int nl, double[] values, long[] apps) {
        B az = ops.allocate(nl);
        try {
            applyColumns(ops, z, az, nl, 0, nl, apps);
            return ops.residuals(z, az, nl, nl, values);
        } finally {
            ops.release(az);
        }
    }

    /**
     * Replaces the unlocked columns nc..p-1 of X by their Chebyshev filter of degree m on the
     * interval (e, c, top) = interval, every step deflated against the nl given locked vectors Z
     * and the nc converged columns, then orthonormalized (twice, deflating before each). The
     * filter works on blocks of {@link BlockOps#width} columns.
     */
    private static <B> void filter(BlockOps<B> ops, B x, int p, int nc, B z, int nl, int m, double[] interval,
            long[] apps) {
        int n = ops.rows();
        double e = interval[0];
        double c = interval[1];
        double top = interval[2];
        int nf = p - nc;
        int fw = ops.width(nf);
        long count = (long) n * fw;
        B y0 = ops.allocate(fw);
        B y1 = ops.allocate(fw);
        B y2 = ops.allocate(fw);
        try {
            ops.copyColumns(x, p, nc, y0, fw, 0, nf);
            double sigma1 = e / (top - c);
            double sigma = sigma1;
            ops.apply(y0, y1, fw);
            apps[0] += nf;
            ops.chebyshevStep(count, sigma1 / e, c, 0.0, null, y0, y1);
            deflate(ops, z, nl, x, p, nc, y1, fw, nf);
            for (int deg = 2; deg <= m; deg++) {
                double s2 = 1.0 / (2.0 / sigma1 - sigma);
                ops.apply(y1, y2, fw);
                apps[0] += nf;
                ops.chebyshevStep(count, 2.0 * s2 / e, c, sigma * s2, y0, y1, y2);
                deflate(ops, z, nl, x, p, nc, y2, fw, nf);
                B t = y0;
                y0 = y1;
                y1 = y2;
                y2 = t;
                sigma = s2;
            }
            deflate(ops, z, nl, x, p, nc, y1, fw, nf);
            ops.orthonormalize(y1, fw, nf);
            deflate(ops, z, nl, x, p, nc, y1, fw, nf);
            ops.orthonormalize(y1, fw, nf);
            ops.copyColumns(y1, fw, 0, x, p, nc, nf);
        } finally {
            ops.release(y0);
            ops.release(y1);
            ops.release(y2);
        }
    }

    /** Y (nf columns, leading dimension ld) deflated against the locked Z, then the nc converged columns of X. */
    private static <B> void deflate(BlockOps<B> ops, B z, int nl, B x, int p, int nc, B y, int ld, int nf) {
        if (z != null) {
            deflate(ops, z, nl, nl, y, ld, nf);
        }
        deflate(ops, x, p, nc, y, ld, nf);
    }

    /** Y[:, 0:nf] (leading dimension ld) -= X[:, 0:locked] (X[:, 0:locked]^T Y[:, 0:nf]). */
    private static <B> void deflate(BlockOps<B> ops, B x, int p, int locked, B y, int ld, int nf) {
        if (locked > 0) {
            double[] g = ops.gram(x, p, locked, y, ld, nf);
            ops.subMul(x, p, locked, g, y, ld, nf);
        }
    }

    /** AX[:, c0:c0+c] = op X[:, c0:c0+c], through blocks of {@link BlockOps#width}(c) columns. */
    private static <B> void applyColumns(BlockOps<B> ops, B m, B out, int p, int c0, int c, long[] apps) {
        int cw = ops.width(c);
        B in = ops.allocate(cw);
        B o = ops.allocate(cw);
        try {
            ops.copyColumns(m, p, c0, in, cw, 0, c);
            ops.apply(in, o, cw);
            ops.copyColumns(o, cw, 0, out, p, c0, c);
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
