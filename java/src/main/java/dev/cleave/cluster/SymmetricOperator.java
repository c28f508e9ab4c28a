package dev.cleave.cluster;

/**
 * A symmetric linear operator applied to a block of vectors: y = A x. The eigensolvers take one
 * of these and never need the matrix itself.
 *
 * <p>Blocks are row-major: {@code x[i * cols + j]} is entry i of vector j, for {@code size()}
 * rows and {@code cols} vectors. Implementations must write every entry of y, must not keep or
 * modify x, and must be symmetric (x'Ay = y'Ax) for the eigensolver's answers to mean anything.
 */
public interface SymmetricOperator {
    /** Dimension n of the operator. */
    int size();

    /** y = A x for {@code cols} vectors; x and y are size() x cols, row-major. */
    void apply(double[] x, double[] y, int cols);
}
