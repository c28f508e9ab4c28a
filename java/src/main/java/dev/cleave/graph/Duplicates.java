package dev.cleave.graph;

import dev.cleave.util.InvalidInputException;
import java.util.Locale;

/**
 * What a graph builder does with an entry (i, j) given more than once. SciPy (a COO matrix
 * turned into CSR, {@code scipy.io.mmread}) and networkx add such entries up; {@link #SUM} does
 * the same, in the order they were given, in double precision, rounded to float once.
 */
public enum Duplicates {
    /** Entries at the same position are added: one edge with the total weight. */
    SUM,
    /** A repeated entry is an error naming both places. */
    REJECT;

    /**
     * The policy a command-line word names ("sum" or "reject", any case).
     *
     * @param option the option the word came from, for the message (e.g. "--duplicates")
     */
    public static Duplicates parse(String word, String option) {
        for (Duplicates d : values()) {
            if (d.toString().equals(word == null ? null : word.trim().toLowerCase(Locale.ROOT))) {
                return d;
            }
        }
        throw new InvalidInputException(option + " must be sum or reject, got '" + word + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
