package dev.cleave.cluster;

/**
 * Small dense linear algebra for the Java reference: row-major blocks, double precision,
 * written for clarity (it checks the native engine; it is not the fast path).
 */
final class DenseMath {
    private DenseMath() {}

    /** G (a x b) = X[:, 0:a]^T Y[:, 0:b]; X has leading dimension ldx, Y ldy, n rows. */
    static double[] gram(int n, double[] x, int ldx, int a, double[] y, int ldy, int b) {
        double[] g = new double[a * b];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < a; r++) {
                double xr = x[i * ldx + r];
                for (int s = 0; s < b; s++) {
                    g[r * b + s] += xr * y[i * ldy + s];
                }
            }
        }
        return g;
    }

    /** Y[:, 0:b] -= X[:, 0:a] G (G a x b). */
    static void subMul(int n, double[] x, int ldx, int a, double[] g, double[] y, int ldy, int b) {
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < a; r++) {
                double xr = x[i * ldx + r];
                for (int s = 0; s < b; s++) {
                    y[i * ldy + s] -= xr * g[r * b + s];
                }
            }
        }
    }

    /**
     * ||AX[:, j] - mu_j X[:, j]|| for j < k, where X and AX are n x ld row-major (the first k
     * columns are used): the residual norms every eigen-solve reports.
     */
    static double[] residuals(int n, double[] x, double[] ax, int ld, int k, double[] mu) {
        double[] res = new double[k];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double r = ax[i * ld + j] - mu[j] * x[i * ld + j];
                res[j] += r * r;
            }
        }
        for (int j = 0; j < k; j++) {
            res[j] = Math.sqrt(res[j]);
        }
        return res;
    }

    /** X[:, 0:c] = X[:, 0:c] Q (Q c x c), in place. */
    static void mulSquare(int n, double[] x, int ldx, int c, double[] q) {
        double[] row = new double[c];
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(row, 0.0);
            for (int r = 0; r < c; r++) {
                double xr = x[i * ldx + r];
                for (int s = 0; s < c; s++) {
                    row[s] += xr * q[r * c + s];
                }
            }
            System.arraycopy(row, 0, x, i * ldx, c);
        }
    }

    /**
     * Replaces the c columns of X (n x c, leading dimension ldx) by an orthonormal basis of
     * their span (Householder QR, Q formed explicitly). Rank-deficient blocks still get
     * orthonormal columns.
     */
    static void orthonormalize(int n, double[] x, int ldx, int c) {
        double[] v = new double[n * c];
        double[] tau = new double[c];
        for (int j = 0; j < c; j++) {
            double norm2 = 0.0;
            for (int i = j; i < n; i++) {
                norm2 += x[i * ldx + j] * x[i * ldx + j];
            }
            double norm = Math.sqrt(norm2);
            double xjj = x[j * ldx + j];
            if (norm == 0.0) {
                tau[j] = 0.0;
                continue;
            }
            double alpha = xjj >= 0 ? -norm : norm;
            double vnorm2 = norm2 - xjj * xjj + (xjj - alpha) * (xjj - alpha);
            for (int i = j; i < n; i++) {
                v[i * c + j] = x[i * ldx + j];
            }
            v[j * c + j] = xjj - alpha;
            tau[j] = vnorm2 > 0 ? 2.0 / vnorm2 : 0.0;
            reflect(n, x, ldx, c, v, j, tau[j]);
        }
        // Q = H_0 H_1 ... H_{c-1} [I; 0], applied from the last reflector back.
        for (int i = 0; i < n; i++) {
            for (int col = 0; col < c; col++) {
                x[i * ldx + col] = i == col ? 1.0 : 0.0;
            }
        }
        for (int j = c - 1; j >= 0; j--) {
            if (tau[j] != 0.0) {
                reflect(n, x, ldx, c, v, j, tau[j]);
            }
        }
    }

    // Columns j..c-1 of X (rows j..n-1) -= tau v (v^T X), v = column j of the reflector store.
    private static void reflect(int n, double[] x, int ldx, int c, double[] v, int j, double tau) {
        for (int col = j; col < c; col++) {
            double w = 0.0;
            for (int i = j; i < n; i++) {
                w += v[i * c + j] * x[i * ldx + col];
            }
            w *= tau;
            for (int i = j; i < n; i++) {
                x[i * ldx + col] -= w * v[i * c + j];
            }
        }
    }

    /**
     * Eigen-decomposition of a symmetric n x n matrix (row-major; only read) by cyclic Jacobi
     * rotations. Returns eigenvalues descending in {@code values} and the matching unit
     * eigenvectors as the columns of the returned n x n row-major matrix.
     */
    static double[] symmetricEigen(double[] a0, int n, double[] values) {
        double[] a = a0.clone();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double m = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = m;
                a[j * n + i] = m;
            }
        }
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1.0;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0.0;
            double diag = 0.0;
            for (int i = 0; i < n; i++) {
                diag += a[i * n + i] * a[i * n + i];
                for (int j = i + 1; j < n; j++) {
                    off += a[i * n + j] * a[i * n + j];
                }
            }
            if (off <= 1e-32 * (diag + off) || off == 0.0) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p * n + q];
                    if (apq == 0.0) {
                        continue;
                    }
                    double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1.0));
                    if (theta == 0.0) {
                        t = 1.0;
                    }
                    double c = 1.0 / Math.sqrt(t * t + 1.0);
                    double s = t * c;
                    for (int r = 0; r < n; r++) { // columns p, q
                        double arp = a[r * n + p];
                        double arq = a[r * n + q];
                        a[r * n + p] = c * arp - s * arq;
                        a[r * n + q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < n; r++) { // rows p, q
                        double apr = a[p * n + r];
                        double aqr = a[q * n + r];
                        a[p * n + r] = c * apr - s * aqr;
                        a[q * n + r] = s * apr + c * aqr;
                    }
                    for (int r = 0; r < n; r++) {
                        double vrp = v[r * n + p];
                        double vrq = v[r * n + q];
                        v[r * n + p] = c * vrp - s * vrq;
                        v[r * n + q] = s * vrp + c * vrq;
                    }
                }
            }
        }
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        final double[] d = a;
        java.util.Arrays.sort(idx, (x, y) -> Double.compare(d[y * n + y], d[x * n + x]));
        double[] out = new double[n * n];
        for (int j = 0; j < n; j++) {
            values[j] = a[idx[j] * n + idx[j]];
            for (int i = 0; i < n; i++) {
                out[i * n + j] = v[i * n + idx[j]];
            }
        }
        return out;
    }

    /**
     * Cholesky G = R^T R in place (c x c row-major; R upper, the lower part zeroed), as
     * native/src/spectral_eigs.cpp computes it. False when G is not numerically positive definite.
     */
    static boolean cholesky(double[] g, int c) {
        for (int j = 0; j < c; j++) {
            double d = g[j * c + j];
            for (int i = 0; i < j; i++) {
                d -= g[i * c + j] * g[i * c + j];
            }
            if (!(d > 0.0) || !Double.isFinite(d)) {
                return false;
            }
            double r = Math.sqrt(d);
            g[j * c + j] = r;
            for (int l = j + 1; l < c; l++) {
                double s = g[j * c + l];
                for (int i = 0; i < j; i++) {
                    s -= g[i * c + j] * g[i * c + l];
                }
                g[j * c + l] = s / r;
            }
            for (int l = 0; l < j; l++) {
                g[j * c + l] = 0.0;
            }
        }
        return true;
    }

    /** R^-1 of an upper triangular c x c matrix R with a positive diagonal (row-major). */
    static double[] invertUpper(double[] r, int c) {
        double[] inv = new double[c * c];
        for (int col = 0; col < c; col++) { // solve R z = e_col, back substitution
            for (int i = col; i >= 0; i--) {
                double s = i == col ? 1.0 : 0.0;
                for (int l = i + 1; l <= col; l++) {
                    s -= r[i * c + l] * inv[l * c + col];
                }
                inv[i * c + col] = s / r[i * c + i];
            }
        }
        return inv;
    }
}
