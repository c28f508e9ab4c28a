package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * How co-clusters are formed from the spectral embedding of a weight matrix.
 * {@link #JOINT} (default, Dhillon 2001): row and column embeddings stacked, one k-means;
 * cluster c is the rows and the columns labelled c. {@link #SEPARATE}: the G24 code's way, two
 * independent k-means (rows, columns), so row cluster c and column cluster c are paired
 * arbitrarily (by canonical order); offered only for compatibility.
 */
public enum CoClusterVariant {
    @JsonProperty("joint") JOINT,
    @JsonProperty("separate") SEPARATE;

    public static CoClusterVariant parse(String s) {
        return Enums.parse(CoClusterVariant.class, s, "co-clustering variant");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
