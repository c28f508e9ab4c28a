package dev.cleave.cluster;

/**
 * The block operations the Chebyshev-filtered subspace iteration ({@link ChebyshevEigensolver})
 * is written against, so its one driver serves every backend through one implementation of
 * this interface each: {@link HostBlocks} on Java arrays ({@link DenseMath}, the java backend),
 * {@link NativeBlocks} on off-heap memory (libcleave_cpu's block_* kernels, the cpu backend),
 * {@link DeviceBlocks} on device memory (the CUDA kernels block_*, spectral_op_apply). Blocks {@code B} hold {@link #rows()} rows,
 * row-major, with the leading dimension (columns per row) given at each call; small matrices
 * (Gram matrices, rotations, Ritz values, residual norms: at most p x p) are host arrays.
 */
interface BlockOps<B> {
    /** Rows of every block (the operator's dimension). */
    int rows();

    /**
     * The width (columns) of the blocks the driver filters and applies the operator to when it
     * works on {@code cols} vectors: cols, or (native) cols rounded up to the kernels' multiple
     * of 4. The padding columns start zero (see {@link #allocate}) and stay zero.
     */
    default int width(int cols) {
        return cols;
    }

    /** A new block holding a copy of {@code a} (rows x cols). */
    B upload(double[] a, int cols);

    /**
     * A new rows x cols block; its contents are unspecified until written, except that a backend
     * whose {@link #width} pads returns it zero-filled.
     */
    B allocate(int cols);

    /** Frees a block from {@link #upload} or {@link #allocate}. */
    void release(B b);

    /** The first {@code c} columns of {@code b} (leading dimension ld) as a host rows x c array. */
    double[] download(B b, int ld, int c);

    /** y = op x for cols vectors (both rows x cols, contiguous). */
    void apply(B x, B y, int cols);

    /** dst[i][d0 + j] = src[i][s0 + j] for j < c. */
    void copyColumns(B src, int lds, int s0, B dst, int ldd, int d0, int c);

    /** G (a x b) = X[:, 0:a]^T Y[:, 0:b]. */
    double[] gram(B x, int ldx, int a, B y, int ldy, int b);

    /** Y[:, 0:b] -= X[:, 0:a] G (G a x b). */
    void subMul(B x, int ldx, int a, double[] g, B y, int ldy, int b);

    /** X[:, 0:c] = X[:, 0:c] Q (Q c x c), in place. */
    void mulSquare(B x, int ld, int c, double[] q);

    /** ||AX[:, j] - theta_j X[:, j]|| for j < k (X and AX share ld). */
    double[] residuals(B x, B ax, int ld, int k, double[] theta);

    /** y2 = f (y2 - c y1) - g y0 over the first count values (y0 null: without the last term). */
    void chebyshevStep(long count, double f, double c, double g, B y0, B y1, B y2);

    /** Replaces the c columns of X by an orthonormal basis of their span. */
    void orthonormalize(B x, int ld, int c);
}
