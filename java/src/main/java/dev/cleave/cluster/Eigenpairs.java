package dev.cleave.cluster;

import java.util.Arrays;

/**
 * Eigenpairs of a symmetric operator, largest first, as an eigensolver returns them.
 *
 * @param values       Ritz values, descending (the whole block: at least k of them)
 * @param vectors      the k leading eigenvectors, dim x k row-major, unit length
 * @param residuals    ||A v_j - value_j v_j|| for j < k
 * @param iterations   outer iterations (0 for a dense solve)
 * @param applications operator applications to single vectors
 * @param converged    leading pairs that met their tolerance
 * @param status       how the solve ended: {@link EigenStatus#SUCCESSFUL} exactly when
 *                     {@code converged} covers every pair
 */
public record Eigenpairs(double[] values, double[] vectors, double[] residuals, int iterations, long applications,
        int converged, EigenStatus status) {
    public Eigenpairs {
        values = values.clone();
        vectors = vectors.clone();
        residuals = residuals.clone();
    }

    /** Pairs whose status follows from the numbers ({@link EigenStatus#of}). */
    public Eigenpairs(double[] values, double[] vectors, double[] residuals, int iterations, long applications,
            int converged) {
        this(values, vectors, residuals, iterations, applications, converged,
                EigenStatus.of(residuals.length, converged, values, residuals));
    }

    @Override
    public double[] values() {
        return values.clone();
    }

    @Override
    public double[] vectors() {
        return vectors.clone();
    }

    @Override
    public double[] residuals() {
        return residuals.clone();
    }

    /** Number of pairs (vectors) held. */
    public int k() {
        return residuals.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Eigenpairs e && Arrays.equals(e.values, values) && Arrays.equals(e.vectors, vectors)
                && Arrays.equals(e.residuals, residuals) && e.iterations == iterations
                && e.applications == applications && e.converged == converged && e.status == status;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Eigenpairs[k=" + k() + ", status=" + status + ", converged=" + converged + ", iterations=" + iterations + ", values="
                + Arrays.toString(Arrays.copyOf(values, k())) + "]";
    }
}
