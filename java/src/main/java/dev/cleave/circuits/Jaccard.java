package dev.cleave.circuits;

import java.util.BitSet;
import java.util.List;

/**
 * Jaccard overlap |A ∩ B| / |A ∪ B| of sets held as bit sets: the disjointness measure for
 * per-label circuits (kept-weight masks) and for per-label important-cluster sets. 1 means the
 * same set, 0 disjoint; NaN when both sets are empty (nothing to compare).
 */
public final class Jaccard {
    private Jaccard() {}

    /** |a ∩ b| / |a ∪ b|, NaN when both are empty. */
    public static double of(BitSet a, BitSet b) {
        BitSet union = (BitSet) a.clone();
        union.or(b);
        if (union.isEmpty()) {
            return Double.NaN;
        }
        BitSet both = (BitSet) a.clone();
        both.and(b);
        return (double) both.cardinality() / union.cardinality();
    }

    /** The symmetric matrix of {@link #of} over every pair of {@code sets}. */
    public static double[][] matrix(List<BitSet> sets) {
        int n = sets.size();
        double[][] m = new double[n][n];
        for (int a = 0; a < n; a++) {
            for (int b = a; b < n; b++) {
                m[a][b] = m[b][a] = of(sets.get(a), sets.get(b));
            }
        }
        return m;
    }
}
