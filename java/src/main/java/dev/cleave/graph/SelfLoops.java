package dev.cleave.graph;

/**
 * What a graph builder does with a diagonal entry (an edge from a node to itself). Graphs here
 * have no self loops: the normalized Laplacian, the n-cut and scikit-learn's spectral
 * clustering all ignore them, so the choice is only whether to say so.
 */
public enum SelfLoops {
    /** A self loop is an error naming the node (the default). */
    REJECT,
    /** Self loops are dropped, as scipy.sparse.csgraph.laplacian ignores the diagonal. */
    DROP
}
