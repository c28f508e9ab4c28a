package dev.cleave.cluster;

/** {@link BlockOps} on Java arrays over any {@link SymmetricOperator}: the reference. */
final class HostBlocks implements BlockOps<double[]> {
    private final SymmetricOperator op;
    private final int n;

    HostBlocks(SymmetricOperator op) {
        this.op = op;
        this.n = op.size();
    }

    @Override
    public int rows() {
        return n;
    }

    @Override
    public double[] upload(double[] a, int cols) {
        return a.clone();
    }

    @Override
    public double[] allocate(int cols) {
        return new double[n * cols];
    }

    @Override
    public void release(double[] b) {}

    @Override
    public double[] download(double[] b, int ld, int c) {
        double[] out = new double[n * c];
        copyColumns(b, ld, 0, out, c, 0, c);
        return out;
    }

    @Override
    public void apply(double[] x, double[] y, int cols) {
        op.apply(x, y, cols);
    }

    @Override
    public void copyColumns(double[] src, int lds, int s0, double[] dst, int ldd, int d0, int c) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(src, i * lds + s0, dst, i * ldd + d0, c);
        }
    }

    @Override
    public double[] gram(double[] x, int ldx, int a, double[] y, int ldy, int b) {
        return DenseMath.gram(n, x, ldx, a, y, ldy, b);
    }

    @Override
    public void subMul(double[] x, int ldx, int a, double[] g, double[] y, int ldy, int b) {
        DenseMath.subMul(n, x, ldx, a, g, y, ldy, b);
    }

    @Override
    public void mulSquare(double[] x, int ld, int c, double[] q) {
        DenseMath.mulSquare(n, x, ld, c, q);
    }

    @Override
    public double[] residuals(double[] x, double[] ax, int ld, int k, double[] theta) {
        return DenseMath.residuals(n, x, ax, ld, k, theta);
    }

    @Override
    public void chebyshevStep(long count, double f, double c, double g, double[] y0, double[] y1, double[] y2) {
        int m = Math.toIntExact(count);
        if (y0 == null) {
            for (int i = 0; i < m; i++) {
                y2[i] = f * (y2[i] - c * y1[i]);
            }
        } else {
            for (int i = 0; i < m; i++) {
                y2[i] = f * (y2[i] - c * y1[i]) - g * y0[i];
            }
        }
    }

    @Override
    public void orthonormalize(double[] x, int ld, int c) {
        DenseMath.orthonormalize(n, x, ld, c);
    }
}
