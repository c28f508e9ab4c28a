package dev.cleave.cluster;

import java.util.Arrays;

/** The Java reference of native/src/spectral_op.cpp: the same operator, plain loops, double. */
final class JavaOperator extends GraphOperatorHandle {
    private final java.util.List<Directed> pieces = new java.util.ArrayList<>();

    /** One directed block: a piece, or (transposed) the mirror of a dense piece. */
    private record Directed(GraphOperator.Piece p, boolean transposed) {
        int dst() {
            return transposed ? p.src() : p.dst();
        }

        int src() {
            return transposed ? p.dst() : p.src();
        }

        int rows() {
            return transposed ? p.cols() : p.rows();
        }

        int cols() {
            return transposed ? p.rows() : p.cols();
        }
    }

    JavaOperator(GraphOperator g) {
        super(g);
        for (GraphOperator.Piece p : g.pieces) {
            pieces.add(new Directed(p, false));
            if (p.isDense() && p.mirror()) {
                pieces.add(new Directed(p, true));
            }
        }
    }

    @Override
    public void apply(int which, double[] x, double[] y, int c) {
        int n = g.n;
        int s = g.half;
        double[] sc = g.scale;
        if (which == N) {
            double[] t = new double[n * c];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    t[i * c + j] = sc[i] * x[i * c + j];
                }
            }
            Arrays.fill(y, 0, n * c, 0.0);
            for (Directed p : pieces) {
                addPiece(p, t, 0, y, 0, c);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    y[i * c + j] *= sc[i];
                }
            }
        } else {
            double[] t = new double[s * c];
            for (int i = 0; i < s; i++) {
                for (int j = 0; j < c; j++) {
                    t[i * c + j] = sc[i] * x[i * c + j];
                }
            }
            double[] u = new double[(n - s) * c];
            for (Directed p : pieces) {
                if (p.src() < s && p.dst() >= s) {
                    addPiece(p, t, 0, u, s, c);
                }
            }
            for (int i = 0; i < n - s; i++) {
                double f = sc[s + i] * sc[s + i];
                for (int j = 0; j < c; j++) {
                    u[i * c + j] *= f;
                }
            }
            Arrays.fill(y, 0, s * c, 0.0);
            for (Directed p : pieces) {
                if (p.src() >= s && p.dst() < s) {
                    addPiece(p, u, s, y, 0, c);
                }
            }
            for (int i = 0; i < s; i++) {
                for (int j = 0; j < c; j++) {
                    y[i * c + j] *= sc[i];
                }
            }
        }
    }

    // y[(p.dst - yoff + i)] += sum_j A_ij x[(p.src - xoff + j)], rows of c values.
    private static void addPiece(Directed d, double[] x, int xoff, double[] y, int yoff, int c) {
        GraphOperator.Piece p = d.p();
        int rows = d.rows();
        int cols = d.cols();
        for (int i = 0; i < rows; i++) {
            int yr = (d.dst() - yoff + i) * c;
            if (p.isDense()) {
                float[] a = p.dense();
                for (int j = 0; j < cols; j++) {
                    double v = d.transposed() ? a[j * rows + i] : a[i * cols + j];
                    if (v != 0.0) {
                        int xr = (d.src() - xoff + j) * c;
                        for (int q = 0; q < c; q++) {
                            y[yr + q] += v * x[xr + q];
                        }
                    }
                }
            } else {
                for (long e = p.offsets()[i]; e < p.offsets()[i + 1]; e++) {
                    double v = p.weights()[(int) e];
                    int xr = (d.src() - xoff + p.columns()[(int) e]) * c;
                    for (int q = 0; q < c; q++) {
                        y[yr + q] += v * x[xr + q];
                    }
                }
            }
        }
    }

    @Override
    public Eigenpairs eigs(int which, int k, int p, double lower, double upper, double tol, boolean sqrtScaled,
            int maxIter, int maxDegree, double amplification, double[] x0, double[] locked, double[] lockedValues) {
        return ChebyshevEigensolver.largest(new HostBlocks(operator(which)), k, p, lower, upper, tol, sqrtScaled, maxIter,
                maxDegree, amplification, x0, locked, lockedValues);
    }

    @Override
    public Eigenpairs dense(int which, int k) {
        return ChebyshevEigensolver.dense(operator(which), k);
    }

    @Override
    public void close() {}
}
