package dev.cleave.graph;

import dev.cleave.util.InvalidInputException;
import java.util.Locale;

/**
 * What a graph builder does with a diagonal entry (an edge from a node to itself). Graphs here
 * have no self loops: scipy.sparse.csgraph.laplacian leaves the diagonal out of the degrees and
 * of the Laplacian, and scikit-learn's spectral embedding is built on it, so dropping a self loop
 * gives their normalized Laplacian. Keeping one (adding its weight to the node's degree) would
 * give a different operator, so it is not offered; the choice is only whether to say so.
 */
public enum SelfLoops {
    /** A self loop is an error naming the node and the line. */
    REJECT,
    /** Self loops are dropped, as scipy.sparse.csgraph.laplacian ignores the diagonal. */
    DROP;

    /**
     * The policy a command-line word names ("drop" or "reject", any case).
     *
     * @param option the option the word came from, for the message (e.g. "--self-loops")
     */
    public static SelfLoops parse(String word, String option) {
        for (SelfLoops s : values()) {
            if (s.toString().equals(word == null ? null : word.trim().toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new InvalidInputException(option + " must be drop or reject, got '" + word + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
