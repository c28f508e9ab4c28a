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
        int n = op.size();
        long[] apps = {0};
        double[] x = x0.clone();
        DenseMath.orthonormalize(n, x, p, p);
        double[] ax = new double[n * p];
        applyColumns(op, x, ax, n, p, 0, p, apps);
        double[] theta = new double[p];
        double[] res = new double[k];
        int nc = 0;
        int it = 0;
        double[] interval = new double[3];
        for (;;) {
            double[] h = DenseMath.gram(n, x, p, p, ax, p, p);
            double[] q = DenseMath.symmetricEigen(h, p, theta);
            DenseMath.mulSquare(n, x, p, p, q);
            DenseMath.mulSquare(n, ax, p, p, q);
            res = DenseMath.residuals(n, x, ax, p, k, theta);
            nc = 0;
            while (nc < k && res[nc] <= pairTolerance(tol, sqrtScaled, theta[nc])) {
                nc++;
            }
            if (nc >= k || it >= maxIter) {
                break;
            }
            it++;
            int m = degree(it, theta, nc, lower, upper, maxDegree, amplification, interval);
            double e = interval[0];
            double c = interval[1];
            double top = interval[2];
            int nf = p - nc;
            double[] y0 = new double[n * nf];
            double[] y1 = new double[n * nf];
            double[] y2 = new double[n * nf];
            for (int i = 0; i < n; i++) {
                System.arraycopy(x, i * p + nc, y0, i * nf, nf);
            }
            final int locked = nc;
            java.util.function.Consumer<double[]> deflate = y -> {
                if (locked > 0) {
                    double[] g = DenseMath.gram(n, x, p, locked, y, nf, nf);
                    DenseMath.subMul(n, x, p, locked, g, y, nf, nf);
                }
            };
            double sigma1 = e / (top - c);
            double sigma = sigma1;
            op.apply(y0, y1, nf);
            apps[0] += nf;
            double f1 = sigma1 / e;
            for (int i = 0; i < y1.length; i++) {
                y1[i] = f1 * (y1[i] - c * y0[i]);
            }
            deflate.accept(y1);
            for (int deg = 2; deg <= m; deg++) {
                double s2 = 1.0 / (2.0 / sigma1 - sigma);
                op.apply(y1, y2, nf);
                apps[0] += nf;
                double f = 2.0 * s2 / e;
                double g = sigma * s2;
                for (int i = 0; i < y2.length; i++) {
                    y2[i] = f * (y2[i] - c * y1[i]) - g * y0[i];
                }
                deflate.accept(y2);
                double[] t = y0;
                y0 = y1;
                y1 = y2;
                y2 = t;
                sigma = s2;
            }
            deflate.accept(y1);
            DenseMath.orthonormalize(n, y1, nf, nf);
            deflate.accept(y1);
            DenseMath.orthonormalize(n, y1, nf, nf);
            for (int i = 0; i < n; i++) {
                System.arraycopy(y1, i * nf, x, i * p + nc, nf);
            }
            applyColumns(op, x, ax, n, p, nc, nf, apps);
        }
        double[] vectors = new double[n * k];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, i * p, vectors, i * k, k);
        }
        return new Eigenpairs(theta, vectors, res, it, apps[0], nc);
    }

    private static void applyColumns(SymmetricOperator op, double[] m, double[] out, int n, int p, int c0, int c,
            long[] apps) {
        double[] in = new double[n * c];
        double[] o = new double[n * c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(m, i * p + c0, in, i * c, c);
        }
        op.apply(in, o, c);
        for (int i = 0; i < n; i++) {
            System.arraycopy(o, i * c, out, i * p + c0, c);
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
