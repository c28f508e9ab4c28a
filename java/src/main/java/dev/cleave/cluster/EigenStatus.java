package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How an eigensolve ended (as Spectra's CompInfo): {@link #SUCCESSFUL} every requested pair met
 * the tolerance; {@link #NOT_CONVERGING} the iteration cap was reached first (the result holds
 * how many pairs converged, their residuals and the iterations); {@link #NUMERICAL_ISSUE} a Ritz
 * value or residual became NaN or infinite, and the iteration stopped.
 */
public enum EigenStatus {
    @JsonProperty("successful") SUCCESSFUL,
    @JsonProperty("not_converging") NOT_CONVERGING,
    @JsonProperty("numerical_issue") NUMERICAL_ISSUE;

    /** The status of k pairs of which {@code converged} met the tolerance, given the numbers seen. */
    static EigenStatus of(int k, int converged, double[] values, double[] residuals) {
        for (double v : values) {
            if (!Double.isFinite(v)) {
                return NUMERICAL_ISSUE;
            }
        }
        for (double r : residuals) {
            if (!Double.isFinite(r)) {
                return NUMERICAL_ISSUE;
            }
        }
        return converged >= k ? SUCCESSFUL : NOT_CONVERGING;
    }
}
