package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * How the eigenpairs are computed. {@link #ITERATIVE}: Chebyshev-filtered block subspace
 * iteration on the operator, never forming the matrix. {@link #DENSE}: forms the (dim x dim)
 * matrix and calls LAPACK dsyevr (the Java backend: Jacobi), for small problems; limited to
 * {@value LaplacianEigensolver#DENSE_LIMIT} rows. {@link #AUTO} (default): dense up to
 * {@value LaplacianEigensolver#AUTO_DENSE_MAX} rows, iterative above.
 */
public enum Solver {
    @JsonProperty("auto") AUTO,
    @JsonProperty("dense") DENSE,
    @JsonProperty("iterative") ITERATIVE;

    /** Parses "auto", "dense" or "iterative" (any case). */
    public static Solver parse(String s) {
        return Enums.parse(Solver.class, s, "solver");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
