package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Arrays;

/**
 * The k smallest eigenpairs of a graph's normalized Laplacian L = I - D^-1/2 A D^-1/2.
 *
 * @param nodes                rows of each eigenvector (the graph's nodes, in its order)
 * @param k                    pairs
 * @param eigenvalues          of L, ascending (the first is 0 for every connected component)
 * @param eigenvectors         nodes x k, row-major; column j is the unit eigenvector of
 *                             eigenvalue j, its sign fixed so its largest-magnitude entry is
 *                             positive
 * @param residuals            ||N v_j - mu_j v_j|| with N = I - L, mu_j = 1 - eigenvalue j,
 *                             computed from the operator after the solve (relative to ||N|| = 1)
 * @param iterations           outer iterations of the iterative solver (0 for dense)
 * @param operatorApplications applications of the operator to single vectors
 * @param converged            pairs whose residual met the tolerance (k exactly when status is
 *                             {@link EigenStatus#SUCCESSFUL})
 * @param status               how the solve ended; {@link #requireConverged()} turns anything
 *                             but SUCCESSFUL into an {@link EigenNotConvergedException}
 * @param method               "dense", "chebyshev", "chebyshev-deflated" (a graph of several
 *                             connected components: their known null-space vectors locked, the
 *                             rest iterated) or "components" (at least k components: the k
 *                             largest by volume give the pairs, no iteration), with "-bipartite"
 *                             when the graph was solved through its bipartite half operator
 *                             (squared singular values of the cross block, then lifted)
 * @param tolerance            the tolerance the residuals were held to
 * @param seconds              wall time of the solve
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EigenResult(int nodes, int k, double[] eigenvalues, double[] eigenvectors, double[] residuals,
        int iterations, long operatorApplications, int converged, EigenStatus status, String method, double tolerance,
        double seconds) {
    public EigenResult {
        eigenvalues = eigenvalues.clone();
        eigenvectors = eigenvectors.clone();
        residuals = residuals.clone();
    }

    @Override
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    @Override
    public double[] eigenvectors() {
        return eigenvectors.clone();
    }

    @Override
    public double[] residuals() {
        return residuals.clone();
    }

    /** Eigenvector j as a column (length nodes). */
    public double[] eigenvector(int j) {
        double[] v = new double[nodes];
        for (int i = 0; i < nodes; i++) {
            v[i] = eigenvectors[i * k + j];
        }
        return v;
    }

    /**
     * This result if every pair converged ({@link EigenStatus#SUCCESSFUL}); otherwise an
     * {@link EigenNotConvergedException} with the converged count, the residuals and the
     * iterations (the CLI's exit 4).
     */
    public EigenResult requireConverged() {
        if (status == EigenStatus.SUCCESSFUL) {
            return this;
        }
        throw new EigenNotConvergedException("eigensolver (" + method + ")", status, k, converged, iterations,
                operatorApplications, tolerance, residuals, eigenvalues);
    }

    /** Largest residual. */
    public double maxResidual() {
        return Arrays.stream(residuals).max().orElse(0.0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EigenResult r && r.nodes == nodes && r.k == k && Arrays.equals(r.eigenvalues, eigenvalues)
                && Arrays.equals(r.eigenvectors, eigenvectors) && Arrays.equals(r.residuals, residuals)
                && r.iterations == iterations && r.operatorApplications == operatorApplications
                && r.converged == converged && r.status == status && r.method.equals(method) && Double.compare(r.tolerance, tolerance) == 0
                && Double.compare(r.seconds, seconds) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(eigenvalues) * 31 + nodes;
    }

    @Override
    public String toString() {
        return "EigenResult[nodes=" + nodes + ", k=" + k + ", status=" + status + ", method=" + method + ", eigenvalues="
                + Arrays.toString(eigenvalues) + ", maxResidual=" + maxResidual() + ", iterations=" + iterations + "]";
    }
}
