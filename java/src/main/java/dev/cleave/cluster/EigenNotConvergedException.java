package dev.cleave.cluster;

import java.util.Arrays;

/**
 * The eigensolver stopped before every requested pair met the tolerance. Never a silently wrong
 * answer: the message names the iterations, the residuals and what to change. The partial
 * numbers are kept for diagnosis.
 */
public final class EigenNotConvergedException extends RuntimeException {
    private final int k;
    private final int converged;
    private final int iterations;
    private final long operatorApplications;
    private final double tolerance;
    private final double[] residuals;
    private final double[] eigenvalues;

    EigenNotConvergedException(String what, int k, int converged, int iterations, long operatorApplications,
            double tolerance, int maxIterations, double[] residuals, double[] eigenvalues, String hint) {
        super(message(what, k, converged, iterations, operatorApplications, tolerance, maxIterations, residuals,
                eigenvalues, hint));
        this.k = k;
        this.converged = converged;
        this.iterations = iterations;
        this.operatorApplications = operatorApplications;
        this.tolerance = tolerance;
        this.residuals = residuals.clone();
        this.eigenvalues = eigenvalues.clone();
    }

    private static String message(String what, int k, int converged, int iterations, long apps, double tol, int maxIter,
            double[] res, double[] values, String hint) {
        int worst = 0;
        for (int j = 1; j < res.length; j++) {
            if (res[j] > res[worst]) {
                worst = j;
            }
        }
        return String.format(java.util.Locale.ROOT,
                "%s did not converge: %d of %d eigenpairs reached residual <= %.1e after %d iterations (%d operator "
                        + "applications); worst residual %.2e (pair %d, Laplacian eigenvalue %.6f). %s",
                what, converged, k, tol, iterations, apps, res[worst], worst, values[worst],
                hint != null ? hint : "Raise maxIterations (now " + maxIter + ") or loosen the tolerance, or use solver "
                        + "'dense' for problems up to " + LaplacianEigensolver.DENSE_LIMIT + " rows.");
    }

    /** Pairs requested. */
    public int k() {
        return k;
    }

    /** Leading pairs that met the tolerance. */
    public int converged() {
        return converged;
    }

    public int iterations() {
        return iterations;
    }

    public long operatorApplications() {
        return operatorApplications;
    }

    public double tolerance() {
        return tolerance;
    }

    /** Residual norm of each pair (of N), as far as it got. */
    public double[] residuals() {
        return residuals.clone();
    }

    /** Laplacian eigenvalue estimates of each pair, as far as it got. */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + ": " + getMessage() + " residuals=" + Arrays.toString(residuals);
    }
}
