package dev.cleave.cluster;

import java.util.Arrays;

/**
 * The eigensolver stopped before every requested pair met the tolerance ({@link EigenResult#status()}
 * not SUCCESSFUL, raised by {@link EigenResult#requireConverged()}). Never a silently wrong
 * answer: the message names the iterations, the residuals and what to change, in terms of the
 * options the CLI offers (--tolerance, --k). The partial numbers are kept for diagnosis.
 */
public final class EigenNotConvergedException extends RuntimeException {
    private final int k;
    private final int converged;
    private final int iterations;
    private final long operatorApplications;
    private final double tolerance;
    private final double[] residuals;
    private final double[] eigenvalues;

    private final EigenStatus status;

    EigenNotConvergedException(String what, EigenStatus status, int k, int converged, int iterations,
            long operatorApplications, double tolerance, double[] residuals, double[] eigenvalues) {
        super(message(what, status, k, converged, iterations, operatorApplications, tolerance, residuals, eigenvalues));
        this.status = status;
        this.k = k;
        this.converged = converged;
        this.iterations = iterations;
        this.operatorApplications = operatorApplications;
        this.tolerance = tolerance;
        this.residuals = residuals.clone();
        this.eigenvalues = eigenvalues.clone();
    }

    private static String message(String what, EigenStatus status, int k, int converged, int iterations, long apps,
            double tol, double[] res, double[] values) {
        int worst = 0;
        for (int j = 1; j < res.length; j++) {
            if (!(res[j] <= res[worst])) {
                worst = j;
            }
        }
        String how = status == EigenStatus.NUMERICAL_ISSUE ? "stopped on a numerical issue (a NaN or infinite value)"
                : "did not converge";
        return String.format(java.util.Locale.ROOT,
                "%s %s: %d of %d eigenpairs reached residual <= %.1e after %d iterations (%d operator "
                        + "applications); worst residual %.2e (pair %d, Laplacian eigenvalue %.6f). Loosen the "
                        + "tolerance (--tolerance, now %.1e) or ask for fewer pairs (--k).",
                what, how, converged, k, tol, iterations, apps, res[worst], worst, values[worst], tol);
    }

    /** How the solve ended: NOT_CONVERGING or NUMERICAL_ISSUE. */
    public EigenStatus status() {
        return status;
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
