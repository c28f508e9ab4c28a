package dev.cleave.graph;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.util.InvalidInputException;
import java.util.Locale;

/**
 * How {@link CnnUnitGraph} builds the unit graph of a CNN. Immutable, validated, round-trips to
 * JSON.
 *
 * @param norm  the norm of a kernel slice (default {@link SliceNorm#L1})
 * @param edges which units and edges: {@link Edges#UNITS} (default) every unit, the input
 *              channels included, and every edge between consecutive layers; {@link Edges#F21}
 *              the conv output channels with conv-to-conv edges only, as F21's CNN graph
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CnnGraphOptions(SliceNorm norm, Edges edges) {

    /** Which units and edges the graph keeps. */
    public enum Edges {
        /** Input channels, conv output channels and dense neurons; every edge between consecutive layers. */
        @JsonProperty("units") UNITS,
        /** F21's CNN graph: conv output channels only, conv-to-conv edges only (input and dense layers left out). */
        @JsonProperty("f21") F21;

        /** Parses "units" or "f21", any case. */
        public static Edges parse(String s) {
            if (s != null) {
                for (Edges e : values()) {
                    if (e.name().equalsIgnoreCase(s.trim())) {
                        return e;
                    }
                }
            }
            throw new InvalidInputException("CNN graph edges must be units or f21, got " + (s == null ? "nothing" : "'" + s + "'"));
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public CnnGraphOptions {
        if (norm == null) {
            throw new InvalidInputException("CNN graph slice norm must be l1, max-col-sum or l2, got null");
        }
        if (edges == null) {
            throw new InvalidInputException("CNN graph edges must be units or f21, got null");
        }
    }

    /** Every unit and edge, entrywise L1 norms. */
    public static CnnGraphOptions defaults() {
        return new CnnGraphOptions(SliceNorm.L1, Edges.UNITS);
    }

    /** F21's CNN graph as F21's code computed it: conv-to-conv edges, max-col-sum norms. */
    public static CnnGraphOptions f21() {
        return new CnnGraphOptions(SliceNorm.MAX_COL_SUM, Edges.F21);
    }

    public CnnGraphOptions withNorm(SliceNorm norm) {
        return new CnnGraphOptions(norm, edges);
    }

    public CnnGraphOptions withEdges(Edges edges) {
        return new CnnGraphOptions(norm, edges);
    }
}
